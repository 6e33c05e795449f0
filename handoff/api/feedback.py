"""Feedback on FAQ answers, the satisfaction rating, and whether people take hand-offs now."""

from __future__ import annotations

from flask import jsonify, request
from sqlalchemy import func, select

from handoff.api import bp, error
from handoff.api.validation import Body, json_object
from handoff.extensions import db, state
from handoff.models import Conversation
from handoff.services.availability import availability as service_availability
from handoff.services.availability import expected_wait
from handoff.services.feedback import FeedbackInput, record_feedback, record_satisfaction


def _replayable(outcome):
    response = jsonify(outcome.body)
    if outcome.replayed:
        response.headers["Idempotent-Replayed"] = "true"
    return response, outcome.status


@bp.post("/feedback")
def feedback():
    settings = state().settings
    body = Body(json_object(), max_text=settings.max_text_chars)
    data = FeedbackInput(
        idempotency_key=body.string("idempotency_key", max_len=200),
        sender_id=body.string("sender_id", max_len=255),
        channel=body.string("channel", max_len=64),
        language=body.string("language", max_len=8, choices=settings.languages),
        entry_id=body.string("entry_id", max_len=200),
        helpful=body.boolean("helpful"),
        question=body.string("question", allow_empty=True, required=False) or "",
    )
    body.check()
    return _replayable(record_feedback(db(), data))


@bp.post("/satisfaction")
def satisfaction():
    body = Body(json_object())
    key = body.string("idempotency_key", max_len=200)
    conversation_id = body.integer("conversation_id", 1, 2**31 - 1)
    score = body.integer("score", 1, 5)
    body.check()
    return _replayable(record_satisfaction(db(), key, conversation_id, score))


@bp.get("/availability")
def availability():
    settings = state().settings
    language = request.args.get("language") or None
    if language is not None and language not in settings.languages:
        return error(
            422,
            "validation_error",
            f"language must be one of {', '.join(settings.languages)}",
            [{"field": "language", "message": "unknown language"}],
        )
    session = db()
    result = service_availability(session, language, settings.presence_timeout_seconds, settings.default_timezone)
    waiting = session.scalar(select(func.count()).select_from(Conversation).where(Conversation.status == "pending"))
    wait = expected_wait(session, int(waiting or 0) + 1, language, settings.presence_timeout_seconds)
    return jsonify(
        accepting=result.accepting,
        reason_not_accepting=result.reason_not_accepting,
        agents_online=result.agents_online,
        business_hours_open=result.business_hours_open,
        expected_wait_seconds=wait,
        queue_length=int(waiting or 0),
        next_opening=result.next_opening.isoformat() if result.next_opening else None,
        timezone=result.timezone,
    )
