"""The service's shared state on the Flask app, and the per-request database session."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Callable

from flask import current_app, g
from sqlalchemy import Engine
from sqlalchemy.orm import Session, sessionmaker

from handoff.db import Signals
from handoff.outbox import RasaClient, Transport
from handoff.services.escalations import QueueConfig
from handoff.settings import Settings
from knowledge_base.provider import KnowledgeBaseProvider


@dataclass
class HandoffState:
    """Everything one process shares across requests; built by ``create_app``."""

    settings: Settings
    engine: Engine
    session_factory: sessionmaker[Session]
    signals: Signals
    knowledge_base: KnowledgeBaseProvider = field(default_factory=KnowledgeBaseProvider)  # the process's one
    suggestions: Any = None  # the console's suggested answers, from knowledge_base (create_app)
    transport_factory: Callable[[], Transport] | None = None
    worker: Any = None
    # The insight page's question kinds for erasures outside a request (the worker's retention); create_app sets it.
    question_classifier: Callable[[], Callable[[list[str]], list[str]] | None] = lambda: None

    @property
    def queue_config(self) -> QueueConfig:
        return QueueConfig(self.settings.presence_timeout_seconds, self.settings.default_timezone)

    def rasa_client(self) -> Transport:
        if self.transport_factory is not None:
            return self.transport_factory()
        return RasaClient(self.settings.rasa_url, self.settings.rasa_token)

    def start_worker(self, poll: float = 1.0):
        """Start the background delivery thread (the serve command and browser tests do)."""
        from handoff.worker import Worker

        if self.worker is None:
            self.worker = Worker(self, poll=poll).start()
        return self.worker

    def shutdown(self) -> None:
        if self.worker is not None:
            self.worker.stop()
            self.worker = None
        self.knowledge_base.stop()
        self.signals.stop()
        self.engine.dispose()


def state() -> HandoffState:
    return current_app.extensions["handoff"]


def db() -> Session:
    """The request's session, opened on first use and closed when the app context ends."""
    if "db_session" not in g:
        g.db_session = state().session_factory()
    return g.db_session


def close_db(_exc: BaseException | None = None) -> None:
    session = g.pop("db_session", None)
    if session is not None:
        session.close()
