"""Callback requests from the bot: create (with consent) and cancel by reference."""

from __future__ import annotations

import re
from datetime import timedelta

from flask import jsonify

from handoff.api import bp
from handoff.api.validation import Body, json_object
from handoff.extensions import db, state
from handoff.models import utcnow
from handoff.services import callbacks
from handoff.services.callbacks import CallbackInput

E164_RE = re.compile(r"^\+[1-9]\d{6,14}$")
EMAIL_RE = re.compile(r"^[^@\s<>\"']+@[^@\s<>\"']+\.[^@\s<>\"']{2,}$")
MAX_WINDOW = timedelta(days=14)
MAX_AHEAD = timedelta(days=90)


def valid_phone(value: str) -> bool:
    """E.164 as the bot sends it, and a number that can exist (phonenumbers, when installed)."""
    if not E164_RE.match(value):
        return False
    try:
        import phonenumbers
    except ImportError:
        return True
    try:
        parsed = phonenumbers.parse(value, None)
    except phonenumbers.NumberParseException:
        return False
    return phonenumbers.is_possible_number(parsed)


def valid_email(value: str) -> bool:
    return len(value) <= 254 and bool(EMAIL_RE.match(value))


@bp.post("/callbacks")
def create_callback():
    settings = state().settings
    body = Body(json_object(), max_text=settings.max_text_chars)
    key = body.string("idempotency_key", max_len=200)
    sender_id = body.string("sender_id", max_len=255)
    channel = body.string("channel", max_len=64)
    language = body.string("language", max_len=8, choices=settings.languages)
    method = body.string("contact_method", max_len=8, choices=("phone", "email"))
    contact = body.string("contact", max_len=254)
    if contact is not None:
        contact = contact.strip()
        if method == "phone" and not valid_phone(contact):
            body.problem("contact", "must be a phone number in E.164 form, e.g. +4930123456")
        elif method == "email":
            if not valid_email(contact):
                body.problem("contact", "must be an e-mail address")
            else:
                local, _, domain = contact.rpartition("@")
                contact = f"{local}@{domain.lower()}"
    start, start_offset = body.iso_datetime("window_start")
    end, _ = body.iso_datetime("window_end")
    now = utcnow()
    if start and end:
        if end <= start:
            body.problem("window_end", "must be after window_start")
        elif end - start > MAX_WINDOW:
            body.problem("window_end", "the window may span at most 14 days")
        if end <= now:
            body.problem("window_end", "is in the past")
        if start > now + MAX_AHEAD:
            body.problem("window_start", "is more than 90 days ahead")
    if body.data.get("consent") is not True:
        body.problem("consent", "must be true: the customer has to agree to be contacted")
    conversation_id = body.integer("conversation_id", 1, 2**31 - 1, required=False)
    transcript = body.transcript()
    body.check()
    request = CallbackInput(
        idempotency_key=key,
        sender_id=sender_id,
        channel=channel,
        language=language,
        contact_method=method,
        contact=contact,
        window_start=start,
        window_end=end,
        window_tz=start_offset,
        conversation_id=conversation_id,
        transcript=transcript,
    )
    outcome = callbacks.request_callback(db(), request, now, max_open=settings.max_open_callbacks)
    response = jsonify(outcome.body)
    if outcome.replayed:
        response.headers["Idempotent-Replayed"] = "true"
    return response, outcome.status


@bp.get("/callbacks/<reference>")
def get_callback(reference: str):
    callback = callbacks.get_by_reference(db(), reference[:16])
    return jsonify(
        callback_id=callback.id,
        reference=callback.reference,
        status=callback.status,
        window_start=callback.window_start.isoformat(),
        window_end=callback.window_end.isoformat(),
        attempts=callback.attempts,
    )


@bp.post("/callbacks/<reference>/cancel")
def cancel_callback(reference: str):
    return jsonify(callbacks.cancel_by_customer(db(), reference[:16]))
