"""The queue page (updated live), the counts in the navigation, and the conversation history."""
from __future__ import annotations

from flask import g, jsonify, render_template, request

from handoff.agents import bp
from handoff.extensions import db, state
from handoff.models import STATUSES
from handoff.services import console
from handoff.services.availability import availability
from handoff.services.escalations import REASON_LABELS


def _queue_context() -> dict:
    session = db()
    settings = state().settings
    waiting = console.waiting(session)
    mine = console.open_conversations(session, agent=g.agent)
    others = console.open_conversations(session, others_of=g.agent)
    return {
        "waiting": waiting,
        "mine": mine,
        "others": others,
        "last_customer": console.last_customer_message(session, [c.id for c in mine + others]),
        "reasons": REASON_LABELS,
        "status": availability(session, None, settings.presence_timeout_seconds, settings.default_timezone),
        "team": console.team(session, settings.presence_timeout_seconds),
    }


@bp.get("/")
def queue():
    return render_template("agents/queue.html", **_queue_context())


@bp.get("/queue/fragment")
def queue_fragment():
    return render_template("agents/_queue.html", **_queue_context())


@bp.get("/counts")
def counts():
    result = console.counts(db(), g.agent, state().settings.presence_timeout_seconds)
    return jsonify(
        waiting=result.waiting, mine=result.mine, callbacks_due=result.callbacks_due, agents_online=result.agents_online
    )


@bp.get("/conversations")
def conversations():
    status = request.args.get("status") or None
    if status not in STATUSES:
        status = None
    return render_template(
        "agents/conversations.html",
        conversations=console.history(db(), status),
        status=status,
        statuses=STATUSES,
        reasons=REASON_LABELS,
    )
