"""Requests for a person or a call recognised by meaning, when the words fooled both the classifier and the regexes.

The NLU model and bot/routing.py catch the usual ways of asking for a person. Customers find others ("Gibt es
bei euch noch Menschen?", "I'd rather sort this out with someone who knows"). Before the bot shows a list of
guesses or declines, the question is compared with the request_human and request_callback examples of the
NLU training data (data/nlu/control.yml, both languages), encoded with the knowledge base's own encoder: when it
is near one of them, nearer than to any FAQ question, and the words are no question about contacting (prices,
numbers, hours), it is that request.
"""

from __future__ import annotations

import logging
import re
import threading
from pathlib import Path
from typing import Any, Dict, List, Optional

import yaml

from core.contact import ABOUT_CONTACT

logger = logging.getLogger(__name__)
NLU_FILE = Path(__file__).resolve().parents[1] / "data" / "nlu" / "control.yml"
INTENTS = ("request_human", "request_callback")
# On the knowledge base's similarity scale (manifest cosine_scale), chosen on bench/customer_sets/dev*.csv:
MIN_SIMILARITY = 0.5  # to the nearest request example
MIN_LEAD = 0.05  # ... and that far above the best FAQ match
_QUESTION_ABOUT_PRICE_OR_TIME = re.compile(  # and about contacting us: core.contact.ABOUT_CONTACT
    r"\b(cost|costs|kostet|kosten|price|preis|how much|wie viel|wann ist|when is)\b", re.IGNORECASE
)
# Working here is no request for a person either ("are there job openings in your support team?").
_ABOUT_WORKING_HERE = re.compile(
    r"\b(jobs?|job openings?|careers?|vacanc\w*|hiring|stellenangebot\w*|offene stellen|"
    r"ausbildung\w*|praktik\w*|bewerb\w*)\b",
    re.IGNORECASE,
)


_MARKUP = re.compile(r"[{}<>]|\w_\w")  # payload- or code-like text ("agent_message{...}") is no request


def examples(path: Path = NLU_FILE) -> Dict[str, List[str]]:
    """The request_human / request_callback examples of the NLU training data."""
    data = yaml.safe_load(path.read_text(encoding="utf-8")) or {}
    found: Dict[str, List[str]] = {intent: [] for intent in INTENTS}
    for block in data.get("nlu") or []:
        if isinstance(block, dict) and block.get("intent") in found:
            for line in str(block.get("examples") or "").splitlines():
                text = re.sub(r"\[([^\]]*)\]\([^)]*\)", r"\1", line.strip().removeprefix("- ").strip())
                if text:
                    found[block["intent"]].append(text)
    return found


class RequestMatcher:
    """Nearest request example per intent, on the knowledge base's scale."""

    def __init__(self, kb: Any, path: Path = NLU_FILE) -> None:
        import numpy as np

        self.model = kb.manifest.get("model")
        self.scale = tuple((kb.manifest.get("encoder") or {}).get("cosine_scale") or (0.0, 1.0))
        texts = examples(path)
        self.labels: List[str] = []
        chunks = []
        for intent, phrases in texts.items():
            if phrases:
                chunks.append(kb.encode(phrases))
                self.labels += [intent] * len(phrases)
        self.vectors = np.concatenate(chunks) if chunks else np.zeros((0, 1), np.float32)

    def nearest(self, kb: Any, text: str) -> tuple[Optional[str], float]:
        import numpy as np

        if not self.labels:
            return None, 0.0
        query = kb.encode([text])[0]
        sims = self.vectors @ query
        best = int(np.argmax(sims))
        shift, scale = self.scale
        return self.labels[best], (float(sims[best]) - shift) / scale


_lock = threading.Lock()
_matcher: Optional[RequestMatcher] = None


def matcher(kb: Any) -> RequestMatcher:
    global _matcher
    with _lock:
        if _matcher is None or _matcher.model != kb.manifest.get("model"):
            _matcher = RequestMatcher(kb)
            logger.info("request matcher: %d examples", len(_matcher.labels))
        return _matcher


def request_by_meaning(kb: Any, text: str, best_faq_score: float) -> Optional[str]:
    """request_human / request_callback when ``text`` means one, else None."""
    if not text or text.startswith("/") or _MARKUP.search(text):
        return None
    if ABOUT_CONTACT.search(text) or _QUESTION_ABOUT_PRICE_OR_TIME.search(text) or _ABOUT_WORKING_HERE.search(text):
        return None  # a question about reaching us, a price or a job is the FAQ's (or none of its business)
    try:
        intent, similarity = matcher(kb).nearest(kb, text)
    except Exception:  # a missed request is better than a broken answer
        logger.warning("request matcher failed", exc_info=True)
        return None
    if intent and similarity >= MIN_SIMILARITY and similarity >= best_faq_score + MIN_LEAD:
        return intent
    return None
