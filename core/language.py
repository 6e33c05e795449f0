"""German or English? One detector for the whole project: the Rasa component, the knowledge base, the channels.

Built on lingua (``lingua-language-detector``), which is made for short texts, restricted to the languages we
serve. Chat messages are often one word ("danke", "ok") or full of names that belong to no language
("NordNet", "DSL 100", "Router"), so two things come first: a few chat words decide one- and two-word
messages, and words the caller calls neutral (product and brand names: the FAQ's words shared by both
languages) are dropped before lingua looks. When the evidence is weak the answer is ``None``: callers keep the
conversation's language or their default instead of switching on a guess.
"""

from __future__ import annotations

import functools
import re
from typing import Iterable, Optional, Tuple

from core.vocabulary import LANGUAGES

MIN_CONFIDENCE = 0.6  # lingua's relative confidence below which a text does not switch the language
OVERRULED_BELOW = 0.97  # lingua's confidence below which one language's small words alone overrule it
CHAT_WORDS_DECIDE_UP_TO = 3  # up to this many words, chat words decide where lingua is unsure ("live agent pls")
_WORD = re.compile(r"[^\W\d_]+(?:['’][^\W\d_]+)?", re.UNICODE)
# One- and two-word chat messages lingua cannot know ("Hallo" reads as English to it); in three-word ones they
# decide where lingua is unsure.
_CHAT_WORDS = {
    "de": frozenset(
        """hallo moin servus tschüss tschüs ciao danke dankeschön vielen dank ja jo jep nein nö
        bitte genau stimmt okay passt gut super prima toll mensch mitarbeiter mitarbeiterin rückruf abbrechen
        hilfe weiter zurück guten tag morgen abend hey""".split()
    ),
    "en": frozenset(
        """hello hi hey bye goodbye thanks thank you cheers yes yeah yep no nope please sure right
        okay fine great good agent human person callback cancel help stop back morning evening""".split()
    ),
}
# Function words of one language only: when lingua is unsure ("was ist 17 mal 23" reads as half English to it),
# these decide a first message's guess.
_FUNCTION_WORDS = {
    "de": frozenset(
        """ist ich du und nicht der das ein eine einen mein meine meinen wie wo wann warum wieso wer kann
        habe hab bin sind mit für auf auch noch schon mal geht gibt es euch ihr mich mir uns dem den""".split()
    ),
    "en": frozenset(
        """is the my and not how what where when why who can have am are with for on also still already it
        you me us does do get your what's it's i'm i've i'd don't can't isn't doesn't that's there's""".split()
    ),
}
_AMBIGUOUS = frozenset({"hey", "okay", "ok", "stop", "morgen", "bitte"}) & (_CHAT_WORDS["de"] & _CHAT_WORDS["en"])


@functools.lru_cache(maxsize=1)
def _lingua():
    from lingua import Language, LanguageDetectorBuilder

    detector = LanguageDetectorBuilder.from_languages(Language.GERMAN, Language.ENGLISH).build()
    return detector, {Language.GERMAN: "de", Language.ENGLISH: "en"}


def detect(text: str, neutral: Iterable[str] = ()) -> Tuple[Optional[str], float]:
    """("de" | "en" | None, confidence). None when the text gives no clear evidence either way."""
    neutral_words = {w.lower() for w in neutral}
    words = [w for w in _WORD.findall((text or "").lower()) if w not in neutral_words]
    if not words:
        return None, 0.0
    if len(words) <= 2:
        votes = _votes(words, _CHAT_WORDS)
        if votes["de"] != votes["en"]:
            return max(votes, key=votes.get), 1.0
    if len(words) == 1 and len(words[0]) <= 3:
        return None, 0.0  # "ok", "DSL", "PUK": no language
    detector, codes = _lingua()
    values = detector.compute_language_confidence_values(" ".join(words))
    if not values:
        return None, 0.0
    best = values[0]
    confidence = round(float(best.value), 3)
    language = codes[best.language]
    # Names lingua has seen in one language only ("How do I sign up for Telekom's MagentaTV?" reads as German to
    # it): where the small words clearly say the other language and lingua is not sure, the small words win.
    votes = _votes(words, _FUNCTION_WORDS)
    other = next(lang for lang in LANGUAGES if lang != language)
    if confidence < OVERRULED_BELOW and votes[other] >= 2 and votes[language] == 0:
        return other, round(1.0 - confidence, 3)
    if confidence < MIN_CONFIDENCE:
        chat = _votes(words, _CHAT_WORDS) if len(words) <= CHAT_WORDS_DECIDE_UP_TO else {}
        if chat and chat["de"] != chat["en"]:
            return max(chat, key=chat.get), confidence
        return None, confidence
    return language, confidence


def _votes(words: list[str], by_language: dict[str, frozenset]) -> dict[str, int]:
    return {lang: sum(w in by_language[lang] for w in words) for lang in LANGUAGES}


def neutral_words(texts_by_language: dict[str, Iterable[str]]) -> set[str]:
    """Words that occur in the texts of more than one language: names, products, "Router", "eSIM"."""
    seen: dict[str, set[str]] = {}
    for language, texts in texts_by_language.items():
        bag = seen.setdefault(language, set())
        for text in texts:
            bag.update(_WORD.findall(text.lower()))
    shared: set[str] = set()
    bags = list(seen.values())
    for i, bag in enumerate(bags):
        for other in bags[i + 1 :]:
            shared |= bag & other
    # Short words ("in", "am", "an") are function words of both languages: they still tell them apart.
    return {word for word in shared if len(word) >= 4}


def guess(text: str, neutral: Iterable[str] = ()) -> Optional[str]:
    """The likelier language even on weak evidence (for a first message, where there is nothing to keep)."""
    language, _ = detect(text, neutral)
    if language is not None:
        return language
    neutral_words_ = {w.lower() for w in neutral}
    words = [w for w in _WORD.findall((text or "").lower()) if w not in neutral_words_]
    if not words or (len(words) == 1 and len(words[0]) <= 3):
        return None
    votes = _votes(words, _FUNCTION_WORDS)
    if votes["de"] != votes["en"]:
        return max(votes, key=votes.get)
    detector, codes = _lingua()
    values = detector.compute_language_confidence_values(" ".join(words))
    return codes[values[0].language] if values else None
