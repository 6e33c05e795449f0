"""Everything about one customer: find it (sender id, e-mail, phone), export it, and erase it."""

from __future__ import annotations

import re
import secrets
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, Callable

from sqlalchemy import delete, func, or_, select
from sqlalchemy.orm import Session, selectinload

from handoff.models import (
    ACTIVE_STATUSES,
    OPEN_CALLBACK_STATUSES,
    Agent,
    BotEvent,
    CallbackRequest,
    Contact,
    Conversation,
    FaqChange,
    Feedback,
    IdempotencyRecord,
    OutboxItem,
    utcnow,
)
from handoff.tracker_store import TrackerStore, TrackerStoreAbsent, TrackerStoreUnavailable

from . import audit
from .errors import Invalid

MARKER = "[anonymised]"
ERASED_PREFIX = "erased-"  # sender ids of erased customers: random, not derived from the real id


@dataclass(frozen=True)
class Lookup:
    """How the customer was named: a Rasa sender id (conversation id), an e-mail or a phone number."""

    sender_id: str | None = None
    email: str | None = None
    phone: str | None = None

    def __post_init__(self) -> None:
        given = [v for v in (self.sender_id, self.email, self.phone) if v and v.strip()]
        if len(given) != 1:
            raise Invalid("name the customer by exactly one of: sender id, e-mail, phone")

    @property
    def value(self) -> str:
        return (self.sender_id or self.email or self.phone or "").strip()

    @property
    def kind(self) -> str:
        return "sender_id" if self.sender_id else "email" if self.email else "phone"


def tracker_status(exc: TrackerStoreUnavailable) -> str:
    """ "absent": nothing is stored there (in-memory trackers, no file yet); "error": could not reach it."""
    return "absent" if isinstance(exc, TrackerStoreAbsent) else "error"


def normalise_phone(value: str) -> str:
    """Callbacks store E.164 (+4930123456); accept spaces, dashes, brackets and a 00 prefix."""
    digits = re.sub(r"[\s\-().\/]", "", value.strip())
    return "+" + digits[2:] if digits.startswith("00") else digits


def find_contacts(session: Session, lookup: Lookup) -> list[Contact]:
    """The contacts (one per channel) behind the lookup; empty when the handoff service never saw them."""
    if lookup.sender_id:
        condition = Contact.sender_id == lookup.value
    elif lookup.email:
        email = lookup.value.lower()
        by_callback = select(CallbackRequest.contact_id).where(
            CallbackRequest.contact_method == "email", func.lower(CallbackRequest.contact_value) == email
        )
        condition = or_(func.lower(Contact.email) == email, Contact.id.in_(by_callback))
    else:
        phone = normalise_phone(lookup.value)
        by_callback = select(CallbackRequest.contact_id).where(
            CallbackRequest.contact_method == "phone", CallbackRequest.contact_value == phone
        )
        condition = or_(Contact.phone == phone, Contact.id.in_(by_callback))
    return list(session.scalars(select(Contact).where(condition).order_by(Contact.id)))


def sender_ids(contacts: list[Contact], lookup: Lookup) -> list[str]:
    """The Rasa conversation ids to look for in the tracker store."""
    ids = {c.sender_id for c in contacts}
    if lookup.sender_id:
        ids.add(lookup.value)  # the tracker may know a customer the handoff service never saw
    return sorted(ids)


def _iso(value: datetime | None) -> str | None:
    return value.isoformat() if value else None


def _conversations(session: Session, contact_ids: list[int]) -> list[Conversation]:
    return list(
        session.scalars(
            select(Conversation)
            .where(Conversation.contact_id.in_(contact_ids))
            .order_by(Conversation.id)
            .options(selectinload(Conversation.messages), selectinload(Conversation.satisfaction))
        )
    )


def _callbacks(session: Session, contact_ids: list[int]) -> list[CallbackRequest]:
    return list(
        session.scalars(
            select(CallbackRequest)
            .where(CallbackRequest.contact_id.in_(contact_ids))
            .order_by(CallbackRequest.id)
            .options(selectinload(CallbackRequest.events))
        )
    )


def _agent_names(session: Session) -> dict[int, str]:
    return {row.id: row.display_name for row in session.execute(select(Agent.id, Agent.display_name))}


def _contact_doc(c: Contact) -> dict[str, Any]:
    return {
        "channel": c.channel,
        "sender_id": c.sender_id,
        "name": c.name,
        "language": c.language,
        "email": c.email,
        "phone": c.phone,
        "first_seen": _iso(c.created_at),
        "last_seen": _iso(c.last_seen_at),
    }


def _conversation_doc(c: Conversation, names: dict[int, str]) -> dict[str, Any]:
    """A conversation with its messages; agents by display name, private notes marked."""
    return {
        "id": c.id,
        "channel": c.channel,
        "sender_id": c.sender_id,
        "language": c.language,
        "reason": c.reason,
        "question": c.question,
        "status": c.status,
        "created_at": _iso(c.created_at),
        "ended_at": _iso(c.ended_at),
        "end_reason": c.end_reason,
        "agent": names.get(c.assignee_id) if c.assignee_id else None,
        "satisfaction": c.satisfaction.score if c.satisfaction else None,
        "messages": [
            {
                "type": m.message_type,
                "from": m.sender_type,
                "private_note": m.private,
                "agent": names.get(m.agent_id) if m.agent_id else None,
                "text": m.content,
                "time": _iso(m.when),
            }
            for m in c.messages
        ],
    }


def _callback_doc(c: CallbackRequest) -> dict[str, Any]:
    """A callback request with its history."""
    return {
        "reference": c.reference,
        "channel": c.channel,
        "sender_id": c.sender_id,
        "language": c.language,
        "contact_method": c.contact_method,
        "contact": c.contact_value,
        "window_start": _iso(c.window_start),
        "window_end": _iso(c.window_end),
        "consent_at": _iso(c.consent_at),
        "status": c.status,
        "attempts": c.attempts,
        "created_at": _iso(c.created_at),
        "closed_at": _iso(c.closed_at),
        "transcript": c.transcript,
        "history": [{"kind": e.kind, "note": e.note, "time": _iso(e.created_at)} for e in c.events],
    }


def _feedback_doc(f: Feedback) -> dict[str, Any]:
    return {
        "entry_id": f.entry_id,
        "helpful": f.helpful,
        "question": f.question,
        "language": f.language,
        "time": _iso(f.created_at),
    }


def _event_doc(e: BotEvent) -> dict[str, Any]:
    return {
        "type": e.type,
        "question": e.question,
        "entry_id": e.entry_id,
        "confidence": e.confidence,
        "channel": e.channel,
        "language": e.language,
        "time": _iso(e.created_at),
    }


def _tracker_part(tracker: TrackerStore, senders: list[str]) -> dict[str, Any]:
    """The tracker store's events for these sender ids, or its status and an empty list when it cannot be read."""
    tracker_part: dict[str, Any] = {"store": tracker.describe(), "sender_ids": senders}
    try:
        tracker_part["events"] = tracker.events_for(senders)
        tracker_part["status"] = "ok"
    except TrackerStoreUnavailable as exc:
        tracker_part.update(status=tracker_status(exc), note=str(exc), events=[])
    return tracker_part


def collect(session: Session, lookup: Lookup, tracker: TrackerStore, now: datetime | None = None) -> dict[str, Any]:
    """One JSON-ready document with everything stored about the customer (not audited: see export_customer)."""
    now = now or utcnow()
    contacts = find_contacts(session, lookup)
    ids = [c.id for c in contacts]
    names = _agent_names(session)
    conversations = _conversations(session, ids)
    callbacks = _callbacks(session, ids)
    feedback = session.scalars(select(Feedback).where(Feedback.contact_id.in_(ids)).order_by(Feedback.id)).all()
    events = session.scalars(select(BotEvent).where(BotEvent.contact_id.in_(ids)).order_by(BotEvent.id)).all()
    senders = sender_ids(contacts, lookup)
    outbox = session.scalars(select(OutboxItem).where(OutboxItem.sender_id.in_(senders)).order_by(OutboxItem.id)).all()
    handoff = {
        "contacts": [_contact_doc(c) for c in contacts],
        "conversations": [_conversation_doc(c, names) for c in conversations],
        "callbacks": [_callback_doc(c) for c in callbacks],
        "feedback": [_feedback_doc(f) for f in feedback],
        "analytics_events": [_event_doc(e) for e in events],
        "messages_to_customer": [
            {"intent": o.intent, "entities": o.entities, "status": o.status, "time": _iso(o.created_at)} for o in outbox
        ],
    }
    tracker_part = _tracker_part(tracker, senders)
    counts = {
        "contacts": len(contacts),
        "conversations": len(conversations),
        "messages": sum(len(c.messages) for c in conversations),
        "callbacks": len(callbacks),
        "feedback": len(feedback),
        "analytics_events": len(events),
        "outbox": len(outbox),
        "tracker_events": len(tracker_part["events"]),
    }
    return {
        "exported_at": now.isoformat(),
        "customer": {lookup.kind: lookup.value, "sender_ids": senders},
        "counts": counts,
        "handoff": handoff,
        "tracker_store": tracker_part,
    }


def export_customer(
    session: Session,
    lookup: Lookup,
    tracker: TrackerStore,
    actor: str | Agent,
    secret_key: str,
    now: datetime | None = None,
) -> dict[str, Any]:
    """``collect``, and write who exported whom (as a keyed hash) and how much to the audit."""
    document = collect(session, lookup, tracker, now)
    audit.record(
        session,
        "privacy_export",
        actor,
        audit.customer_ref(secret_key, lookup.value),
        document["counts"],
        note=f"by {lookup.kind}; tracker store {document['tracker_store']['status']}",
        now=now,
    )
    session.commit()
    return document


@dataclass
class ErasureReport:
    """What ``erase_customer`` did, per store; shown by the CLI and the console, and audited."""

    handoff: dict[str, int] = field(default_factory=dict)
    tracker_events: int = 0
    tracker_status: str = "ok"  # ok | absent (nothing stored there) | error (not reached: run again)
    tracker_note: str | None = None

    @property
    def found(self) -> bool:
        return any(self.handoff.values()) or self.tracker_events > 0

    def lines(self) -> list[str]:
        """What was deleted where, for people."""
        erased = ", ".join(f"{n} {k.replace('_', ' ')}" for k, n in self.handoff.items() if n) or "nothing found"
        lines = [f"handoff database: {erased} (erased in one transaction)"]
        if self.tracker_status == "ok":
            lines.append(f"tracker store: {self.tracker_events} event(s) deleted")
        else:
            lines.append(f"tracker store: {self.tracker_status}: {self.tracker_note}")
        return lines


def scrub_transcript(transcript: list[Any] | None) -> list[Any] | None:
    """The bot's transcript with every text replaced by the marker; roles and times stay."""
    if not transcript:
        return transcript
    scrubbed = []
    for turn in transcript:
        if isinstance(turn, dict):
            turn = {k: (MARKER if k == "text" and v else v) for k, v in turn.items()}
        scrubbed.append(turn)
    return scrubbed


def scrub_contact(
    session: Session,
    contact: Contact,
    prefix: str,
    now: datetime,
    classify: Callable[[list[str]], list[str]] | None = None,
) -> dict[str, int]:
    """Remove every personal detail of one contact and re-key it to a random id; the statistics stay.

    Open conversations and callbacks are ended first; messages queued for the customer are dropped.
    ``classify`` (the insight page's question_kinds) keeps what a bot event was: an erased request for a person
    or small talk becomes "[anonymised] request" / "[anonymised] small_talk", so it stays out of "unanswered".
    """
    counts = {"messages": 0, "conversations": 0, "callbacks": 0, "feedback": 0, "analytics_events": 0}
    old_sender = contact.sender_id
    counts["faq_history"] = scrub_faq_history(session, _questions_of(session, contact))
    pseudonym = prefix + secrets.token_hex(8)
    for conversation in _conversations(session, [contact.id]):
        if conversation.status in ACTIVE_STATUSES:
            conversation.status, conversation.end_reason, conversation.ended_at = "cancelled", "erased", now
        conversation.question, conversation.sender_id = MARKER if conversation.question else "", pseudonym
        for message in conversation.messages:
            message.content, message.kb = MARKER, None
            counts["messages"] += 1
        counts["conversations"] += 1
    for callback in _callbacks(session, [contact.id]):
        if callback.status in OPEN_CALLBACK_STATUSES:
            callback.status, callback.closed_at, callback.retry_at = "cancelled", now, None
        callback.contact_value, callback.sender_id = MARKER, pseudonym
        callback.transcript = scrub_transcript(callback.transcript)
        for event in callback.events:
            if event.note:
                event.note = MARKER
        counts["callbacks"] += 1
    for item in session.scalars(select(Feedback).where(Feedback.contact_id == contact.id)):
        item.question = ""
        counts["feedback"] += 1
    events = list(session.scalars(select(BotEvent).where(BotEvent.contact_id == contact.id)))
    blank_keeping_kinds(events, classify)
    for event in events:
        event.sender_id = pseudonym
        counts["analytics_events"] += 1
    counts["outbox"] = session.execute(delete(OutboxItem).where(OutboxItem.sender_id == old_sender)).rowcount or 0
    # The action server's keys are "<sender id>:<purpose>:<time>" (actions/conversation.py).
    escaped = old_sender.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
    counts["idempotency_keys"] = (
        session.execute(
            delete(IdempotencyRecord).where(IdempotencyRecord.key.like(f"{escaped}:%", escape="\\"))
        ).rowcount
        or 0
    )
    contact.sender_id, contact.name, contact.email, contact.phone = pseudonym, None, None, None
    return counts


def blank_keeping_kinds(events: list[BotEvent], classify: Callable[[list[str]], list[str]] | None) -> int:
    """Remove the customers' words from these bot events but keep what each was, read the way the insight
    figures read it (services/analytics.py): what the knowledge base answered is a question; a request for a
    person or small talk becomes "[anonymised] request" / "[anonymised] small_talk"; the rest is blank (a
    question). Without ``classify`` everything is a question. Returns how many events lost their words."""
    from .question_kinds import QUESTION

    todo = [e for e in events if e.question and not e.question.startswith(MARKER)]
    readable = [e for e in todo if e.type != "kb_answer" and e.question.strip()]
    kinds = (
        dict(zip((e.id for e in readable), classify([e.question for e in readable]))) if classify and readable else {}
    )
    for event in todo:
        kind = kinds.get(event.id, QUESTION)
        event.question = "" if kind == QUESTION else f"{MARKER} {kind}"
    return len(todo)


def _questions_of(session: Session, contact: Contact) -> set[str]:
    """Everything this customer asked that an operator may have copied into an FAQ draft."""
    texts = {c.question for c in _conversations(session, [contact.id])}
    texts |= set(session.scalars(select(BotEvent.question).where(BotEvent.contact_id == contact.id)))
    texts |= set(session.scalars(select(Feedback.question).where(Feedback.contact_id == contact.id)))
    return {text.strip() for text in texts if text and text.strip() and text != MARKER}


def scrub_faq_history(session: Session, questions: set[str]) -> int:
    """FAQ drafts start from customers' questions (insights: a conversation or a cluster); the change
    history keeps the entry before and after. Replace this customer's verbatim questions there (the
    live FAQ entry is the operator's published content and stays as published)."""
    if not questions:
        return 0

    def scrub(value: Any) -> tuple[Any, bool]:
        if isinstance(value, str):
            return (MARKER, True) if value.strip() in questions else (value, False)
        if isinstance(value, list):
            pairs = [scrub(item) for item in value]
            return [item for item, _ in pairs], any(changed for _, changed in pairs)
        if isinstance(value, dict):
            pairs = {key: scrub(item) for key, item in value.items()}
            return {key: item for key, (item, _) in pairs.items()}, any(changed for _, changed in pairs.values())
        return value, False

    changed_rows = 0
    for change in session.scalars(select(FaqChange)):
        before, before_changed = scrub(change.before)
        after, after_changed = scrub(change.after)
        origin_changed = bool(change.origin) and any(q in change.origin for q in questions)
        if before_changed or after_changed or origin_changed:
            change.before, change.after = before, after
            if origin_changed:
                change.origin = change.origin.split(":", 1)[0] + ":" + MARKER
            changed_rows += 1
    return changed_rows


def erase_customer(
    session: Session,
    lookup: Lookup,
    tracker: TrackerStore,
    actor: str | Agent,
    secret_key: str,
    now: datetime | None = None,
    classify: Callable[[list[str]], list[str]] | None = None,
) -> ErasureReport:
    """Erase the customer: the handoff database in one transaction, then the tracker store; audited."""
    now = now or utcnow()
    contacts = find_contacts(session, lookup)
    senders = sender_ids(contacts, lookup)
    report = ErasureReport(handoff={"contacts": len(contacts)})
    for contact in contacts:
        for name, number in scrub_contact(session, contact, ERASED_PREFIX, now, classify).items():
            report.handoff[name] = report.handoff.get(name, 0) + number
    session.flush()
    # Audited in the same transaction as the erasure, so it can never happen unrecorded.
    entry = audit.record(
        session,
        "privacy_delete",
        actor,
        audit.customer_ref(secret_key, lookup.value),
        dict(report.handoff),
        note=f"by {lookup.kind}; tracker store not reached yet",
        now=now,
    )
    session.commit()
    try:
        report.tracker_events = tracker.delete_for(senders)
    except TrackerStoreUnavailable as exc:
        report.tracker_status, report.tracker_note = tracker_status(exc), str(exc)
    entry.counts = {**report.handoff, "tracker_events": report.tracker_events}
    entry.note = f"by {lookup.kind}; tracker store {report.tracker_status}"
    session.commit()
    return report
