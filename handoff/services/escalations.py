"""The bot's side of a hand-off: hand_off, customer messages while waiting or talking, cancel, status."""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import select, update
from sqlalchemy.orm import Session

from core.vocabulary import CANCEL_REASONS, QUEUE_UPDATE
from handoff.models import ACTIVE_STATUSES, Contact, Conversation, Message, utcnow

from .availability import Availability, availability, expected_wait, queue_position
from .contacts import upsert_contact
from .errors import Conflict, NotFound
from .events import console_event, send_to_customer
from .idempotency import Outcome, run_once
from .state import activity, transition


@dataclass(frozen=True)
class Turn:
    """One line of the bot conversation before the hand-off."""

    role: str  # "user" or "bot"
    text: str
    timestamp: datetime | None = None
    kb: dict[str, Any] | None = None


@dataclass(frozen=True)
class EscalationRequest:
    idempotency_key: str
    sender_id: str
    channel: str
    language: str
    reason: str
    question: str
    transcript: tuple[Turn, ...] = ()
    customer_name: str | None = None


@dataclass(frozen=True)
class QueueConfig:
    """The knobs of queue answers that come from settings."""

    presence_timeout: int = 120
    default_timezone: str = "Europe/Berlin"


def _turn_message(turn: Turn, now: datetime) -> Message:
    customer = turn.role == "user"
    return Message(
        message_type="incoming" if customer else "outgoing",
        sender_type="contact" if customer else "bot",
        content=turn.text,
        kb=turn.kb,
        sent_at=turn.timestamp,
        created_at=now,
    )


def queue_info(session: Session, conversation: Conversation, config: QueueConfig, now: datetime) -> dict[str, int]:
    position = queue_position(session, conversation)
    wait = expected_wait(session, position, conversation.language, config.presence_timeout, now)
    return {"position": position, "expected_wait_seconds": wait}


def wait_minutes(seconds: int | None) -> int:
    """Whole minutes as the customer reads them (never "0 min."); the bot rounds the same way."""
    return max(1, round((seconds or 60) / 60))


def queue_news(session: Session, conversation: Conversation, config: QueueConfig, now: datetime) -> dict[str, Any]:
    """What a waiting customer should read about their wait (the ``queue_update`` intent's entities).

    Their place and the expected minutes while someone who speaks their language is on duty; otherwise
    their place and why nobody can take it now (with the next opening out of hours), never a made-up wait.
    """
    position = queue_position(session, conversation)
    state = availability(session, conversation.language, config.presence_timeout, config.default_timezone, now)
    if state.accepting:
        wait = expected_wait(session, position, conversation.language, config.presence_timeout, now)
        return {"queue_position": position, "wait_minutes": wait_minutes(wait)}
    news: dict[str, Any] = {"queue_position": position, "reason_not_accepting": state.reason_not_accepting}
    if state.reason_not_accepting == "outside_business_hours" and state.next_opening:
        news.update(next_opening=state.next_opening.isoformat(), timezone=state.timezone)
    return news


def _told(news: dict[str, Any]) -> str:
    """The stored form of what a customer was told: equal news, equal text."""
    return json.dumps(news, sort_keys=True, separators=(",", ":"))


def announce_queue(session: Session, config: QueueConfig | None = None, now: datetime | None = None) -> int:
    """Tell each waiting customer whose place or expected wait differs from what they were last told.

    Called after every change that can move either (a claim, a cancel, agents coming, going away or
    logging out) once that change is committed, and every few seconds by the worker (a console that went
    quiet stops counting after the presence timeout). Each customer is settled in a short transaction of
    their own with a compare-and-set on ``queue_told``: two processes announcing at once tell nobody twice
    and hold no locks a claim could wait on. Returns how many were told.
    """
    config = config or QueueConfig()
    waiting = session.scalars(
        select(Conversation)
        .where(Conversation.status == "pending", Conversation.accepting.is_(True))
        .order_by(Conversation.created_at, Conversation.id)
    ).all()
    told = 0
    for conversation in waiting:
        news = queue_news(session, conversation, config, now or utcnow())
        before, after = conversation.queue_told, _told(news)
        if before == after:
            continue
        unchanged = Conversation.queue_told.is_(None) if before is None else Conversation.queue_told == before
        settled = session.execute(
            update(Conversation)
            .where(Conversation.id == conversation.id, Conversation.status == "pending", unchanged)
            .values(queue_told=after)
            .execution_options(synchronize_session=False)
        )
        if settled.rowcount == 1:
            send_to_customer(
                session, conversation.sender_id, QUEUE_UPDATE, news, conversation_id=conversation.id, now=now
            )
            told += 1
        session.commit()
    session.rollback()  # the reads above leave no transaction open
    return told


def mark_seen(session: Session, sender_id: str, message_ids: list[int], now: datetime | None = None) -> int:
    """The customer's widget showed these agent replies; only replies in that customer's own conversations count."""
    now = now or utcnow()
    own = select(Conversation.id).where(Conversation.sender_id == sender_id)
    rows = session.execute(
        update(Message)
        .where(
            Message.id.in_(message_ids),
            Message.sender_type == "agent",
            Message.private.is_(False),
            Message.seen_at.is_(None),
            Message.conversation_id.in_(own),
        )
        .values(seen_at=now)
        .returning(Message.conversation_id)
        .execution_options(synchronize_session=False)
    ).all()
    for conversation_id in {row[0] for row in rows}:
        console_event(session, "delivery", conversation_id)
    session.commit()
    return len(rows)


def get_conversation(session: Session, conversation_id: int) -> Conversation:
    conversation = session.get(Conversation, conversation_id)
    if conversation is None:
        raise NotFound(f"conversation {conversation_id} does not exist")
    return conversation


def _active_or_new(
    session: Session, contact: Contact, request: EscalationRequest, state: Availability, now: datetime
) -> tuple[Conversation, bool]:
    """The contact's latest active conversation (reused: True) or a new pending one, with the transcript added.

    A reused conversation gets only the turns newer than its latest message; a new one gets them all.
    """
    conversation = session.scalar(
        select(Conversation)
        .where(Conversation.contact_id == contact.id, Conversation.status.in_(ACTIVE_STATUSES))
        .order_by(Conversation.id.desc())
    )
    reused = conversation is not None
    if conversation is None:
        conversation = Conversation(
            contact=contact,
            channel=request.channel,
            sender_id=request.sender_id,
            language=request.language,
            reason=request.reason,
            question=request.question,
            status="pending",
            accepting=state.accepting,
            reason_not_accepting=state.reason_not_accepting,
            created_at=now,
        )
        session.add(conversation)
        turns = request.transcript
    else:
        known = [m.sent_at for m in conversation.messages if m.sent_at is not None]
        latest = max(known) if known else None
        turns = tuple(t for t in request.transcript if latest is None or (t.timestamp and t.timestamp > latest))
    for turn in turns:
        conversation.messages.append(_turn_message(turn, now))
    return conversation, reused


def _hand_off_reply(
    conversation: Conversation, state: Availability, queue: dict[str, Any], reused: bool
) -> dict[str, Any]:
    """What the bot is told after a hand-off: the conversation, whether people are answering, and the queue."""
    return {
        "conversation_id": conversation.id,
        "status": conversation.status,
        "accepting": state.accepting,
        "reason_not_accepting": state.reason_not_accepting,
        "queue": queue,
        "agent_name": conversation.assignee.display_name if conversation.assignee else None,
        "business_hours_open": state.business_hours_open,
        "next_opening": state.next_opening.isoformat() if state.next_opening else None,
        "timezone": state.timezone,
        "reused": reused,
    }


def hand_off(session: Session, request: EscalationRequest, config: QueueConfig, now: datetime | None = None) -> Outcome:
    """Put the bot's conversation in front of people: a new pending conversation, or the open one."""
    now = now or utcnow()

    def work(session: Session) -> tuple[int, dict[str, Any]]:
        contact = upsert_contact(
            session, request.channel, request.sender_id, now, request.language, request.customer_name
        )
        state = availability(session, request.language, config.presence_timeout, config.default_timezone, now)
        conversation, reused = _active_or_new(session, contact, request, state, now)
        closed = None
        if not state.accepting:
            closed = (
                "outside_business_hours"
                if state.reason_not_accepting == "outside_business_hours"
                else "no_agents_online"
            )
        if reused and conversation.status == "pending":
            # Asked again: the bot tells them what holds now (queued, or the callback form).
            conversation.accepting, conversation.reason_not_accepting = state.accepting, state.reason_not_accepting
        activity(conversation, "handed_over", now, reason=request.reason, closed=closed, again=reused)
        session.flush()
        console_event(session, "queue", conversation.id)
        console_event(session, "conversation", conversation.id)
        queue = queue_info(session, conversation, config, now)
        if state.accepting and conversation.status == "pending":
            # The bot's first answer states place and wait: later updates only say what changed since.
            conversation.queue_told = _told(
                {"queue_position": queue["position"], "wait_minutes": wait_minutes(queue["expected_wait_seconds"])}
            )
        return 201, _hand_off_reply(conversation, state, queue, reused)

    return run_once(session, "escalation", request.idempotency_key, request, work)


def status(session: Session, conversation_id: int, config: QueueConfig, now: datetime | None = None) -> dict[str, Any]:
    """Where the conversation stands, for the bot to tell the customer."""
    conversation = get_conversation(session, conversation_id)
    return {
        "conversation_id": conversation.id,
        "status": conversation.status,
        "queue": queue_info(session, conversation, config, now or utcnow()),
        "agent_name": conversation.assignee.display_name if conversation.assignee else None,
    }


def add_customer_message(
    session: Session,
    conversation_id: int,
    idempotency_key: str,
    text: str,
    timestamp: datetime | None,
    now: datetime | None = None,
) -> Outcome:
    """Relay a customer's message to the agent (or the queue) while people have the conversation."""
    now = now or utcnow()

    def work(session: Session) -> tuple[int, dict[str, Any]]:
        conversation = get_conversation(session, conversation_id)
        if not conversation.active:
            raise Conflict(
                f"conversation {conversation_id} is {conversation.status}; the bot has it again",
                code="conversation_closed",
            )
        message = Message(
            message_type="incoming", sender_type="contact", content=text, sent_at=timestamp, created_at=now
        )
        conversation.messages.append(message)
        conversation.contact.last_seen_at = now
        session.flush()
        console_event(session, "conversation", conversation.id)
        if conversation.status == "pending":
            console_event(session, "queue", conversation.id)
        return 201, {"message_id": message.id, "conversation_id": conversation.id, "status": conversation.status}

    key = f"{conversation_id}:{idempotency_key}"
    return run_once(session, "message", key, {"text": text, "timestamp": str(timestamp)}, work)


def cancel(
    session: Session, conversation_id: int, reason: str, now: datetime | None = None, config: QueueConfig | None = None
) -> dict[str, Any]:
    """The customer left or chose a callback: nobody should pick the conversation up any more."""
    now = now or utcnow()
    conversation = get_conversation(session, conversation_id)
    if not conversation.active:
        return {"conversation_id": conversation.id, "status": conversation.status, "changed": False}
    was = conversation.status
    changed = transition(session, conversation, ACTIVE_STATUSES, status="cancelled", ended_at=now, end_reason=reason)
    if not changed:
        session.rollback()
        return {"conversation_id": conversation.id, "status": conversation.status, "changed": False}
    activity(conversation, reason if reason in CANCEL_REASONS else "cancelled", now)
    session.flush()
    console_event(session, "conversation", conversation.id)
    if was == "pending" or conversation.assignee_id:
        console_event(session, "queue", conversation.id)
    session.commit()
    announce_queue(session, config, now)  # those behind move up; a freed agent shortens everyone's wait
    return {"conversation_id": conversation.id, "status": "cancelled", "changed": True}
