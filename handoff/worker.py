"""The background thread of a serving process: outbox delivery, auto-assignment, housekeeping, retention."""

from __future__ import annotations

import logging
import threading
import time
from datetime import timedelta

from sqlalchemy import delete, text

from handoff.models import ConsoleEvent, IdempotencyRecord, utcnow
from handoff.outbox import Transport, deliver_due
from handoff.services.agents import prune_login_attempts
from handoff.services.assignment import auto_assign
from handoff.services.escalations import announce_queue
from handoff.services.retention import describe, run_retention
from handoff.tracker_store import TrackerStore

RETENTION_LOCK_KEY = 0x6E6F7264  # pg advisory lock id for retention runs

logger = logging.getLogger(__name__)

ASSIGN_EVERY = 3.0
QUEUE_EVERY = 10.0  # a console gone quiet stops counting after the presence timeout: waiting customers learn it
HOUSEKEEPING_EVERY = 600.0
RETENTION_EVERY = 3600.0  # and once right after start


class Worker:
    """Wakes when an outbox item is queued (or at least every ``poll`` seconds) and delivers it."""

    def __init__(self, state, transport: Transport | None = None, poll: float = 1.0):
        self.state = state
        self.transport = transport or state.rasa_client()
        self.poll = poll
        self._thread: threading.Thread | None = None
        self._last_assign = 0.0
        self._last_queue = 0.0
        self._last_housekeeping = 0.0
        self._last_retention: float | None = None

    def start(self) -> "Worker":
        self._thread = threading.Thread(target=self._run, name="handoff-worker", daemon=True)
        self._thread.start()
        return self

    def stop(self, timeout: float = 10.0) -> None:
        self.state.signals.stop()
        if self._thread is not None:
            self._thread.join(timeout)

    def _run(self) -> None:
        signals = self.state.signals
        logger.info("worker started: delivering to Rasa at %s", self.state.settings.rasa_url)
        while not signals.stopping.is_set():
            signals.outbox.clear()
            try:
                self.tick()
            except Exception:  # the worker must outlive a bad tick (e.g. DB restart)
                logger.exception("worker tick failed")
            signals.outbox.wait(self.poll)
        logger.info("worker stopped")

    def tick(self) -> None:
        settings = self.state.settings
        deliver_due(self.state.session_factory, self.transport, give_up_after=settings.outbox_give_up_seconds)
        now = time.monotonic()
        if now - self._last_assign >= ASSIGN_EVERY:
            self._last_assign = now
            with self.state.session_factory() as session:
                assigned = auto_assign(session, settings.presence_timeout_seconds)
                if assigned:
                    logger.info("auto-assigned %d conversation(s)", assigned)
        if now - self._last_queue >= QUEUE_EVERY:
            self._last_queue = now
            with self.state.session_factory() as session:
                announce_queue(session, self.state.queue_config)
        if now - self._last_housekeeping >= HOUSEKEEPING_EVERY:
            self._last_housekeeping = now
            self.housekeeping()
        if settings.retention_days and (self._last_retention is None or now - self._last_retention >= RETENTION_EVERY):
            self._last_retention = now
            self.retention()

    def housekeeping(self) -> None:
        cutoff = utcnow() - timedelta(days=2)
        with self.state.session_factory() as session:
            session.execute(delete(ConsoleEvent).where(ConsoleEvent.created_at < cutoff))
            session.execute(
                delete(IdempotencyRecord).where(IdempotencyRecord.created_at < utcnow() - timedelta(days=7))
            )
            session.commit()
            prune_login_attempts(session)

    def _retention_run(self, settings):
        with self.state.session_factory() as session:
            return run_retention(
                session,
                settings.retention_days,
                TrackerStore(settings.tracker_store_url),
                classify=self.state.question_classifier(),
            )

    def retention(self) -> None:
        """Anonymise what is older than HANDOFF_RETENTION_DAYS (see handoff.services.retention)."""
        settings = self.state.settings
        engine = self.state.engine
        if engine.dialect.name == "postgresql":
            # Several gunicorn workers run this thread: one retention run at a time, cluster-wide.
            with engine.connect() as lock:
                if not lock.execute(text("SELECT pg_try_advisory_lock(:key)"), {"key": RETENTION_LOCK_KEY}).scalar():
                    return
                try:
                    report = self._retention_run(settings)
                finally:
                    lock.execute(text("SELECT pg_advisory_unlock(:key)"), {"key": RETENTION_LOCK_KEY})
                    lock.commit()
        else:
            report = self._retention_run(settings)
        if report.changed or report.tracker_status == "error":
            for line in describe(report):
                logger.info("retention (%d days): %s", settings.retention_days, line)
