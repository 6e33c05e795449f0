"""Suggested answers for the console, from the service's one knowledge base; optional.

The knowledge base is the app's :class:`~knowledge_base.provider.KnowledgeBaseProvider`, built in
``create_app`` and shared with the Insights pages (which publish through it). It follows the published
FAQ changes (read from this service's database) and the index directory (a rebuild), so an entry
published from Insights, in this process or another, shows up among the console's suggestions within
seconds, without a restart. It loads in the background: until then the console shows "loading".
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, field

from knowledge_base.provider import KnowledgeBaseProvider

logger = logging.getLogger(__name__)

RETRY_AFTER_FAILURE = 60.0


@dataclass(frozen=True)
class Suggestion:
    entry_id: str
    question: str
    answer: str
    confidence: float
    url: str | None = None


@dataclass(frozen=True)
class Suggestions:
    status: str  # "ok", "loading" or "unavailable"
    items: list[Suggestion] = field(default_factory=list)
    message: str = ""


class KnowledgeBaseSuggestions:
    """Searches the app's knowledge base; answers 'loading' while it loads, 'unavailable' when it cannot."""

    def __init__(self, knowledge_base: KnowledgeBaseProvider | None = None):
        self.knowledge_base = knowledge_base or KnowledgeBaseProvider()

    def warm_up(self) -> None:
        self.knowledge_base.load_in_background()

    def search(self, text: str, language: str | None = None, k: int = 3) -> Suggestions:
        kb = self.knowledge_base.current()
        if kb is None:
            self.knowledge_base.load_in_background(retry_after=RETRY_AFTER_FAILURE)
            if self.knowledge_base.loading:
                return Suggestions("loading", message="The knowledge base is loading…")
            return Suggestions("unavailable", message=f"Knowledge base not available: {self.knowledge_base.error}")
        if not (text or "").strip():
            return Suggestions("ok")
        try:
            result = kb.search(text, language=language, k=k)
        except Exception as exc:  # noqa: BLE001 - a failing search must not break the console
            logger.warning("knowledge base search failed: %s", exc)
            return Suggestions("unavailable", message=f"Search failed: {exc}")
        items = [
            Suggestion(hit.entry_id, hit.question, hit.answer, float(hit.confidence), getattr(hit, "url", None))
            for hit in result.hits
        ]
        return Suggestions("ok", items)
