"""Keep a loaded knowledge base up to date with the FAQ changes published elsewhere (the handoff service).

The handoff service stores every published change with a version that only grows. A process that
serves answers (an action server, the console's suggestions) runs a :class:`Follower`: it asks for
the changes after the last version it applied (``fetch(since)``, passed in: over HTTP in the action
server, from the database in the handoff service) and lays them over its in-memory index with
:meth:`KnowledgeBase.follow`. Nothing is rebuilt and nothing restarts; a process that starts later
catches up from version 0. When the source does not answer, the index keeps serving what it has.
"""

from __future__ import annotations

import logging
import threading
import time
from typing import Any, Callable

logger = logging.getLogger(__name__)

DEFAULT_INTERVAL = 1.0
MAX_BACKOFF = 30.0

Fetch = Callable[[int], dict]
"""``fetch(since)`` -> ``{"version": V, "changes": [...], "more": bool}``: the changes after ``since`` in order
(``{"version": v, "op": "upsert", "entry": {...}}`` or ``{"version": v, "op": "remove", "id": ..., "language": ...}``)
and V, the version reached once they are applied (the latest one when ``more`` is false)."""


class Follower:
    """Polls ``fetch`` every ``interval`` seconds on a daemon thread and applies what is new to ``kb()``."""

    def __init__(
        self, kb: Callable[[], Any], fetch: Fetch, interval: float = DEFAULT_INTERVAL, name: str = "faq-follower"
    ):
        self._kb = kb
        self._fetch = fetch
        self.interval = interval
        self.name = name
        self.version = 0
        self.failing_since: float | None = None
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None
        self._lock = threading.Lock()

    def catch_up(self) -> int:
        """Fetch and apply every change after :attr:`version`; returns how many changes were read.

        Raises what ``fetch`` raises (the source is down); what was applied before stays applied.
        """
        with self._lock:
            read = 0
            while True:
                since = self.version
                page = self._fetch(since)
                version = int(page["version"])
                if version < since:
                    # The change store was replaced (a new database): follow it from its beginning.
                    logger.warning("FAQ changes are at version %d, this index had %d: following from 0", version, since)
                    self.version = 0
                    continue
                changes = page.get("changes") or []
                if changes:
                    applied = self._kb().follow(changes)
                    logger.info(
                        "FAQ changes %d..%d followed (%d changed the index)",
                        changes[0]["version"],
                        changes[-1]["version"],
                        applied,
                    )
                read += len(changes)
                self.version = version
                if not page.get("more") or not changes:
                    return read

    def poll_once(self) -> bool:
        """One catch-up that logs instead of raising; False while the source is unreachable."""
        try:
            self.catch_up()
        except Exception as exc:  # noqa: BLE001 - the source being down must never stop answering
            if self.failing_since is None:
                self.failing_since = time.monotonic()
                logger.warning("cannot read FAQ changes (%s); answering from the index as it is, retrying", exc)
            else:
                logger.debug("FAQ changes still unreachable: %s", exc)
            return False
        if self.failing_since is not None:
            logger.warning(
                "FAQ changes reachable again after %.0f s; now at version %d",
                time.monotonic() - self.failing_since,
                self.version,
            )
            self.failing_since = None
        return True

    def start(self) -> "Follower":
        if self._thread is None:
            self._thread = threading.Thread(target=self._run, name=self.name, daemon=True)
            self._thread.start()
        return self

    def stop(self) -> None:
        self._stop.set()
        if self._thread is not None:
            self._thread.join(timeout=5)
            self._thread = None

    def _run(self) -> None:
        delay = self.interval
        while not self._stop.is_set():
            ok = self.poll_once()
            delay = self.interval if ok else min(max(delay * 2, self.interval), MAX_BACKOFF)
            self._stop.wait(delay)
