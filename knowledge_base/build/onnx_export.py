"""Exporting the encoder to ONNX (fused, optionally int8) and caching the exports; run by :mod:`..onnx_encoder`.

The export is checked against the torch model on sample texts and is refused when they disagree
(remembered in the cache as ``*.refused``); the ``auto`` encoder then falls back from int8 to the exact
export, and from that to torch.
"""

from __future__ import annotations

import json
import os
import shutil
import tempfile
import warnings
from pathlib import Path

from core.env import Env

from ..onnx_encoder import META_FILE, ONNX_FILE, TOKENIZER_FILE, OnnxEncoder
from ..types import FAQError

OPSET = 17
# fp32 ONNX reproduces torch to rounding error; int8 moves vectors by about 1 % (measured in bench/).
MIN_COSINE = {"fp32": 0.9999, "int8": 0.95}


def cache_root() -> Path:
    """Where exported encoders are kept between builds (one per model and variant)."""
    env = Env()
    configured = env.text("KB_ENCODER_CACHE")
    if configured:
        return Path(configured)
    base = env.text("XDG_CACHE_HOME") or str(Path.home() / ".cache")
    return Path(base) / "nordnet-kb" / "encoders"


def weights_digest(model_dir: Path) -> str:
    """A hash of the model's files (weights included), so a fine-tuned copy never reuses a stale export."""
    from ..encoder import files_digest

    return files_digest(Path(model_dir))[:16]


def exported_encoder(model_dir, variant: str = "fp32", sample_texts: list[str] | None = None) -> Path:
    """A folder with the ONNX encoder for ``model_dir`` (exported once, then taken from the cache)."""
    model_dir = Path(model_dir)
    folder = cache_root() / f"{model_dir.name}-{weights_digest(model_dir)}-{variant}"
    if (folder / META_FILE).is_file():
        return folder
    refused = folder.with_name(folder.name + ".refused")  # an export that failed its check, and why
    if refused.is_file():
        raise FAQError(refused.read_text(encoding="utf-8"))
    folder.parent.mkdir(parents=True, exist_ok=True)
    staging = Path(tempfile.mkdtemp(prefix=f".{folder.name}.", dir=folder.parent))
    try:
        export(model_dir, staging, variant=variant, sample_texts=sample_texts)
        os.chmod(staging, 0o755)
        try:
            staging.rename(folder)
        except OSError:  # another process exported it meanwhile
            shutil.rmtree(staging, ignore_errors=True)
    except FAQError as exc:  # e.g. int8 weights that move this model's vectors too far: not tried again
        shutil.rmtree(staging, ignore_errors=True)
        refused.write_text(str(exc), encoding="utf-8")
        raise
    except BaseException:
        shutil.rmtree(staging, ignore_errors=True)
        raise
    return folder


def _export_raw(model, folder: Path) -> Path:
    """Trace the model, with its embedding normalised, to ``folder``/raw.onnx (created if missing); returns that path."""
    import torch

    class Sentence(torch.nn.Module):
        def __init__(self, inner):
            super().__init__()
            self.inner = inner

        def forward(self, input_ids, attention_mask):
            features = {
                "input_ids": input_ids,
                "attention_mask": attention_mask,
                "token_type_ids": torch.zeros_like(input_ids),
            }
            vector = self.inner(features)["sentence_embedding"]
            return torch.nn.functional.normalize(vector, dim=-1)

    folder.mkdir(parents=True, exist_ok=True)
    example = model.tokenizer(["an example question for the export", "and a second"], padding=True, return_tensors="pt")
    raw = folder / "raw.onnx"
    with warnings.catch_warnings(), torch.no_grad():
        warnings.simplefilter("ignore")
        torch.onnx.export(
            Sentence(model).eval(),
            (example["input_ids"], example["attention_mask"]),
            str(raw),
            input_names=["input_ids", "attention_mask"],
            output_names=["embedding"],
            dynamic_axes={
                "input_ids": {0: "batch", 1: "tokens"},
                "attention_mask": {0: "batch", 1: "tokens"},
                "embedding": {0: "batch"},
            },
            opset_version=OPSET,
            dynamo=False,
        )
    return raw


def export(model_dir: Path, folder: Path, variant: str = "fp32", sample_texts: list[str] | None = None) -> dict:
    """Export the model (transformer, pooling, dense layers, normalisation) to ``folder``; returns its metadata."""
    from ..encoder import load_model

    if variant not in MIN_COSINE:
        raise FAQError(f"unknown encoder variant {variant!r}; use one of {', '.join(MIN_COSINE)}")
    model = load_model(str(model_dir))
    tokenizer_file = Path(model_dir) / TOKENIZER_FILE
    if not tokenizer_file.is_file():
        raise FAQError(f"{model_dir}: no {TOKENIZER_FILE} (fast tokenizer); the ONNX encoder needs one")
    raw = _export_raw(model, folder)
    fused = _fuse(raw, folder / "fused.onnx", model)
    target = folder / ONNX_FILE
    if variant == "int8":
        from onnxruntime.quantization import QuantType, quantize_dynamic

        quantize_dynamic(
            str(fused), str(target), weight_type=QuantType.QUInt8, extra_options={"DefaultTensorType": 1}
        )  # 1 = float: fused ops defeat shape inference
    else:
        shutil.copyfile(fused, target)
    for leftover in {raw, fused} - {target}:
        leftover.unlink(missing_ok=True)
    shutil.copyfile(tokenizer_file, folder / TOKENIZER_FILE)
    meta = {
        "variant": variant,
        "max_seq_length": int(model.get_max_seq_length() or 512),
        "dims": int(_dimension(model)),
        "opset": OPSET,
    }
    (folder / META_FILE).write_text(json.dumps(meta), encoding="utf-8")
    meta["agreement"] = _agreement(model, model_dir, folder, variant, sample_texts)
    (folder / META_FILE).write_text(json.dumps(meta), encoding="utf-8")
    return meta


def _agreement(model, model_dir, folder: Path, variant: str, sample_texts: list[str] | None) -> float:
    """The export checked against the torch model: a model the export gets wrong must not be used."""
    import numpy as np

    texts = list(sample_texts or [])[:32] or [
        "How do I change my delivery address?",
        "Wie kündige ich meinen Vertrag?",
        "my card was charged twice for the same order",
    ]
    reference = model.encode(texts, normalize_embeddings=True, convert_to_numpy=True)
    got = OnnxEncoder(folder, threads=2)(texts)
    agreement = float(np.min(np.sum(reference * got, axis=1)))
    if agreement < MIN_COSINE[variant]:
        instead = "--encoder onnx runs the exact export" if variant == "int8" else "build with --encoder torch"
        raise FAQError(
            f"{model_dir}: the {variant} ONNX export disagrees with the model (cosine {agreement:.4f} < "
            f"{MIN_COSINE[variant]}); {instead}"
        )
    return round(agreement, 6)


def _dimension(model) -> int:
    method = getattr(model, "get_embedding_dimension", None) or model.get_sentence_embedding_dimension
    return method()


def _fuse(raw: Path, out: Path, model) -> Path:
    """onnxruntime's transformer fusions (attention, skip-LayerNorm, GELU) where the architecture allows."""
    config = getattr(model[0], "auto_model", None)
    config = getattr(config, "config", None)
    kinds = {"bert": "bert", "roberta": "bert", "xlm-roberta": "bert", "distilbert": "bert", "mpnet": "bert"}
    kind = kinds.get(getattr(config, "model_type", ""), None)
    if kind is None:
        return raw
    try:
        from onnxruntime.transformers import optimizer

        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            optimised = optimizer.optimize_model(
                str(raw),
                model_type=kind,
                num_heads=int(config.num_attention_heads),
                hidden_size=int(config.hidden_size),
                opt_level=1,
            )
            optimised.save_model_to_file(str(out))
    except Exception:  # noqa: BLE001 - fusions are an optimisation; the plain export is still right
        return raw
    return out
