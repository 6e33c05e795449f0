"""Delivery of queued intents to the customer's Rasa conversation, retried until Rasa takes them."""

from __future__ import annotations

import logging
from datetime import datetime, timedelta
from typing import Any, Callable, Protocol
from urllib.parse import quote

import requests
from sqlalchemy import select, update
from sqlalchemy.orm import Session

from handoff.models import OutboxItem, utcnow
from handoff.services.events import console_event

logger = logging.getLogger(__name__)

LOCK_SECONDS = 30
MAX_BACKOFF_SECONDS = 60


class DeliveryError(Exception):
    """Rasa did not take the intent; the item stays pending and is retried."""


class Transport(Protocol):
    def trigger_intent(self, sender_id: str, intent: str, entities: dict[str, Any]) -> None: ...


class RasaClient:
    """Rasa's HTTP API: POST /conversations/{id}/trigger_intent?output_channel=latest."""

    def __init__(self, base_url: str, token: str | None = None, timeout: tuple[float, float] = (2.0, 10.0)):
        self.base_url = base_url.rstrip("/")
        self.token = token
        self.timeout = timeout
        self._http = requests.Session()

    def trigger_intent(self, sender_id: str, intent: str, entities: dict[str, Any]) -> None:
        url = f"{self.base_url}/conversations/{quote(sender_id, safe='')}/trigger_intent"
        params = {"output_channel": "latest"}
        if self.token:
            params["token"] = self.token
        try:
            response = self._http.post(
                url, params=params, json={"name": intent, "entities": entities}, timeout=self.timeout
            )
        except requests.RequestException as exc:
            raise DeliveryError(f"Rasa at {self.base_url} unreachable: {exc.__class__.__name__}") from exc
        if response.status_code >= 300:
            raise DeliveryError(f"Rasa answered HTTP {response.status_code}: {response.text[:300]}")


def backoff(attempts: int) -> timedelta:
    """1 s, 2 s, 4 s ... capped at a minute."""
    return timedelta(seconds=min(MAX_BACKOFF_SECONDS, 2 ** max(0, attempts - 1)))


def _lock(session: Session, item_id: int, now: datetime) -> bool:
    """Take the item for this worker; another worker process holding it keeps it."""
    result = session.execute(
        update(OutboxItem)
        .where(
            OutboxItem.id == item_id,
            OutboxItem.status == "pending",
            (OutboxItem.locked_until.is_(None)) | (OutboxItem.locked_until < now),
        )
        .values(locked_until=now + timedelta(seconds=LOCK_SECONDS))
        .execution_options(synchronize_session=False)
    )
    session.commit()
    return result.rowcount == 1


def deliver_due(
    session_factory: Callable[[], Session],
    transport: Transport,
    now: datetime | None = None,
    give_up_after: int = 24 * 3600,
    limit: int = 200,
) -> int:
    """Send every due item, oldest first, keeping each customer's messages in order; returns sent count.

    A customer whose earliest pending item fails (or waits for its retry) gets nothing newer
    sent, so replies never overtake each other.
    """
    sent = 0
    with session_factory() as session:
        now = now or utcnow()
        items = session.scalars(
            select(OutboxItem).where(OutboxItem.status == "pending").order_by(OutboxItem.id).limit(limit)
        ).all()
        blocked: set[str] = set()
        for item in items:
            if item.sender_id in blocked:
                continue
            if (
                item.next_attempt_at > now
                or (item.locked_until and item.locked_until > now)
                or not _lock(session, item.id, now)
            ):
                blocked.add(item.sender_id)
                continue
            session.refresh(item)  # see the lock we just wrote, so clearing it below is a change
            session.commit()  # no transaction stays open during the HTTP call
            try:
                transport.trigger_intent(item.sender_id, item.intent, dict(item.entities))
            except Exception as exc:  # noqa: BLE001 - any failure is retried, never dropped
                blocked.add(item.sender_id)
                _failed(session, item, str(exc), now, give_up_after)
                continue
            item.status, item.sent_at, item.locked_until = "sent", now, None
            item.attempts += 1
            item.last_error = None
            if item.message_id is not None and item.conversation_id is not None:
                console_event(session, "delivery", item.conversation_id)
            session.commit()
            sent += 1
    return sent


def _failed(session: Session, item: OutboxItem, error: str, now: datetime, give_up_after: int) -> None:
    item.attempts += 1
    item.last_error = error[:1000]
    item.locked_until = None
    item.next_attempt_at = now + backoff(item.attempts)
    if (now - item.created_at).total_seconds() > give_up_after:
        item.status = "failed"
        logger.error("giving up on outbox item %s (%s to %s): %s", item.id, item.intent, item.sender_id, error)
    else:
        logger.warning("outbox item %s (%s) not delivered, attempt %d: %s", item.id, item.intent, item.attempts, error)
    if item.conversation_id is not None:
        console_event(session, "delivery", item.conversation_id)
    session.commit()


def retry_now(session: Session, item_id: int) -> None:
    """An agent asked to try a failed or waiting delivery again right away."""
    item = session.get(OutboxItem, item_id)
    if item is None or item.status == "sent":
        return
    item.status, item.next_attempt_at, item.locked_until = "pending", utcnow(), None
    session.info["outbox_changed"] = True
    if item.conversation_id is not None:
        console_event(session, "delivery", item.conversation_id)
    session.commit()
