"""The queue page (updated live), the counts in the navigation, and the conversation history."""

from __future__ import annotations

from flask import g, jsonify, render_template, request, url_for

from handoff.agents import bp, words
from handoff.extensions import db, state
from handoff.models import STATUSES
from handoff.services import console
from handoff.services.availability import availability


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
    session = db()
    result = console.counts(session, g.agent, state().settings.presence_timeout_seconds)
    queue = console.waiting(session)[-20:]  # the newest: what a new-customer alert names
    return jsonify(
        waiting=result.waiting,
        mine=result.mine,
        callbacks_due=result.callbacks_due,
        agents_online=result.agents_online,
        queue=[
            {
                "id": c.id,
                "customer": words.customer(c),
                "question": (c.question or "")[:200],
                "url": url_for("agents.conversation", conversation_id=c.id),
            }
            for c in queue
        ],
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
    )
