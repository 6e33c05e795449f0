"""Callback requests: created by the bot, worked by agents (claim, done, no answer, cancel)."""

from __future__ import annotations

import secrets
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any, Iterable

from sqlalchemy import select, update
from sqlalchemy.orm import Session

from core.vocabulary import CALLBACK_UPDATE
from handoff.models import OPEN_CALLBACK_STATUSES, Agent, CallbackEvent, CallbackRequest, Conversation, utcnow

from .contacts import upsert_contact
from .errors import Conflict, Forbidden, Invalid, NotFound, Term, TooMany, translatable
from .escalations import Turn
from .events import console_event, send_to_customer
from .idempotency import Outcome, run_once

REFERENCE_ALPHABET = "ABCDEFGHJKLMNPQRSTUVWXYZ23456789"  # no 0/O or 1/I to read out on the phone


@dataclass(frozen=True)
class CallbackInput:
    idempotency_key: str
    sender_id: str
    channel: str
    language: str
    contact_method: str
    contact: str
    window_start: datetime
    window_end: datetime
    window_tz: str = "+00:00"
    conversation_id: int | None = None
    transcript: tuple[Turn, ...] | None = None


@dataclass(frozen=True)
class CallbackPolicy:
    retry_minutes: int = 60
    max_attempts: int = 3


def new_reference() -> str:
    return "CB-" + "".join(secrets.choice(REFERENCE_ALPHABET) for _ in range(6))


def _unique_reference(session: Session) -> str:
    for _ in range(20):
        reference = new_reference()
        if session.scalar(select(CallbackRequest.id).where(CallbackRequest.reference == reference)) is None:
            return reference
    raise RuntimeError("could not find a free callback reference")


def _log(
    callback: CallbackRequest, kind: str, now: datetime, agent: Agent | None = None, note: str | None = None
) -> None:
    callback.events.append(
        CallbackEvent(kind=kind, agent_id=agent.id if agent else None, note=note or None, created_at=now)
    )


def _check_open_callbacks(session: Session, request: CallbackInput, max_open: int) -> None:
    """Unverified numbers and addresses cost agents calls: at most ``max_open`` open requests per
    phone number / e-mail address, and per customer, at a time."""
    same_person = (CallbackRequest.contact_value == request.contact) | (
        (CallbackRequest.channel == request.channel) & (CallbackRequest.sender_id == request.sender_id)
    )
    open_ones = session.scalars(
        select(CallbackRequest.reference)
        .where(CallbackRequest.status.in_(OPEN_CALLBACK_STATUSES), same_person)
        .order_by(CallbackRequest.id)
    ).all()
    if len(open_ones) >= max_open:
        raise TooMany(
            translatable("%(n)s callback requests are already open for this contact; at most %(limit)s."),
            code="too_many_callbacks",
            n=len(open_ones),
            limit=max_open,
            details=[{"field": "contact", "message": "open requests", "references": list(open_ones)}],
        )


def request_callback(
    session: Session, request: CallbackInput, now: datetime | None = None, max_open: int = 3
) -> Outcome:
    """Store the customer's request to be contacted; it shows up in the agents' callback queue."""
    now = now or utcnow()

    def work(session: Session) -> tuple[int, dict[str, Any]]:
        _check_open_callbacks(session, request, max_open)
        if request.conversation_id is not None and session.get(Conversation, request.conversation_id) is None:
            raise Invalid(
                translatable("conversation %(id)s does not exist"),
                id=request.conversation_id,
                details=[{"field": "conversation_id", "message": "no such conversation"}],
            )
        contact = upsert_contact(session, request.channel, request.sender_id, now, request.language)
        if request.contact_method == "phone":
            contact.phone = request.contact
        else:
            contact.email = request.contact
        transcript = None
        if request.transcript:
            transcript = [
                {
                    "role": t.role,
                    "text": t.text,
                    "timestamp": t.timestamp.timestamp() if t.timestamp else None,
                    "kb": t.kb,
                }
                for t in request.transcript
            ]
        callback = CallbackRequest(
            reference=_unique_reference(session),
            contact=contact,
            conversation_id=request.conversation_id,
            channel=request.channel,
            sender_id=request.sender_id,
            language=request.language,
            contact_method=request.contact_method,
            contact_value=request.contact,
            window_start=request.window_start,
            window_end=request.window_end,
            window_tz=request.window_tz,
            consent_at=now,
            transcript=transcript,
            created_at=now,
            updated_at=now,
        )
        session.add(callback)
        _log(callback, "requested", now)
        session.flush()
        console_event(session, "callbacks", callback_id=callback.id)
        return 201, {
            "callback_id": callback.id,
            "reference": callback.reference,
            "status": callback.status,
            "window_start": request.window_start.isoformat(),
            "window_end": request.window_end.isoformat(),
        }

    return run_once(session, "callback", request.idempotency_key, request, work)


def get_by_reference(session: Session, reference: str) -> CallbackRequest:
    callback = session.scalar(select(CallbackRequest).where(CallbackRequest.reference == reference.strip().upper()))
    if callback is None:
        raise NotFound(translatable("callback %(ref)s does not exist"), ref=reference)
    return callback


def get_callback(session: Session, callback_id: int) -> CallbackRequest:
    callback = session.get(CallbackRequest, callback_id)
    if callback is None:
        raise NotFound(translatable("callback %(ref)s does not exist"), ref=callback_id)
    return callback


def _move(session: Session, callback: CallbackRequest, from_statuses: Iterable[str], extra=(), **values: Any) -> None:
    """Atomic status change; raises Conflict when someone else changed the callback first."""
    result = session.execute(
        update(CallbackRequest)
        .where(CallbackRequest.id == callback.id, CallbackRequest.status.in_(tuple(from_statuses)), *extra)
        .values(**values)
        .execution_options(synchronize_session=False)
    )
    session.refresh(callback)
    if result.rowcount != 1:
        session.rollback()
        raise Conflict(
            translatable("Callback %(ref)s is %(status)s now; reload."),
            code="wrong_status",
            ref=callback.reference,
            status=Term(callback.status, "callback_status"),
        )


def _public(callback: CallbackRequest, changed: bool) -> dict[str, Any]:
    return {"callback_id": callback.id, "reference": callback.reference, "status": callback.status, "changed": changed}


def cancel_by_customer(session: Session, reference: str, now: datetime | None = None) -> dict[str, Any]:
    """The customer no longer wants the callback; a finished one is left as it is."""
    now = now or utcnow()
    callback = get_by_reference(session, reference)
    if not callback.is_open:
        return _public(callback, False)
    _move(session, callback, OPEN_CALLBACK_STATUSES, status="cancelled", closed_at=now, updated_at=now)
    _log(callback, "cancelled_by_customer", now)
    console_event(session, "callbacks", callback_id=callback.id)
    session.commit()
    return _public(callback, True)


def claim_callback(session: Session, callback_id: int, agent: Agent, now: datetime | None = None) -> CallbackRequest:
    """Take a callback so colleagues do not call the same customer."""
    now = now or utcnow()
    callback = get_callback(session, callback_id)
    if callback.status == "claimed" and callback.assignee_id == agent.id:
        return callback
    if callback.status == "claimed":
        raise Conflict(translatable("%(name)s already took it."), code="already_claimed", name=_assignee_name(callback))
    _move(session, callback, ["pending"], status="claimed", assignee_id=agent.id, updated_at=now)
    _log(callback, "claimed", now, agent)
    console_event(session, "callbacks", callback_id=callback.id)
    session.commit()
    return callback


def release_callback(session: Session, callback_id: int, agent: Agent, now: datetime | None = None) -> CallbackRequest:
    now = now or utcnow()
    callback = get_callback(session, callback_id)
    _check_owner(callback, agent)
    _move(session, callback, ["claimed"], status="pending", assignee_id=None, updated_at=now)
    _log(callback, "released", now, agent)
    console_event(session, "callbacks", callback_id=callback.id)
    session.commit()
    return callback


def _check_owner(callback: CallbackRequest, agent: Agent) -> None:
    if callback.status == "claimed" and callback.assignee_id not in (agent.id, None) and not agent.is_admin:
        raise Forbidden(translatable("%(name)s is working on this callback."), name=_assignee_name(callback))


def _assignee_name(callback: CallbackRequest) -> str:
    return callback.assignee.display_name if callback.assignee else "Someone"


def _notify(session: Session, callback: CallbackRequest, status: str, now: datetime) -> None:
    send_to_customer(
        session,
        callback.sender_id,
        CALLBACK_UPDATE,
        {"callback_status": status, "callback_reference": callback.reference},
        conversation_id=callback.conversation_id,
        callback_id=callback.id,
        now=now,
    )


def record_outcome(
    session: Session,
    callback_id: int,
    agent: Agent,
    outcome: str,
    policy: CallbackPolicy,
    note: str | None = None,
    now: datetime | None = None,
) -> CallbackRequest:
    """``done`` closes the callback; ``no_answer`` schedules a retry until attempts run out."""
    now = now or utcnow()
    if outcome not in ("done", "no_answer"):
        raise Invalid(translatable("outcome must be done or no_answer"))
    callback = get_callback(session, callback_id)
    _check_owner(callback, agent)
    attempts = callback.attempts + 1
    if outcome == "done":
        _move(
            session,
            callback,
            OPEN_CALLBACK_STATUSES,
            status="done",
            assignee_id=agent.id,
            attempts=attempts,
            closed_at=now,
            updated_at=now,
        )
    elif attempts < policy.max_attempts:
        _move(
            session,
            callback,
            OPEN_CALLBACK_STATUSES,
            status="pending",
            assignee_id=None,
            attempts=attempts,
            retry_at=now + timedelta(minutes=policy.retry_minutes),
            updated_at=now,
        )
    else:
        _move(
            session,
            callback,
            OPEN_CALLBACK_STATUSES,
            status="no_answer",
            assignee_id=agent.id,
            attempts=attempts,
            closed_at=now,
            updated_at=now,
        )
    _log(callback, outcome, now, agent, note)
    _notify(session, callback, outcome, now)
    console_event(session, "callbacks", callback_id=callback.id)
    session.commit()
    return callback


def cancel_by_agent(
    session: Session, callback_id: int, agent: Agent, note: str | None = None, now: datetime | None = None
) -> CallbackRequest:
    """Drop a callback (e.g. a duplicate); the customer is told on their channel."""
    now = now or utcnow()
    callback = get_callback(session, callback_id)
    _check_owner(callback, agent)
    _move(session, callback, OPEN_CALLBACK_STATUSES, status="cancelled", closed_at=now, updated_at=now)
    _log(callback, "cancelled", now, agent, note)
    _notify(session, callback, "cancelled", now)
    console_event(session, "callbacks", callback_id=callback.id)
    session.commit()
    return callback


def urgency(callback: CallbackRequest, now: datetime) -> str:
    """overdue (window passed), due (inside the window), upcoming, or closed."""
    if not callback.is_open:
        return "closed"
    if now > callback.window_end:
        return "overdue"
    if callback.due_from() <= now:
        return "due"
    return "upcoming"


def callback_queue(
    session: Session, now: datetime | None = None, include_closed: bool = False
) -> list[CallbackRequest]:
    """Open callbacks, overdue first, then due (least time left first), then upcoming."""
    now = now or utcnow()
    query = select(CallbackRequest)
    if not include_closed:
        query = query.where(CallbackRequest.status.in_(OPEN_CALLBACK_STATUSES))
    callbacks = session.scalars(query.order_by(CallbackRequest.id.desc()).limit(500)).all()
    rank = {"overdue": 0, "due": 1, "upcoming": 2, "closed": 3}

    def key(callback: CallbackRequest):
        level = urgency(callback, now)
        when = callback.window_end if level in ("overdue", "due") else callback.due_from()
        if level == "closed":
            return (rank[level], -(callback.closed_at or callback.updated_at).timestamp())
        return (rank[level], when.timestamp())

    return sorted(callbacks, key=key)
