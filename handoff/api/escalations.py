"""Escalations: the bot hands a conversation to people, relays messages, asks where it stands."""

from __future__ import annotations

from flask import jsonify

from core.vocabulary import CANCEL_REASONS
from handoff.api import bp
from handoff.api.validation import Body, json_object
from handoff.extensions import db, state
from handoff.models import REASONS
from handoff.services import escalations
from handoff.services.errors import NotFound
from handoff.services.escalations import EscalationRequest

MAX_ID = 2**31 - 1  # ids are 32-bit integer columns; a larger one would overflow the driver (a 500)


def _existing_id(conversation_id: int) -> int:
    if conversation_id > MAX_ID:
        raise NotFound(f"conversation {conversation_id} does not exist")
    return conversation_id


def _body(data: dict) -> Body:
    settings = state().settings
    return Body(data, max_text=settings.max_text_chars)


@bp.post("/escalations")
def create_escalation():
    settings = state().settings
    body = _body(json_object())
    key = body.string("idempotency_key", max_len=200)
    sender_id = body.string("sender_id", max_len=255)
    channel = body.string("channel", max_len=64)
    language = body.string("language", max_len=8, choices=settings.languages)
    reason = body.string("reason", max_len=32, choices=REASONS)
    question = body.string("question", allow_empty=True)
    transcript = body.transcript()
    customer = body.data.get("customer")
    name = None
    if customer is not None:
        if not isinstance(customer, dict):
            body.problem("customer", 'must be an object like {"name": ...}')
        else:
            sub = Body(customer, "customer.")
            name = sub.string("name", max_len=200, required=False, allow_empty=True)
            body.errors.extend(sub.errors)
    body.check()
    request = EscalationRequest(
        idempotency_key=key,
        sender_id=sender_id,
        channel=channel,
        language=language,
        reason=reason,
        question=question,
        transcript=transcript or (),
        customer_name=(name or "").strip() or None,
    )
    outcome = escalations.hand_off(db(), request, state().queue_config)
    response = jsonify(outcome.body)
    if outcome.replayed:
        response.headers["Idempotent-Replayed"] = "true"
    return response, outcome.status


@bp.get("/escalations/<int:conversation_id>")
def get_escalation(conversation_id: int):
    return jsonify(escalations.status(db(), _existing_id(conversation_id), state().queue_config))


@bp.post("/escalations/<int:conversation_id>/messages")
def add_message(conversation_id: int):
    body = _body(json_object())
    key = body.string("idempotency_key", max_len=200)
    text = body.string("text")
    timestamp = body.epoch("timestamp")
    body.check()
    outcome = escalations.add_customer_message(db(), _existing_id(conversation_id), key, text, timestamp)
    response = jsonify(outcome.body)
    if outcome.replayed:
        response.headers["Idempotent-Replayed"] = "true"
    return response, outcome.status


@bp.post("/escalations/<int:conversation_id>/cancel")
def cancel_escalation(conversation_id: int):
    body = _body(json_object())
    reason = body.string("reason", max_len=32, choices=CANCEL_REASONS)
    body.check()
    return jsonify(escalations.cancel(db(), _existing_id(conversation_id), reason, config=state().queue_config))


MAX_RECEIPTS = 100


@bp.post("/receipts")
def receipts():
    """The customer's widget showed these agent replies (sent by the Rasa channel): the console says "seen"."""
    body = _body(json_object())
    sender_id = body.string("sender_id", max_len=255)
    ids = body.data.get("message_ids")
    if isinstance(ids, list):  # JSON has one number type: 3.0 is the whole number 3
        ids = [int(i) if isinstance(i, float) and i.is_integer() and abs(i) < 2**53 else i for i in ids]
    if (
        not isinstance(ids, list)
        or not 0 < len(ids) <= MAX_RECEIPTS
        or not all(isinstance(i, int) and not isinstance(i, bool) and 0 < i <= MAX_ID for i in ids)
    ):
        body.problem("message_ids", f"must be a list of 1 to {MAX_RECEIPTS} message ids")
    body.check()
    return jsonify(seen=escalations.mark_seen(db(), sender_id, sorted(set(ids))))
