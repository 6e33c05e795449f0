"""Server-Sent Events: consoles learn about queue, conversation and callback changes as they happen."""
from __future__ import annotations

import json
import time

from flask import Response, g, request
from sqlalchemy import func, select, update

from handoff.agents import bp
from handoff.extensions import state
from handoff.models import Agent, ConsoleEvent, utcnow

KEEPALIVE_SECONDS = 15
STREAM_SECONDS = 600  # browsers reconnect (with Last-Event-ID) so no thread is held for ever
POLL_SECONDS = 1.0  # also catches events written by other processes on the same database


def format_event(event: ConsoleEvent) -> str:
    data = {"kind": event.kind, "conversation_id": event.conversation_id, "callback_id": event.callback_id}
    return f"id: {event.id}\ndata: {json.dumps(data)}\n\n"


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

    def generate():
        cursor = last
        started = beat = time.monotonic()
        yield f"retry: 2000\nid: {cursor}\ndata: {json.dumps({'kind': 'hello'})}\n\n"
        while not signals.stopping.is_set() and time.monotonic() - started < STREAM_SECONDS:
            seen = signals.sequence
            with factory() as session:
                batch = session.scalars(
                    select(ConsoleEvent).where(ConsoleEvent.id > cursor).order_by(ConsoleEvent.id).limit(200)
                ).all()
                if time.monotonic() - beat >= KEEPALIVE_SECONDS:
                    session.execute(update(Agent).where(Agent.id == agent_id).values(last_seen_at=utcnow()))
                    session.commit()
            for event in batch:
                cursor = event.id
                yield format_event(event)
            if time.monotonic() - beat >= KEEPALIVE_SECONDS:
                beat = time.monotonic()
                yield ": keepalive\n\n"
            if not batch:
                signals.wait_console(seen, POLL_SECONDS)

    return Response(
        generate(),
        mimetype="text/event-stream",
        headers={"Cache-Control": "no-store", "X-Accel-Buffering": "no"},
    )
