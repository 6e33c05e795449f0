"""Database engine, session factory and the per-request session."""

from __future__ import annotations

import threading
from pathlib import Path
from typing import Callable

from sqlalchemy import Engine, create_engine, event
from sqlalchemy.engine import make_url
from sqlalchemy.orm import Session, sessionmaker


def normalise_url(url: str) -> str:
    """Plain ``postgres://`` and ``postgresql://`` URLs use psycopg 3, the driver the app group installs."""
    if url.startswith("postgres://"):
        url = "postgresql://" + url[len("postgres://") :]
    if url.startswith("postgresql://"):
        url = "postgresql+psycopg://" + url[len("postgresql://") :]
    return url


def make_engine(url: str) -> Engine:
    """An engine for ``url``; SQLite gets foreign keys, WAL and a busy timeout so threads can share it."""
    url = normalise_url(url)
    parsed = make_url(url)
    if parsed.get_backend_name() == "sqlite":
        database = parsed.database
        if database and database != ":memory:":
            Path(database).parent.mkdir(parents=True, exist_ok=True)
        engine = create_engine(url, connect_args={"check_same_thread": False, "timeout": 30})

        @event.listens_for(engine, "connect")
        def _sqlite_pragmas(dbapi_connection, _record):  # pragma: no cover - trivial
            cursor = dbapi_connection.cursor()
            cursor.execute("PRAGMA foreign_keys=ON")
            cursor.execute("PRAGMA journal_mode=WAL")
            cursor.execute("PRAGMA busy_timeout=30000")
            cursor.close()

        return engine
    return create_engine(url, pool_pre_ping=True, pool_size=10, max_overflow=20)


class Signals:
    """Wakes whoever waits for changes: SSE streams (console events) and the outbox worker."""

    def __init__(self) -> None:
        self._events = threading.Condition()
        self._sequence = 0
        self.outbox = threading.Event()
        self.stopping = threading.Event()

    @property
    def sequence(self) -> int:
        return self._sequence

    def notify_console(self) -> None:
        with self._events:
            self._sequence += 1
            self._events.notify_all()

    def wait_console(self, seen: int, timeout: float) -> int:
        """Block until something changed after ``seen`` or ``timeout`` passed; return the sequence."""
        with self._events:
            if self._sequence == seen and not self.stopping.is_set():
                self._events.wait(timeout)
            return self._sequence

    def stop(self) -> None:
        self.stopping.set()
        self.outbox.set()
        with self._events:
            self._events.notify_all()


def make_session_factory(engine: Engine, signals: Signals) -> sessionmaker[Session]:
    """Sessions that wake the console and the outbox after a commit that changed what they watch."""
    factory = sessionmaker(bind=engine, expire_on_commit=False)

    @event.listens_for(factory, "after_commit")
    def _after_commit(session: Session) -> None:
        if session.info.pop("console_changed", False):
            signals.notify_console()
        if session.info.pop("outbox_changed", False):
            signals.outbox.set()

    @event.listens_for(factory, "after_rollback")
    def _after_rollback(session: Session) -> None:
        session.info.pop("console_changed", None)
        session.info.pop("outbox_changed", None)

    return factory


SessionFactory = Callable[[], Session]
