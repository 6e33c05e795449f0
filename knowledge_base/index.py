"""Index directory: its layout (rows, manifest, the encoder folders) and reading it back.

Building one is :mod:`knowledge_base.build.indexer`.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path

from .types import Entry, FAQError

FORMAT_VERSION = 1
ENCODER_DIR = "encoder"  # the ONNX encoder the index was built with, used for queries
TUNED_MODEL_DIR = "model"  # with `build --fine-tune`: the fine-tuned sentence-transformers model


@dataclass
class Row:
    """One indexed text: a question of an entry, or its answer."""

    entry: int  # position in the entry list
    kind: str  # "q" or "a"
    text: str


def index_rows(entries: list[Entry]) -> list[Row]:
    """Every question of every entry, then each entry's answer (customers often use the answer's words)."""
    rows = []
    for i, entry in enumerate(entries):
        rows.extend(Row(i, "q", q) for q in entry.questions)
        rows.append(Row(i, "a", entry.answer))
    return rows


def read_manifest(index_dir) -> dict:
    path = Path(index_dir) / "manifest.json"
    if not path.is_file():
        raise FAQError(
            f"{index_dir}: no knowledge-base index here (manifest.json missing); run `python -m knowledge_base build`"
        )
    try:
        return json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError) as exc:
        raise FAQError(f"{path}: unreadable manifest ({exc}); rebuild the index") from exc


def read_index(index_dir) -> tuple[dict, list[Entry], list[Row], "object"]:
    """Manifest, entries, rows and vectors of an index directory, checked for consistency."""
    import numpy as np

    index_dir = Path(index_dir)
    manifest = read_manifest(index_dir)
    if manifest.get("format") != FORMAT_VERSION:
        raise FAQError(
            f"{index_dir}: index format {manifest.get('format')!r}, this code reads {FORMAT_VERSION}; rebuild the index"
        )
    try:
        entries = [Entry.from_dict(d) for d in json.loads((index_dir / "entries.json").read_text(encoding="utf-8"))]
        rows = [Row(e, k, t) for e, k, t in json.loads((index_dir / "rows.json").read_text(encoding="utf-8"))]
        vectors = np.load(index_dir / "vectors.npy")
    except (OSError, ValueError, KeyError) as exc:
        raise FAQError(f"{index_dir}: incomplete or corrupt index ({exc}); rebuild it") from exc
    if (
        len(entries) != manifest["entries"]
        or len(rows) != manifest["rows"]
        or vectors.shape != (len(rows), manifest["dims"])
    ):
        raise FAQError(
            f"{index_dir}: index does not match its manifest ({len(entries)} entries, {vectors.shape} vectors; "
            f"manifest says {manifest['entries']} entries, {manifest['rows']}x{manifest['dims']}); rebuild it"
        )
    return manifest, entries, rows, vectors
