"""What the knowledge base did with a question (answer, clarify, decline, none of these), for analytics."""

from __future__ import annotations

import math

from flask import jsonify

from handoff.api import bp
from handoff.api.validation import Body, json_object
from handoff.extensions import db, state
from handoff.models import EVENT_TYPES
from handoff.services.analytics import EventInput, record_event


@bp.post("/events")
def create_event():
    settings = state().settings
    body = Body(json_object(), max_text=settings.max_text_chars)
    key = body.string("idempotency_key", max_len=200)
    sender_id = body.string("sender_id", max_len=255)
    channel = body.string("channel", max_len=64)
    language = body.string("language", max_len=8, choices=settings.languages)
    kind = body.string("type", max_len=16, choices=EVENT_TYPES)
    question = body.string("question", allow_empty=True)
    entry_id = body.string("entry_id", max_len=200, required=False, allow_empty=True)
    confidence = body.data.get("confidence")
    if confidence is not None and (
        isinstance(confidence, bool) or not isinstance(confidence, (int, float)) or not math.isfinite(confidence)
    ):
        body.problem("confidence", "must be null or a number")
        confidence = None
    body.check()
    outcome = record_event(
        db(),
        EventInput(
            idempotency_key=key,
            sender_id=sender_id,
            channel=channel,
            language=language,
            type=kind,
            question=question or "",
            entry_id=(entry_id or "").strip() or None,
            confidence=float(confidence) if confidence is not None else None,
        ),
    )
    response = jsonify(outcome.body)
    if outcome.replayed:
        response.headers["Idempotent-Replayed"] = "true"
    return response, outcome.status
