"""Console events and the outbox: what a state change leaves behind for screens and for Rasa."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy.orm import Session

from handoff.models import ConsoleEvent, OutboxItem, utcnow


def console_event(
    session: Session, kind: str, conversation_id: int | None = None, callback_id: int | None = None
) -> None:
    """Tell open consoles that ``kind`` changed; they are woken once the transaction commits."""
    session.add(ConsoleEvent(kind=kind, conversation_id=conversation_id, callback_id=callback_id))
    session.info["console_changed"] = True


def send_to_customer(
    session: Session,
    sender_id: str,
    intent: str,
    entities: dict[str, Any],
    *,
    conversation_id: int | None = None,
    message_id: int | None = None,
    callback_id: int | None = None,
    now: datetime | None = None,
) -> OutboxItem:
    """Queue ``intent`` for the customer's Rasa conversation; the outbox worker delivers it."""
    item = OutboxItem(
        sender_id=sender_id,
        intent=intent,
        entities=entities,
        conversation_id=conversation_id,
        message_id=message_id,
        callback_id=callback_id,
        next_attempt_at=now or utcnow(),
    )
    session.add(item)
    session.info["outbox_changed"] = True
    return item
