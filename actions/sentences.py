"""A long message the knowledge base declines: does one of its sentences ask an FAQ question?

Customers put their story around the question ("I ordered earbuds but I'm leaving my flat next week. Can I still
change where they get delivered? Status already says Shipped."). The story pulls the whole message's vector away
from every FAQ question, and the knowledge base declines. Asked on its own, one sentence may be answered with
confidence. That sentence's entries are then offered as a list, not answered: the rest of the message may change
what the customer needs (on the customer sets, answering such a sentence outright was wrong about as often as
right, a list holds the right entry without the risk). A sentence the other-company or off-topic checks would
decline does not count.
"""

from __future__ import annotations

import dataclasses
import re
from typing import Any, Callable, Optional

from actions.direction import by_direction

MIN_WORDS = 3  # "Wohne in Leipzig." is context, not a question of its own; shorter parts are not asked
MAX_SENTENCES = 4  # a whole letter is not searched sentence by sentence (each search takes an encoder call)
_SENTENCE_END = re.compile(r"(?<=[.?!…])\s+|\s*[\n;]\s*")


def sentences(text: str) -> list[str]:
    """The parts of ``text`` worth asking on their own: at least MIN_WORDS words each; none for one sentence."""
    parts = [part.strip() for part in _SENTENCE_END.split((text or "").strip())]
    parts = [part for part in parts if len(part.split()) >= MIN_WORDS]
    return parts if 2 <= len(parts) <= MAX_SENTENCES else []


def best_sentence(
    kb: Any, text: str, language: Optional[str], declined_by_checks: Callable[[str, Any], bool]
) -> Optional[Any]:
    """The knowledge base's result for the sentence of ``text`` it would answer with the highest confidence, as a
    "clarify" result (a list to choose from); None when no sentence is answered. ``declined_by_checks(sentence,
    result)`` says whether the other-company or off-topic check declines that sentence."""
    best = None
    for sentence in sentences(text):
        result = by_direction(kb, sentence, kb.search(sentence, language=language, k=5), language)
        if result.band != "answer" or not result.hits or declined_by_checks(sentence, result):
            continue
        if best is None or result.confidence > best.confidence:
            best = result
    return dataclasses.replace(best, band="clarify") if best is not None else None
