"""Server-Sent Events: consoles learn about queue, conversation and callback changes as they happen.

An open console tab costs no database work while nothing happens: one watcher per process polls
for events other processes wrote (one small query a second, however many tabs are open) and wakes
the streams, which then read what is new for them. Under gunicorn's gevent workers (the production
setting) an open stream is a greenlet, not a thread, so thousands of idle tabs fit in a worker.
"""

from __future__ import annotations

import json
import logging
import threading
import time
import weakref
from typing import Optional

from flask import Response, g, request
from sqlalchemy import func, select, update
from sqlalchemy.orm import Session, sessionmaker

from handoff.agents import bp
from handoff.db import Signals
from handoff.extensions import state
from handoff.models import Agent, ConsoleEvent, utcnow

logger = logging.getLogger(__name__)

KEEPALIVE_SECONDS = 15
STREAM_SECONDS = 600  # browsers reconnect (with Last-Event-ID), so a stream is never held for ever
POLL_SECONDS = 1.0  # how soon a stream sees events written by another process on the same database
BATCH = 200


def format_event(event: ConsoleEvent) -> str:
    data = {"kind": event.kind, "conversation_id": event.conversation_id, "callback_id": event.callback_id}
    return f"id: {event.id}\ndata: {json.dumps(data)}\n\n"


class Watcher:
    """While any stream of this process is open, polls the newest event id and wakes the streams
    when another process wrote one (commits in this process wake them directly)."""

    def __init__(self, factory: sessionmaker[Session], signals: Signals) -> None:
        self.factory, self.signals = factory, signals
        self._lock = threading.Lock()
        self._streams = 0
        self._thread: Optional[threading.Thread] = None

    def join(self) -> None:
        with self._lock:
            self._streams += 1
            if self._thread is None:
                self._thread = threading.Thread(target=self._run, name="console-events", daemon=True)
                self._thread.start()

    def leave(self) -> None:
        with self._lock:
            self._streams -= 1

    def _run(self) -> None:
        known = None
        while not self.signals.stopping.is_set():
            with self._lock:
                if self._streams <= 0:
                    self._thread = None
                    return
            try:
                with self.factory() as session:
                    latest = session.scalar(select(func.max(ConsoleEvent.id))) or 0
            except Exception:  # the database restarting: the streams keep their cursors, try again
                logger.warning("console event watcher: cannot read the newest event", exc_info=True)
                latest = known
            if known is not None and latest != known:
                self.signals.notify_console()
            known = latest
            self.signals.stopping.wait(POLL_SECONDS)


_watchers: "weakref.WeakKeyDictionary[Signals, Watcher]" = weakref.WeakKeyDictionary()
_watchers_lock = threading.Lock()


def watcher_for(factory: sessionmaker[Session], signals: Signals) -> Watcher:
    with _watchers_lock:
        if signals not in _watchers:
            _watchers[signals] = Watcher(factory, signals)
        return _watchers[signals]


@bp.get("/events")
def events():
    handoff = state()
    factory, signals = handoff.session_factory, handoff.signals
    agent_id = g.agent.id
    last = request.headers.get("Last-Event-ID", type=int)
    if last is None:
        last = request.args.get("after", type=int)
    if last is None:
        with factory() as session:
            last = session.scalar(select(func.max(ConsoleEvent.id))) or 0
    watcher = watcher_for(factory, signals)

    def generate():
        cursor, seen = last, None
        started = beat = time.monotonic()
        watcher.join()
        try:
            yield f"retry: 2000\nid: {cursor}\ndata: {json.dumps({'kind': 'hello'})}\n\n"
            while not signals.stopping.is_set() and time.monotonic() - started < STREAM_SECONDS:
                if seen != signals.sequence:
                    seen = signals.sequence  # taken before reading: a later commit wakes the next wait
                    with factory() as session:
                        batch = session.scalars(
                            select(ConsoleEvent).where(ConsoleEvent.id > cursor).order_by(ConsoleEvent.id).limit(BATCH)
                        ).all()
                    for event in batch:
                        cursor = event.id
                        yield format_event(event)
                    if len(batch) == BATCH:
                        seen = None  # more than one batch waiting: read on at once
                        continue
                if time.monotonic() - beat >= KEEPALIVE_SECONDS:
                    beat = time.monotonic()
                    with factory() as session:
                        session.execute(update(Agent).where(Agent.id == agent_id).values(last_seen_at=utcnow()))
                        session.commit()
                    yield ": keepalive\n\n"
                signals.wait_console(seen, max(0.05, KEEPALIVE_SECONDS - (time.monotonic() - beat)))
        finally:
            watcher.leave()

    return Response(
        generate(),
        mimetype="text/event-stream",
        headers={"Cache-Control": "no-store", "X-Accel-Buffering": "no"},
    )
