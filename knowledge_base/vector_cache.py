"""Vectors of a fixed list of texts (the NLU examples), kept on disk per encoder so a restart skips encoding them.

One place for the action server's request matcher (actions/requests.py) and the insight page's question kinds
(handoff/services/question_kinds.py): both compare customers' words with the same examples.
"""

from __future__ import annotations

import hashlib
import logging
import os
from pathlib import Path
from typing import Any, Callable

logger = logging.getLogger(__name__)


def cached_vectors(encode: Callable[[list[str]], Any], texts: list[str], encoder_key: str, cache_dir: Path | None):
    """``encode(texts)`` as float32, read from ``cache_dir`` when the same encoder (``encoder_key``) encoded the same
    texts before, else encoded and written there (a read-only or missing folder costs the time, nothing else)."""
    import numpy as np

    path = None
    if cache_dir is not None and encoder_key:
        digest = hashlib.sha256("\n".join([encoder_key, *texts]).encode()).hexdigest()[:32]
        path = Path(cache_dir) / f"examples-{digest}.npy"
        try:
            vectors = np.load(path)
            if vectors.shape[0] == len(texts):
                return vectors
        except (OSError, ValueError):
            pass
    vectors = np.asarray(encode(texts), dtype=np.float32)
    if path is not None:
        try:
            path.parent.mkdir(parents=True, exist_ok=True)
            partial = path.with_suffix(f".{os.getpid()}.partial.npy")
            np.save(partial, vectors)
            os.replace(partial, path)
        except OSError as exc:
            logger.warning("cannot keep the examples' vectors in %s: %s", path.parent, exc)
    return vectors
