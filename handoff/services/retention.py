"""Retention: anonymise conversations, callbacks and analytics older than N days, and prune old tracker events."""

from __future__ import annotations

import logging
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Callable

from sqlalchemy import and_, delete, exists, func, select, update
from sqlalchemy.orm import Session

from handoff.models import (
    ACTIVE_STATUSES,
    OPEN_CALLBACK_STATUSES,
    Agent,
    BotEvent,
    CallbackEvent,
    CallbackRequest,
    Contact,
    Conversation,
    Feedback,
    Message,
    OutboxItem,
    utcnow,
)
from handoff.tracker_store import TrackerStore, TrackerStoreUnavailable

from . import audit
from .privacy import ERASED_PREFIX, MARKER, blank_keeping_kinds, scrub_contact, scrub_transcript, tracker_status

logger = logging.getLogger(__name__)

ANONYMOUS_PREFIX = "anon-"
EVENT_BATCH = 500  # bot events classified and blanked at a time
Classify = Callable[[list[str]], list[str]]


@dataclass
class RetentionReport:
    """How many rows were (or, in a dry run, would be) anonymised or removed, per kind."""

    cutoff: datetime
    dry_run: bool
    handoff: dict[str, int] = field(default_factory=dict)
    tracker_events: int = 0
    tracker_status: str = "ok"
    tracker_note: str | None = None

    @property
    def changed(self) -> int:
        return sum(self.handoff.values()) + self.tracker_events


def _count_or_update(session: Session, model, condition, values: dict, dry_run: bool) -> int:
    if dry_run:
        return session.scalar(select(func.count()).select_from(model).where(condition)) or 0
    return (
        session.execute(
            update(model).where(condition).values(**values).execution_options(synchronize_session=False)
        ).rowcount
        or 0
    )


def _anonymise_handoff(
    session: Session,
    report: RetentionReport,
    cutoff: datetime,
    dry_run: bool,
    now: datetime,
    classify: Classify | None,
) -> None:
    """Anonymise (or, dry run, count) the handoff database's rows older than ``cutoff`` into ``report.handoff``.

    Nothing is committed: the caller records the audit entry in the same transaction.
    """
    ended = and_(
        Conversation.status.not_in(ACTIVE_STATUSES),
        func.coalesce(Conversation.ended_at, Conversation.created_at) < cutoff,
    )
    old_conversations = select(Conversation.id).where(ended)
    report.handoff["messages"] = _count_or_update(
        session,
        Message,
        and_(Message.conversation_id.in_(old_conversations), Message.content != MARKER),
        {"content": MARKER},
        dry_run,
    )
    report.handoff["conversations"] = _count_or_update(
        session,
        Conversation,
        and_(ended, Conversation.question != MARKER, Conversation.question != ""),
        {"question": MARKER},
        dry_run,
    )
    report.handoff["callbacks"] = _scrub_callbacks(session, cutoff, dry_run)
    report.handoff["analytics_events"] = _blank_events(session, cutoff, dry_run, classify)
    report.handoff["feedback"] = _count_or_update(
        session, Feedback, and_(Feedback.created_at < cutoff, Feedback.question != ""), {"question": ""}, dry_run
    )
    report.handoff["outbox"] = _prune_outbox(session, cutoff, dry_run)
    report.handoff["contacts"] = _anonymise_contacts(session, cutoff, dry_run, now, classify)


def anonymise_before(
    session: Session,
    cutoff: datetime,
    tracker: TrackerStore,
    actor: str | Agent = "system",
    dry_run: bool = False,
    now: datetime | None = None,
    classify: Classify | None = None,
) -> RetentionReport:
    """Anonymise what ended before ``cutoff``; idempotent (a second run changes nothing).

    Texts, names, e-mail addresses and phone numbers become a marker or empty, customers' sender ids a
    random id; structure, timestamps, statuses, FAQ entry ids and ratings stay, so the insight figures do
    not change (``classify``, the insight page's question kinds, keeps a request for a person or small talk
    out of "unanswered" as the console's deletion does). Open conversations and callbacks are never touched. Tracker events older than the
    cutoff are deleted (Rasa only needs a conversation's recent sessions).
    """
    now = now or utcnow()
    report = RetentionReport(cutoff=cutoff, dry_run=dry_run)
    _anonymise_handoff(session, report, cutoff, dry_run, now, classify)
    entry = None
    if not dry_run and report.changed:
        # Recorded with the database change, before the tracker store is pruned.
        entry = audit.record(
            session, "retention", actor, None, dict(report.handoff), note=f"older than {cutoff.isoformat()}", now=now
        )
    if dry_run:
        session.rollback()
    else:
        session.commit()
    try:
        report.tracker_events = tracker.delete_older_than(cutoff, dry_run=dry_run)
    except TrackerStoreUnavailable as exc:
        report.tracker_status, report.tracker_note = tracker_status(exc), str(exc)
    if not dry_run and report.tracker_events:
        counts = {**report.handoff, "tracker_events": report.tracker_events}
        if entry is None:
            entry = audit.record(
                session, "retention", actor, None, counts, note=f"older than {cutoff.isoformat()}", now=now
            )
        entry.counts = counts
        session.commit()
    return report


def _scrub_callbacks(session: Session, cutoff: datetime, dry_run: bool) -> int:
    """Callbacks closed before the cutoff lose the contact, the transcript's words and the agents' notes."""
    closed = and_(
        CallbackRequest.status.not_in(OPEN_CALLBACK_STATUSES),
        func.coalesce(CallbackRequest.closed_at, CallbackRequest.created_at) < cutoff,
        CallbackRequest.contact_value != MARKER,
    )
    callbacks = session.scalars(select(CallbackRequest).where(closed)).all()
    if not dry_run:
        for callback in callbacks:
            callback.contact_value = MARKER
            callback.transcript = scrub_transcript(callback.transcript)
        session.execute(
            update(CallbackEvent)
            .where(CallbackEvent.callback_id.in_([c.id for c in callbacks]), CallbackEvent.note.is_not(None))
            .values(note=MARKER)
            .execution_options(synchronize_session=False)
        )
    return len(callbacks)


def _prune_outbox(session: Session, cutoff: datetime, dry_run: bool) -> int:
    """Sent or failed outbox rows older than the cutoff are deleted (pending ones stay)."""
    done = and_(OutboxItem.status != "pending", OutboxItem.created_at < cutoff)
    if dry_run:
        return session.scalar(select(func.count()).select_from(OutboxItem).where(done)) or 0
    return session.execute(delete(OutboxItem).where(done)).rowcount or 0


def _blank_events(session: Session, cutoff: datetime, dry_run: bool, classify: Classify | None) -> int:
    """Bot events older than the cutoff lose their words, keeping their kind (privacy.blank_keeping_kinds)."""
    words = and_(BotEvent.created_at < cutoff, BotEvent.question != "", ~BotEvent.question.startswith(MARKER))
    if dry_run:
        return session.scalar(select(func.count()).select_from(BotEvent).where(words)) or 0
    blanked, after = 0, 0
    while True:  # in batches by id: a first run over a long history neither loads nor encodes it all at once
        batch = session.scalars(
            select(BotEvent).where(words, BotEvent.id > after).order_by(BotEvent.id).limit(EVENT_BATCH)
        ).all()
        if not batch:
            return blanked
        blanked += blank_keeping_kinds(list(batch), classify)
        after = batch[-1].id
        session.flush()


def _anonymise_contacts(
    session: Session, cutoff: datetime, dry_run: bool, now: datetime, classify: Classify | None = None
) -> int:
    """Contacts not seen since the cutoff, with nothing open: no name, e-mail, phone, nor real sender id."""
    open_conversation = exists().where(Conversation.contact_id == Contact.id, Conversation.status.in_(ACTIVE_STATUSES))
    open_callback = exists().where(
        CallbackRequest.contact_id == Contact.id, CallbackRequest.status.in_(OPEN_CALLBACK_STATUSES)
    )
    query = select(Contact).where(
        Contact.last_seen_at < cutoff,
        ~open_conversation,
        ~open_callback,
        ~Contact.sender_id.startswith(ANONYMOUS_PREFIX, autoescape=True),
        ~Contact.sender_id.startswith(ERASED_PREFIX, autoescape=True),
    )
    contacts = session.scalars(query).all()
    if not dry_run:
        for contact in contacts:
            scrub_contact(session, contact, ANONYMOUS_PREFIX, now, classify)
    return len(contacts)


def run_retention(
    session: Session,
    days: int,
    tracker: TrackerStore,
    actor: str | Agent = "system",
    dry_run: bool = False,
    now: datetime | None = None,
    classify: Classify | None = None,
) -> RetentionReport:
    """Anonymise everything older than ``days`` days (``days`` must be at least 1)."""
    if days < 1:
        raise ValueError("retention needs at least one day")
    now = now or utcnow()
    return anonymise_before(session, now - timedelta(days=days), tracker, actor, dry_run, now, classify)


def describe(report: RetentionReport) -> list[str]:
    """Lines for the CLI and the log."""
    verb = "would anonymise" if report.dry_run else "anonymised"
    lines = [f"handoff database: {verb} " + ", ".join(f"{n} {k}" for k, n in report.handoff.items())]
    if report.tracker_status == "ok":
        lines.append(
            f"tracker store: {'would delete' if report.dry_run else 'deleted'} {report.tracker_events} "
            f"event(s) older than {report.cutoff.isoformat()}"
        )
    else:
        note = f" ({report.tracker_note})" if report.tracker_note else ""
        lines.append(f"tracker store: {report.tracker_status}{note}")
    return lines
