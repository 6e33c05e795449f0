"""Switching provider: towards us or away from us?

Two entries of the demo FAQ say the same words with the direction reversed: bringing a number to us
(``port-number-in``) and taking it with you when you leave (``keep-number-when-leaving``). A sentence encoder
hears "Vodafone", "Nummer", "mitnehmen" in both and cannot tell "ich wechsle von Vodafone zu euch" from "ich
wechsle zu Vodafone": on every customer set this pair was the commonest wrong answer. The words after "zu"/"to"
and "von"/"from" say which way the customer goes; when they say it one way only, that entry is the answer.
FAQs without the pair are untouched.
"""

from __future__ import annotations

import dataclasses
import functools
import re
from typing import Any, Optional

import yaml

from actions.requests import OTHER_COMPANIES_FILE, other_company_names

TOWARDS_US = "port-number-in"
AWAY_FROM_US = "keep-number-when-leaving"

_WORD = re.compile(r"[\w&]+", re.UNICODE)
_US = frozenset("euch ihnen dir uns you nordnet nordmobil".split())
# The words for another provider ("zu einem anderen Anbieter", "from my old provider"); the providers' names are
# data/other_companies.yml's telephone companies (one list to extend).
_PROVIDER_WORDS = frozenset("anbieter anbieters provider providers carrier carriers network netzbetreiber".split())


@functools.lru_cache(maxsize=1)
def _providers() -> frozenset:
    """The provider words and the first word of each telephone company's name ("vodafone", "aldi", "1&1")."""
    try:
        names = other_company_names(OTHER_COMPANIES_FILE, "telephone_companies")
    except (OSError, yaml.YAMLError):  # other_company logs the broken file; the words for a provider still count
        names = []
    firsts = {words[0] for words in (_WORD.findall(name.lower()) for name in names) if words}
    return _PROVIDER_WORDS | firsts


_FILLER = frozenset(
    """einem einen einer eine ein anderen andere neuen neue alten alte bisherigen jetzigen meinem meiner meinen dem der
    den a an another the my new old previous current different other""".split()
)
_TO = frozenset("zu zum zur to".split())
_FROM = frozenset("von vom from".split())
_AWAY_WORDS = re.compile(
    r"\b(leav\w*|verlass\w*|weggehe\w*|new provider|neue[nmr]? anbieter\w*)\b|\bweg von (?:euch|ihnen|nordnet)\b",
    re.IGNORECASE,
)
# A port that failed or was rejected is one to us: the customer hears of it from us (the FAQ's "Portierung
# abgelehnt, was muss ich tun?"); leaving, they would hear it from the new provider.
_TOWARDS_WORDS = re.compile(
    r"\b((?:old|previous|current) (?:provider|carrier|network)|(?:alten|bisherigen|jetzigen) anbieter\w*|"
    r"sign(?:ing)? up with (?:you|nordnet)|neukunde\w*|new customer|"
    r"fehlgeschlagen|abgelehnt|gescheitert|nicht geklappt|nicht funktioniert|failed|rejected|did(?:n't| not) work)\b",
    re.IGNORECASE,
)


def _target(words: list[str], start: int) -> Optional[str]:
    """ "us", "provider" or None: what the words from ``start`` (after "zu"/"von") name, past an article or two."""
    for word in words[start : start + 3]:
        if word in _US:
            return "us"
        if word in _providers():
            return "provider"
        if word not in _FILLER:
            return None
    return None


def direction(text: str) -> Optional[str]:
    """TOWARDS_US, AWAY_FROM_US or None (no direction, or both)."""
    words = [w.lower() for w in _WORD.findall(text or "")]
    towards = bool(_TOWARDS_WORDS.search(text or ""))
    away = bool(_AWAY_WORDS.search(text or ""))
    for i, word in enumerate(words):
        target = _target(words, i + 1) if word in _TO or word in _FROM else None
        if target is None:
            continue
        # to us / from a provider: coming to us; to a provider / from us: leaving
        if (word in _TO) == (target == "us"):
            towards = True
        else:
            away = True
    if towards == away:
        return None
    return TOWARDS_US if towards else AWAY_FROM_US


def by_direction(kb: Any, text: str, result: Any, language: str) -> Any:
    """``result`` with the pair's other entry first when the top hit goes the wrong way (same score and
    confidence: the encoder was sure of the topic, not of the direction)."""
    hits = list(getattr(result, "hits", None) or [])
    if not hits or hits[0].entry_id not in (TOWARDS_US, AWAY_FROM_US):
        return result
    wanted = direction(text)
    if wanted is None or wanted == hits[0].entry_id:
        return result
    entry = kb.get(wanted, language)
    if entry is None:
        return result
    listed = next((hit for hit in hits if hit.entry_id == wanted), None)
    first = dataclasses.replace(
        hits[0],
        entry_id=wanted,
        language=entry.language,
        question=listed.question if listed else entry.questions[0],
        answer=entry.answer,
        url=entry.url,
        tags=list(entry.tags),
    )
    rest = [hit for hit in hits if hit.entry_id != wanted]
    rest[0] = dataclasses.replace(rest[0], score=listed.score, confidence=listed.confidence) if listed else rest[0]
    return dataclasses.replace(result, hits=[first] + rest)
