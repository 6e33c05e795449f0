"""Building the index directory from FAQ entries (encode, train the extras, write atomically)."""

from __future__ import annotations

import json
import os
import shutil
import tempfile
import time
import uuid
from pathlib import Path

from ..index import ENCODER_DIR, FORMAT_VERSION, TUNED_MODEL_DIR, index_rows
from ..types import Entry, FAQError

METRIC = "cosine (inner product on L2-normalised vectors)"
ENCODE_BATCH = 256
# Exact search is fast enough below this many vectors (see bench/kb_speed.py); above it an IVF index
# trades a little recall for speed.
ANN_MIN_ROWS = 200_000
ANN_NPROBE = 16


def encode_texts(encode, texts: list[str], progress: bool = False, desc: str = "encoding"):
    """Encode in batches (so a progress bar can move) and check the vectors are normalised float32."""
    import numpy as np
    from tqdm import tqdm

    chunks = []
    with tqdm(total=len(texts), desc=desc, unit="text", disable=not progress) as bar:
        for start in range(0, len(texts), ENCODE_BATCH):
            batch = texts[start : start + ENCODE_BATCH]
            chunks.append(np.asarray(encode(batch), dtype=np.float32))
            bar.update(len(batch))
    vectors = np.concatenate(chunks) if chunks else np.zeros((0, 0), dtype=np.float32)
    norms = np.linalg.norm(vectors, axis=1) if len(vectors) else np.ones(0)
    if len(vectors) and not np.allclose(norms, 1.0, atol=1e-3):
        raise FAQError("the encode function must return L2-normalised vectors (cosine = inner product)")
    return np.ascontiguousarray(vectors)


def encoder_for(settings):
    """The encode function a build (and ``eval``) runs: ``settings.model`` (KB_MODEL) on ``settings.encoder``
    (KB_ENCODER: ``auto``, ``onnx``, ``onnx-int8`` or ``torch``)."""
    from ..encoder import make_encoder

    runtime, _, variant = settings.encoder.partition("-")
    # auto: int8 ONNX, which keeps a query under 10 ms on a busy 2-core machine at no measured accuracy
    # cost (bench/README.md); `--encoder onnx` gives the model's exact vectors.
    return make_encoder(settings.model, runtime=runtime, variant=variant or ("int8" if runtime == "auto" else "fp32"))


def build_index(
    entries: list[Entry],
    index_dir,
    encode=None,
    progress: bool = True,
    sources: dict[str, str] | None = None,
    options: dict | None = None,
) -> dict:
    """Encode ``entries`` and write the index with its manifest to ``index_dir`` (atomically replaced).

    ``encode`` maps a list of texts to normalised float32 vectors; it defaults to the packaged model.
    ``sources`` are the source checksums recorded in the manifest. ``options["fine_tune"]``: ``"auto"`` (the
    default: tune the packaged encoder on a large FAQ, :func:`.finetune.wanted_by_default`), true or a dict of
    :func:`.finetune.fine_tune` arguments (tune), false (never). Returns the manifest.
    """
    if encode is None:
        from ..encoder import make_encoder

        encode = make_encoder()
    if not entries:
        raise FAQError("no FAQ entries to index")
    from ..e5 import for_languages

    encode = for_languages(encode, {e.language for e in entries})  # an English FAQ: the default's MiniLM half
    started = time.time()
    options = options or {}
    index_dir = Path(index_dir)
    index_dir.parent.mkdir(parents=True, exist_ok=True)
    if options.get("fine_tune", "auto") == "auto":  # default builds tune the packaged encoder for large FAQs
        from .finetune import wanted_by_default

        options = {**options, "fine_tune": {"by_default": True} if wanted_by_default(entries, encode) else False}
    tuning = None
    if options.get("fine_tune"):
        tuning = Path(tempfile.mkdtemp(prefix=f".{index_dir.name}.tune-", dir=index_dir.parent))
    try:
        return _build(entries, index_dir, encode, progress, sources, options, started, tuning)
    finally:
        if tuning is not None:
            shutil.rmtree(tuning, ignore_errors=True)


def _build(entries, index_dir: Path, encode, progress, sources, options, started, tuning) -> dict:
    from . import training

    fine_tuned = None
    if tuning is not None:
        encode, fine_tuned = _fine_tuned_encoder(entries, encode, tuning, options, progress)
    rows = index_rows(entries)
    vectors = encode_texts(encode, [r.text for r in rows], progress=progress)
    extras = training.train(entries, rows, vectors, encode=encode, progress=progress, options=options)
    ann = None
    if len(rows) >= options.get("ann_min_rows", ANN_MIN_ROWS):
        extras["ann.faiss"], ann = _train_ann(vectors, options.get("nprobe", ANN_NPROBE))
    manifest = {
        "format": FORMAT_VERSION,
        "build_id": uuid.uuid4().hex,
        "model": getattr(encode, "model_name", "custom"),
        "dims": int(vectors.shape[1]),
        "metric": METRIC,
        "normalized": True,
        "entries": len(entries),
        "questions": sum(1 for r in rows if r.kind == "q"),
        "rows": len(rows),
        "languages": sorted({e.language for e in entries}),
        "sources": dict(sources or {}),
        "built_at": time.strftime("%Y-%m-%dT%H:%M:%S%z"),
        "build_seconds": None,
        "ann": ann,
        "components": sorted(extras),
        "encoder": {"runtime": getattr(encode, "runtime", "custom")},
        "fine_tuned": fine_tuned,
    }
    if getattr(encode, "cosine_scale", None):  # (shift, scale) onto the scoring constants' scale (scoring.py)
        manifest["encoder"]["cosine_scale"] = list(encode.cosine_scale)
    if getattr(encode, "in_scope_midpoint", None) is not None:  # the encoder's own (scoring.midpoint_for)
        manifest["encoder"]["in_scope_midpoint"] = float(encode.in_scope_midpoint)
    staging = Path(tempfile.mkdtemp(prefix=f".{index_dir.name}.", dir=index_dir.parent))
    try:
        _write_files(staging, entries, rows, vectors, extras)
        if getattr(encode, "onnx_folder", None):
            _copy_encoder(Path(encode.onnx_folder), staging / ENCODER_DIR)
            manifest["encoder"]["folder"] = ENCODER_DIR
        if tuning is not None:
            (tuning / "model").rename(staging / TUNED_MODEL_DIR)
            manifest["encoder"]["model_folder"] = TUNED_MODEL_DIR
        manifest["build_seconds"] = round(time.time() - started, 3)
        (staging / "manifest.json").write_text(json.dumps(manifest, indent=2, ensure_ascii=False), encoding="utf-8")
        _swap_in(staging, index_dir)
    except BaseException:
        shutil.rmtree(staging, ignore_errors=True)
        raise
    return manifest


class _FaissPayload:
    def __init__(self, index):
        self.index = index

    def save(self, path: Path) -> None:
        import faiss

        faiss.write_index(self.index, str(path))


def _train_ann(vectors, nprobe: int):
    """An inverted-file index (inner product) with about 4*sqrt(n) lists, trained on the vectors."""
    import math

    import faiss

    nlist = max(1, min(int(4 * math.sqrt(len(vectors))), len(vectors) // 39))  # faiss wants >= 39 points per list
    quantizer = faiss.IndexFlatIP(vectors.shape[1])
    index = faiss.IndexIVFFlat(quantizer, vectors.shape[1], nlist, faiss.METRIC_INNER_PRODUCT)
    index.train(vectors)
    return _FaissPayload(index), {"type": "IVFFlat", "nlist": nlist, "nprobe": nprobe}


def _write_files(folder: Path, entries, rows, vectors, extras: dict) -> None:
    import numpy as np

    (folder / "entries.json").write_text(
        json.dumps([e.to_dict() for e in entries], ensure_ascii=False), encoding="utf-8"
    )
    (folder / "rows.json").write_text(
        json.dumps([[r.entry, r.kind, r.text] for r in rows], ensure_ascii=False), encoding="utf-8"
    )
    np.save(folder / "vectors.npy", vectors)
    for name, payload in extras.items():
        payload.save(folder / name)  # the IVF index is saved trained but empty; loading adds the vectors


def _fine_tuned_encoder(entries, encode, tuning: Path, options: dict, progress: bool):
    """Fine-tune the encode function's model on the FAQ (see :mod:`.finetune`); an encoder over the result.

    The manifest keeps naming the base model (what KB_MODEL configures); the fine-tuned copy travels
    with the index and is what its queries are encoded with.
    """
    from . import finetune
    from ..encoder import onnx_encode_function, torch_encode_function

    base_dir = getattr(encode, "model_dir", None)
    if not base_dir:
        raise FAQError("fine-tuning needs the encoder's model directory (an encode function from make_encoder)")
    settings = dict(options["fine_tune"]) if isinstance(options["fine_tune"], dict) else {}
    by_default = settings.pop("by_default", False)
    info = finetune.fine_tune(base_dir, entries, tuning / "model", progress=progress, **settings)
    info["by_default"] = by_default  # the default build's choice (finetune.wanted_by_default), not asked for
    info["base_model"] = getattr(encode, "model_name", "custom")
    runtime = getattr(encode, "runtime", "torch")
    if runtime.startswith("onnx"):
        from .onnx_export import export

        export(
            tuning / "model",
            tuning / ENCODER_DIR,
            variant=runtime.split("-", 1)[1],
            sample_texts=[q for e in entries[:16] for q in e.questions[:2]],
        )
        tuned = onnx_encode_function(tuning / ENCODER_DIR, info["base_model"], str(tuning / "model"))
    else:
        tuned = torch_encode_function(str(tuning / "model"))
        tuned.model_name = info["base_model"]  # type: ignore[attr-defined]
    return tuned, info


def _copy_encoder(source: Path, target: Path) -> None:
    """The exported encoder goes with the index (hard links when the cache is on the same disk)."""
    target.mkdir()
    for file in source.iterdir():
        try:
            os.link(file, target / file.name)
        except OSError:
            shutil.copyfile(file, target / file.name)


def _swap_in(staging: Path, index_dir: Path) -> None:
    """Replace ``index_dir`` by ``staging`` so a reader sees either the old or the new index."""
    os.chmod(staging, 0o755)
    if index_dir.exists():
        retired = index_dir.with_name(f".{index_dir.name}.old-{uuid.uuid4().hex[:8]}")
        index_dir.rename(retired)
        staging.rename(index_dir)
        shutil.rmtree(retired, ignore_errors=True)
    else:
        staging.rename(index_dir)
