"""German or English for the Rasa side: the project's one detector (core.language) with the FAQ's neutral words."""
from __future__ import annotations

import functools
import os
from pathlib import Path
from typing import Optional, Tuple

from core.language import detect as _detect
from core.language import neutral_words


@functools.lru_cache(maxsize=1)
def faq_neutral_words() -> frozenset:
    """Names and product words both languages' FAQ entries use ("NordNet", "Router"): no evidence either way."""
    import yaml

    folder = Path(os.environ.get("FAQ_PATH") or "data/faq")
    files = sorted(folder.glob("*.yml")) + sorted(folder.glob("*.yaml")) if folder.is_dir() else [folder]
    texts: dict = {}
    for file in files:
        try:
            data = yaml.safe_load(file.read_text(encoding="utf-8")) or {}
        except (OSError, yaml.YAMLError):
            continue
        for entry in data.get("entries") or []:
            if not isinstance(entry, dict):
                continue
            language = str(entry.get("language") or data.get("language") or "")
            texts.setdefault(language, []).extend(
                [str(q) for q in entry.get("questions") or []] + [str(entry.get("answer") or "")])
    return frozenset(neutral_words(texts))


def detect(text: str) -> Tuple[Optional[str], float]:
    """("de"|"en"|None, confidence). None when the text gives no clear evidence."""
    return _detect(text, faq_neutral_words())
