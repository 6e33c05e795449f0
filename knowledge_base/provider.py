"""The one loaded knowledge base of a process, kept current.

A process that answers from the knowledge base (the action server; the handoff service, whose console
suggestions and Insights share it) holds one :class:`KnowledgeBaseProvider`. It loads the index once
(on first use, or on a background thread so a page need not wait), follows the FAQ changes published
in the handoff service (:mod:`.follow`) and reloads when the index directory is rebuilt, so a published
entry is answered without a restart.
"""

from __future__ import annotations

import logging
import threading
import time
from typing import Any, Callable

from .follow import DEFAULT_INTERVAL, Fetch, Follower

logger = logging.getLogger(__name__)


def load_configured() -> Any:
    """The knowledge base the environment names (KB_INDEX_DIR, KB_MODEL, ...)."""
    # Imported here: the knowledge base pulls in faiss and numpy, and a console must start without them.
    from .kb import load_knowledge_base
    from .settings import Settings

    return load_knowledge_base(Settings.from_env())


class KnowledgeBaseProvider:
    """Loads the knowledge base once, then hands out the same one, reloaded when its index changes on disk.

    ``loader`` opens it (default: :func:`load_configured`); with :meth:`follow` (before the first load)
    it also applies the changes ``fetch_changes(since)`` returns, every ``follow_interval`` seconds.
    """

    def __init__(
        self,
        loader: Callable[[], Any] = load_configured,
        fetch_changes: Fetch | None = None,
        follow_interval: float = DEFAULT_INTERVAL,
        follower_name: str = "faq-follower",
    ):
        self._loader = loader
        self._fetch_changes = fetch_changes
        self._follow_interval = follow_interval
        self._follower_name = follower_name
        self._lock = threading.Lock()  # guards the fields below
        self._load_lock = threading.Lock()  # one load at a time, in the background or on demand
        self._kb: Any = None
        self._loading = False
        self._error: str | None = None
        self._failed_at = 0.0
        self.follower: Follower | None = None

    def follow(self, fetch_changes: Fetch, interval: float | None = None) -> None:
        """Keep the knowledge base current with ``fetch_changes(since)`` once it is loaded."""
        self._fetch_changes = fetch_changes
        if interval is not None:
            self._follow_interval = interval

    def get(self) -> Any:
        """The knowledge base, loading it now if needed (raises when it cannot be loaded)."""
        with self._lock:
            kb = self._kb
        if kb is None:
            return self._load_now()
        self._reload_if_changed(kb)
        return kb

    def current(self) -> Any:
        """The knowledge base if it is loaded (reloaded when its index changed), else None; never loads."""
        with self._lock:
            kb = self._kb
        if kb is not None:
            self._reload_if_changed(kb)
        return kb

    @property
    def loading(self) -> bool:
        with self._lock:
            return self._loading

    @property
    def error(self) -> str | None:
        """Why the last background load failed (None after a success)."""
        with self._lock:
            return self._error

    def load_in_background(self, retry_after: float = 0.0) -> None:
        """Start loading on a thread unless it is loaded, loading, or failed less than ``retry_after`` s ago."""
        with self._lock:
            if self._kb is not None or self._loading:
                return
            if self._error is not None and time.monotonic() - self._failed_at <= retry_after:
                return
            self._loading = True
        threading.Thread(target=self._load_logged, name="kb-loader", daemon=True).start()

    def replace(self, kb: Any) -> None:
        """Use ``kb`` from now on (None: load again on next use); stops following the old one (tests)."""
        self.stop()
        with self._lock:
            self._kb, self._error, self._loading = kb, None, False

    def stop(self) -> None:
        follower, self.follower = self.follower, None
        if follower is not None:
            follower.stop()

    def _load_logged(self) -> None:
        try:
            self._load_now()
        except Exception as exc:  # noqa: BLE001 - no index, no model, no package: all mean 'unavailable'
            logger.warning("knowledge base unavailable: %s", exc)
            with self._lock:
                self._error, self._failed_at, self._loading = (
                    str(exc) or exc.__class__.__name__,
                    time.monotonic(),
                    False,
                )

    def _load_now(self) -> Any:
        with self._load_lock:
            with self._lock:
                if self._kb is not None:  # loaded meanwhile (on demand while a background load waited)
                    self._loading = False
                    return self._kb
            kb = self._loader()
            logger.info("knowledge base loaded")
            if self._fetch_changes is not None and self._follow_interval > 0:
                follower = Follower(lambda: kb, self._fetch_changes, self._follow_interval, name=self._follower_name)
                follower.poll_once()  # caught up before the first answer: a process started later knows what was published
                self.follower = follower.start()
            with self._lock:
                self._kb, self._error, self._loading = kb, None, False
            return kb

    @staticmethod
    def _reload_if_changed(kb: Any) -> None:
        try:
            if kb.reload_if_changed():  # a rebuilt index; published changes arrive through the follower
                logger.info("knowledge base index changed on disk: reloaded")
        except Exception:  # a half-written index: keep answering from the loaded one
            logger.exception("reloading the knowledge base failed; keeping the loaded one")
