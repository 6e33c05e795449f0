"""The FAQ sources' texts per language, read leniently with PyYAML and csv alone (no knowledge base needed).

The Rasa side learns its neutral words from them (bot/language.py) without the knowledge base's encoder,
index and numpy; the knowledge base reads the same files strictly (knowledge_base/sources/reader.py: validation,
line numbers) and learns the same words from its entries. Unreadable files and malformed entries are
skipped here: the knowledge base is the one that refuses them.
"""

from __future__ import annotations

import csv
from pathlib import Path
from typing import Dict, List

SUFFIXES = (".yml", ".yaml", ".csv")


def source_files(path: str | Path) -> List[Path]:
    """The FAQ files of a folder (sorted), or the one file named; nothing when the path does not exist."""
    path = Path(path)
    if path.is_dir():
        return sorted(p for p in path.iterdir() if p.is_file() and p.suffix.lower() in SUFFIXES)
    return [path] if path.is_file() else []


def texts_by_language(path: str | Path) -> Dict[str, List[str]]:
    """Every entry's questions and answer, per language ("" when an entry names none)."""
    texts: Dict[str, List[str]] = {}
    for file in source_files(path):
        reader = _csv_texts if file.suffix.lower() == ".csv" else _yaml_texts
        try:
            for language, entry_texts in reader(file):
                texts.setdefault(language, []).extend(entry_texts)
        except (OSError, UnicodeDecodeError, ValueError, csv.Error):
            continue
    return texts


def _yaml_texts(file: Path):
    import yaml

    try:
        data = yaml.safe_load(file.read_text(encoding="utf-8")) or {}
    except yaml.YAMLError:
        return
    if not isinstance(data, dict):
        return
    for entry in data.get("entries") or []:
        if isinstance(entry, dict):
            language = str(entry.get("language") or data.get("language") or "")
            questions = entry.get("questions") or []
            questions = questions if isinstance(questions, list) else [questions]
            yield language, [str(q) for q in questions] + [str(entry.get("answer") or "")]


def _csv_texts(file: Path):
    with file.open(encoding="utf-8-sig", newline="") as handle:
        for row in csv.DictReader(handle):
            yield str(row.get("language") or "").strip(), [str(row.get("question") or ""), str(row.get("answer") or "")]
