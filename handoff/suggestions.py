"""Suggested answers from the knowledge base, loaded lazily in the background and optional."""
from __future__ import annotations

import logging
import threading
import time
from dataclasses import dataclass, field
from typing import Any, Callable

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


def _load_default() -> Any:
    # Imported here: the knowledge base pulls in torch, and the console must start without it.
    from knowledge_base import Settings, load_knowledge_base

    return load_knowledge_base(Settings.from_env())


class KnowledgeBaseSuggestions:
    """Loads the knowledge base once on a background thread; answers 'loading' until then."""

    def __init__(self, loader: Callable[[], Any] = _load_default):
        self._loader = loader
        self._lock = threading.Lock()
        self._kb: Any = None
        self._loading = False
        self._error: str | None = None
        self._failed_at = 0.0

    def _start_loading(self) -> None:
        self._loading = True
        threading.Thread(target=self._load, name="kb-loader", daemon=True).start()

    def _load(self) -> None:
        try:
            kb = self._loader()
        except Exception as exc:  # noqa: BLE001 - no index, no model, no package: all mean 'unavailable'
            logger.warning("knowledge base unavailable for suggestions: %s", exc)
            with self._lock:
                self._error, self._failed_at, self._loading = str(exc) or exc.__class__.__name__, time.monotonic(), False
            return
        with self._lock:
            self._kb, self._error, self._loading = kb, None, False

    def warm_up(self) -> None:
        with self._lock:
            if self._kb is None and not self._loading:
                self._start_loading()

    def search(self, text: str, language: str | None = None, k: int = 3) -> Suggestions:
        with self._lock:
            kb = self._kb
            if kb is None:
                retry = self._error is None or time.monotonic() - self._failed_at > RETRY_AFTER_FAILURE
                if not self._loading and retry:
                    self._start_loading()
                if self._loading:
                    return Suggestions("loading", message="The knowledge base is loading…")
                return Suggestions("unavailable", message=f"Knowledge base not available: {self._error}")
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
