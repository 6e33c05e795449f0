"""Retention: what ended more than N days ago is anonymised (handoff database) or deleted (tracker store)."""

from __future__ import annotations

import os
import subprocess
import sys
import time
from dataclasses import replace
from datetime import date, timedelta
from pathlib import Path

import pytest
from sqlalchemy import select

from handoff.models import (
    Agent,
    AuditEvent,
    BotEvent,
    CallbackRequest,
    Contact,
    Conversation,
    Feedback,
    Message,
    utcnow,
)
from handoff.services import analytics
from handoff.services.callbacks import cancel_by_customer
from handoff.services.privacy import MARKER
from handoff.services.retention import run_retention
from handoff.tracker_store import TrackerStore
from handoff.worker import Worker
from tests.handoff.privacy_support import add_tracker_events, make_customer, make_tracker_store, tracker_senders
from tests.handoff.test_privacy import everything_as_text

ROOT = Path(__file__).resolve().parents[2]
OLD_DAYS = 200


@pytest.fixture
def tracker_url(tmp_path) -> str:
    return make_tracker_store(tmp_path / "tracker.db")


@pytest.fixture
def settings(settings, tracker_url):
    return replace(settings, tracker_store_url=tracker_url, retention_days=180)


def backdate(session, sender_id: str, days: int) -> None:
    """Move everything of one customer ``days`` into the past."""
    delta = timedelta(days=days)
    contact = session.scalar(select(Contact).where(Contact.sender_id == sender_id))
    conversations = select(Conversation.id).where(Conversation.contact_id == contact.id)
    for message in session.scalars(select(Message).where(Message.conversation_id.in_(conversations))):
        message.created_at, message.sent_at = message.created_at - delta, None
    for model, columns in (
        (Conversation, ("created_at", "ended_at")),
        (CallbackRequest, ("created_at", "closed_at")),
        (BotEvent, ("created_at",)),
        (Feedback, ("created_at",)),
        (Contact, ("created_at", "last_seen_at")),
    ):
        key = model.id if model is Contact else model.contact_id
        for row in session.scalars(select(model).where(key == contact.id)):
            for column in columns:
                if getattr(row, column) is not None:
                    setattr(row, column, getattr(row, column) - delta)
    session.commit()


@pytest.fixture
def old_and_new(api, session, open_hours, make_agent, tracker_url):
    """Olga wrote 200 days ago (her callback is closed); Nina wrote today."""
    agent = session.get(Agent, make_agent("Sam").id)
    make_customer(api, session, agent, "olga-1", "Olga Alt", "+4930333333", "OLGA-SECRET")
    make_customer(api, session, agent, "nina-2", "Nina Neu", "+4930444444", "NINA-SECRET")
    reference = session.scalar(select(CallbackRequest.reference).where(CallbackRequest.sender_id == "olga-1"))
    cancel_by_customer(session, reference)
    backdate(session, "olga-1", OLD_DAYS)
    old = time.time() - OLD_DAYS * 86400
    add_tracker_events(tracker_url, "olga-1", ["OLGA-SECRET question"], timestamp=old)
    add_tracker_events(tracker_url, "nina-2", ["NINA-SECRET question"])
    session.expire_all()


def test_old_conversations_are_anonymised_new_ones_untouched(session, state, old_and_new):
    start = (utcnow() - timedelta(days=OLD_DAYS + 1)).date()
    period = analytics.Period(start, date.today())
    before = analytics.report(session, period)["summary"]
    messages_before = session.query(Message).count()

    report = run_retention(session, 180, TrackerStore(state.settings.tracker_store_url), "cli:tester")

    assert report.tracker_status == "ok" and report.tracker_events == 2
    assert report.handoff["contacts"] == 1 and report.handoff["callbacks"] == 1
    assert tracker_senders(state.settings.tracker_store_url) == {"nina-2": 2}
    text = everything_as_text(session)
    for personal in ("OLGA-SECRET", "Olga Alt", "+4930333333", "olga-1"):
        assert personal not in text, personal
    for kept in ("NINA-SECRET", "Nina Neu", "+4930444444", "nina-2"):
        assert kept in text, kept
    # The structure stays: every message, with its time, now says only that it was anonymised.
    assert session.query(Message).count() == messages_before
    old = session.scalar(select(Conversation).where(Conversation.question == MARKER))
    assert old.status == "resolved" and {m.content for m in old.messages} == {MARKER}
    assert old.created_at < utcnow() - timedelta(days=OLD_DAYS - 1) and old.contact.name is None
    after = analytics.report(session, period)["summary"]
    for figure in ("conversations", "escalations", "callbacks_requested", "answers", "satisfaction_count"):
        assert after[figure] == before[figure], figure
    entry = session.scalars(select(AuditEvent)).one()
    assert entry.action == "retention" and entry.actor == "cli:tester" and entry.counts["tracker_events"] == 2


def test_retention_is_idempotent_and_dry_run_changes_nothing(session, state, old_and_new):
    tracker = TrackerStore(state.settings.tracker_store_url)
    dry = run_retention(session, 180, tracker, dry_run=True)
    assert dry.handoff["contacts"] == 1 and dry.tracker_events == 2
    assert "OLGA-SECRET" in everything_as_text(session) and session.query(AuditEvent).count() == 0
    assert run_retention(session, 180, tracker).changed > 0
    again = run_retention(session, 180, tracker)
    assert again.changed == 0 and session.query(AuditEvent).count() == 1


def test_open_callbacks_are_kept_whatever_their_age(session, state, api, open_hours, make_agent):
    agent = session.get(Agent, make_agent("Sam").id)
    make_customer(api, session, agent, "paula-3", "Paula", "+4930555555", "PAULA-SECRET")
    backdate(session, "paula-3", OLD_DAYS)
    run_retention(session, 180, TrackerStore(state.settings.tracker_store_url))
    session.expire_all()
    callback = session.scalar(select(CallbackRequest))
    assert callback.status == "pending" and callback.contact_value == "+4930555555"
    assert callback.contact.sender_id == "paula-3"  # still reachable: nothing about them is re-keyed yet


def test_the_serving_worker_runs_retention(state, session, old_and_new):
    Worker(state, transport=object()).retention()
    assert "OLGA-SECRET" not in everything_as_text(session)
    assert session.scalars(select(AuditEvent)).one().actor == "system"


def test_cli_retention(settings, backend):
    if backend != "sqlite":
        pytest.skip("the command line is the same on every database")
    env = {k: v for k, v in os.environ.items() if not k.startswith(("HANDOFF_", "DATABASE_URL", "TRACKER"))}
    env.update(
        DATABASE_URL=settings.database_url, TRACKER_STORE_URL=settings.tracker_store_url, HANDOFF_ENV="development"
    )

    def run(*args):
        return subprocess.run(
            [sys.executable, "-m", "handoff", "privacy", "retention", *args],
            cwd=ROOT,
            env=env,
            capture_output=True,
            text=True,
            timeout=120,
        )

    off = run()
    assert off.returncode == 1 and "Retention is off" in off.stderr
    dry = run("--days", "30", "--dry-run")
    assert dry.returncode == 0, dry.stderr
    assert "would anonymise 0 messages" in dry.stdout and "would delete 0 event(s)" in dry.stdout


def test_only_one_worker_process_runs_retention_at_a_time(state, session, old_and_new, backend):
    if backend != "postgresql":
        pytest.skip("the cluster-wide lock is PostgreSQL's advisory lock")
    from sqlalchemy import text

    from handoff.worker import RETENTION_LOCK_KEY

    with state.engine.connect() as other_worker:
        other_worker.execute(text("SELECT pg_advisory_lock(:k)"), {"k": RETENTION_LOCK_KEY})
        Worker(state, transport=object()).retention()
        assert "OLGA-SECRET" in everything_as_text(session)  # skipped: someone else is at it
        other_worker.execute(text("SELECT pg_advisory_unlock(:k)"), {"k": RETENTION_LOCK_KEY})
        other_worker.commit()
    Worker(state, transport=object()).retention()
    session.expire_all()
    assert "OLGA-SECRET" not in everything_as_text(session)
