"""What the index learns from the FAQ at build time, besides the vectors."""
from __future__ import annotations

import re
from pathlib import Path

from .types import Entry

_WORD = re.compile(r"[^\W\d_]+", re.UNICODE)


class _LanguagePayload:
    def __init__(self, extra: dict[str, set[str]]):
        self.extra = extra

    def save(self, path: Path) -> None:
        from .language import LanguageDetector

        LanguageDetector.save(path, self.extra)


def faq_vocabulary(entries: list[Entry]) -> dict[str, set[str]]:
    """Words that appear in the FAQ's entries of exactly one language."""
    words: dict[str, set[str]] = {}
    for entry in entries:
        bag = words.setdefault(entry.language, set())
        for text in entry.questions + [entry.answer]:
            bag.update(w for w in _WORD.findall(text.lower()) if len(w) > 2)
    only = {}
    for language, bag in words.items():
        others = set().union(*(b for lang, b in words.items() if lang != language))
        only[language] = bag - others
    return only


def train(entries: list[Entry], rows, vectors, encode=None, progress: bool = False, options: dict | None = None) -> dict:
    """Build-time components, keyed by the file name they are saved under in the index directory."""
    return {"language.json": _LanguagePayload(faq_vocabulary(entries))}
