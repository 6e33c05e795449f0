"""German/English detection for the knowledge base: the project's one detector (core.language) plus the
FAQ's neutral words (names and product words both languages' entries use), kept with the index."""

from __future__ import annotations

import json
from pathlib import Path

from core.language import LANGUAGES, guess, neutral_words

__all__ = ["LANGUAGES", "LanguageDetector"]


class LanguageDetector:
    """Detects a query's language; falls back to a default when the text gives nothing to go on."""

    def __init__(self, neutral: set[str] | None = None, default: str = "en"):
        self.neutral = frozenset(neutral or ())
        self.default = default

    @classmethod
    def from_file(cls, path: Path, default: str = "en") -> "LanguageDetector":
        data = json.loads(Path(path).read_text(encoding="utf-8"))
        return cls(set(data.get("neutral", ())), default=default)

    @staticmethod
    def save(path: Path, texts_by_language: dict[str, list[str]]) -> None:
        payload = {"neutral": sorted(neutral_words(texts_by_language))}
        Path(path).write_text(json.dumps(payload, ensure_ascii=False), encoding="utf-8")

    def detect(self, text: str) -> str:
        return guess(text, self.neutral) or self.default
