"""A second look at a message the knowledge base declines: is it one of ours after all?

The knowledge base declines when its confidence in the best entries is low. Two kinds of customer question land
there although the FAQ answers them, and get a list of the likely entries instead of "I don't know":

- **A clear favourite.** The confidence is low in absolute terms but lies on one entry, several times that of the
  next ("You charged me 40 euros for mobile data but I have unlimited?!": 0.32 against 0.03). On the customer sets
  the favourite of such a declined message was the right entry in every FAQ question, and out-of-scope questions
  almost never had one (22 FAQ questions against 1 out-of-scope one over 3,220 messages; the two thresholds
  below were chosen on those sets, and final12 and final13 checked them afterwards).
- **A story around the question.** Customers put context around what they ask ("Our club has its summer party on
  Saturday and I am doing the music. Which express shipping option gets a speaker to me by Friday?"). The story pulls
  the whole message's vector away from every FAQ question; asked on its own, one sentence may be answered with
  confidence. That sentence's entries are offered.

Both give a list, not an answer: the rest of the message may change what the customer needs (answering the best
sentence outright was wrong about as often as right on the customer sets). A message or sentence the other-company
or off-topic checks decline is left declined.
"""

from __future__ import annotations

import dataclasses
import re
from typing import Any, Callable, Optional

from actions.direction import by_direction

FAVOURITE_CONFIDENCE = 0.18  # the first entry's confidence, at least ...
FAVOURITE_LEAD = 4.0  # ... and this many times the second's
MIN_WORDS = 3  # "Wohne in Leipzig." is context, not a question of its own; shorter parts are not asked
MAX_SENTENCES = 4  # a whole letter is not searched sentence by sentence (each search takes an encoder call)
_SENTENCE_END = re.compile(r"(?<=[.?!…])\s+|\s*[\n;]\s*")

DeclinedByChecks = Callable[[str, Any], bool]  # (text, its search result) -> do the checks decline it?


def second_look(kb: Any, text: str, result: Any, language: Optional[str], declined: DeclinedByChecks) -> Any:
    """``result`` (declined by the knowledge base) as a "clarify" result when ``text`` has a clear favourite or
    a sentence that would be answered; else ``result`` unchanged."""
    if result.band != "decline" or not result.hits:
        return result
    if clear_favourite(result) and not declined(text, result):
        return dataclasses.replace(result, band="clarify")
    sentence = best_sentence(kb, text, language, declined)
    return sentence if sentence is not None else result


def clear_favourite(result: Any) -> bool:
    """One entry holds the confidence: at least FAVOURITE_CONFIDENCE and FAVOURITE_LEAD times the next one's."""
    first = result.hits[0].confidence
    second = result.hits[1].confidence if len(result.hits) > 1 else 0.0
    return first >= FAVOURITE_CONFIDENCE and first >= FAVOURITE_LEAD * second


def sentences(text: str) -> list[str]:
    """The parts of ``text`` worth asking on their own: at least MIN_WORDS words each; none for one sentence."""
    parts = [part.strip() for part in _SENTENCE_END.split((text or "").strip())]
    parts = [part for part in parts if len(part.split()) >= MIN_WORDS]
    return parts if 2 <= len(parts) <= MAX_SENTENCES else []


def best_sentence(kb: Any, text: str, language: Optional[str], declined: DeclinedByChecks) -> Optional[Any]:
    """The knowledge base's result for the sentence of ``text`` it would answer with the highest confidence, as a
    "clarify" result; None when no sentence is answered (or the checks decline each one that is)."""
    best = None
    for sentence in sentences(text):
        result = by_direction(kb, sentence, kb.search(sentence, language=language, k=5), language)
        if result.band != "answer" or not result.hits or declined(sentence, result):
            continue
        if best is None or result.confidence > best.confidence:
            best = result
    return dataclasses.replace(best, band="clarify") if best is not None else None
