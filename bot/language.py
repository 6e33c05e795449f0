"""German or English for the Rasa side: the project's one detector (core.language) with the FAQ's neutral words."""

from __future__ import annotations

import functools
import os
from typing import Optional, Tuple

from core.faq import texts_by_language
from core.language import detect as _detect
from core.language import neutral_words


@functools.lru_cache(maxsize=1)
def faq_neutral_words() -> frozenset:
    """Names and product words both languages' FAQ entries use ("NordNet", "Router"): no evidence either way."""
    return frozenset(neutral_words(texts_by_language(os.environ.get("FAQ_PATH") or "data/faq")))


def detect(text: str) -> Tuple[Optional[str], float]:
    """("de"|"en"|None, confidence). None when the text gives no clear evidence."""
    return _detect(text, faq_neutral_words())
