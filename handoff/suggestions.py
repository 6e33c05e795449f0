"""Suggested answers from the knowledge base: loaded in the background, kept current, optional.

The service's one knowledge base lives here (the Insights pages publish through it too). Once loaded,
it follows the published FAQ changes (:mod:`knowledge_base.follow`, read from this service's database)
and the index directory (a rebuild), so an entry published from Insights, in this process or another,
shows up among the console's suggestions within seconds, without a restart.
"""
from __future__ import annotations

import logging
import threading
import time
from dataclasses import dataclass, field
from typing import Any, Callable

logger = logging.getLogger(__name__)

RETRY_AFTER_FAILURE = 60.0
FOLLOW_INTERVAL = 1.0


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

    def __init__(self, loader: Callable[[], Any] = _load_default, follow_interval: float = FOLLOW_INTERVAL):
        self._loader = loader
        self._lock = threading.Lock()
        self._load_lock = threading.Lock()  # one load at a time, background or on demand
        self._kb: Any = None
        self._loading = False
        self._error: str | None = None
        self._failed_at = 0.0
        self._fetch_changes: Callable[[int], dict] | None = None
        self._follow_interval = follow_interval
        self.follower: Any = None

    def follow(self, fetch_changes: Callable[[int], dict]) -> None:
        """Keep the knowledge base current with ``fetch_changes(since)`` (see knowledge_base.follow) once loaded."""
        self._fetch_changes = fetch_changes

    def _start_loading(self) -> None:
        self._loading = True
        threading.Thread(target=self._load, name="kb-loader", daemon=True).start()

    def _load(self) -> None:
        try:
            self._load_now()
        except Exception as exc:  # noqa: BLE001 - no index, no model, no package: all mean 'unavailable'
            logger.warning("knowledge base unavailable for suggestions: %s", exc)
            with self._lock:
                self._error, self._failed_at, self._loading = str(exc) or exc.__class__.__name__, time.monotonic(), False

    def _load_now(self) -> Any:
        with self._load_lock:
            if self._kb is not None:
                return self._kb
            kb = self._loader()
            if self._fetch_changes is not None:
                from knowledge_base.follow import Follower

                follower = Follower(lambda: kb, self._fetch_changes, self._follow_interval, name="kb-suggestions-follower")
                follower.poll_once()  # caught up before the first suggestion
                self.follower = follower.start()
            with self._lock:
                self._kb, self._error, self._loading = kb, None, False
            return kb

    def knowledge_base(self) -> Any:
        """The loaded knowledge base, loading it now if needed (Insights publishes through it); raises on failure."""
        with self._lock:
            kb = self._kb
        return kb if kb is not None else self._load_now()

    def warm_up(self) -> None:
        with self._lock:
            if self._kb is None and not self._loading:
                self._start_loading()

    def stop(self) -> None:
        if self.follower is not None:
            self.follower.stop()

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
            kb.reload_if_changed()  # a rebuilt index; published changes arrive through the follower
        except Exception as exc:  # noqa: BLE001 - a half-written index: keep suggesting from the loaded one
            logger.warning("reloading the knowledge base for suggestions failed: %s", exc)
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
