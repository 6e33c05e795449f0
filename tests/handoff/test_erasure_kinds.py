"""Issue 20: an erasure keeps what each bot event was (question, request for a person, small talk) whichever way it
is done: the console, the command line, or retention (its command and the worker's hourly run). No figure moves."""

from __future__ import annotations

import dataclasses
from datetime import timedelta

import pytest
from sqlalchemy import select, update

from handoff import cli
from handoff.models import BotEvent, utcnow
from handoff.worker import Worker

from tests.handoff.test_insights_api import admin, console, event  # noqa: F401 (admin is a fixture)

REQUEST, SMALL_TALK, QUESTION = (
    "I want to talk to a real person",
    "hi there, how are you doing?",
    "My headphones are broken",
)


@pytest.fixture
def backend():
    return "sqlite"


@pytest.fixture
def day(api, client, admin):
    """Four customers: a request for a person, small talk, a real question the bot declined, and an answered
    question that reads like small talk ("hello there": the knowledge base answered it, so it was a question)."""
    event(api, "d1", "cust-d", "kb_decline", REQUEST)
    event(api, "e1", "cust-e", "kb_decline", SMALL_TALK)
    event(api, "h1", "cust-h", "kb_decline", QUESTION)
    event(api, "k1", "cust-k", "kb_answer", "hello there", "router-leds", confidence=0.8)


def summary(client, days_back: int = 6) -> dict:
    start = (utcnow() - timedelta(days=days_back)).date().isoformat()
    data = client.get(f"/api/insights/report?from={start}").get_json()
    return {
        k: data["summary"][k]
        for k in ("conversations", "asked", "answers", "unanswered", "requests_for_person", "small_talk", "self_served")
    }


def stored(session) -> dict[str, str]:
    session.expire_all()
    return {e.sender_id: e.question for e in session.scalars(select(BotEvent))}


@pytest.fixture
def cli_env(monkeypatch, settings):
    for name in ("HANDOFF_ENV", "DATABASE_URL", "TRACKER_STORE_URL"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("DATABASE_URL", settings.database_url)
    monkeypatch.setenv("HANDOFF_ENV", "development")


def test_the_command_line_keeps_the_kinds_the_console_keeps(client, session, day, cli_env):
    before = summary(client)
    assert (before["unanswered"], before["requests_for_person"], before["small_talk"]) == (1, 1, 1)
    for customer in ("cust-d", "cust-e", "cust-h", "cust-k"):
        assert cli.main(["privacy", "delete", "--customer", customer, "--yes"]) == 0
    assert summary(client) == before
    assert sorted(stored(session).values()) == ["", "", "[anonymised] request", "[anonymised] small_talk"]


def test_the_console_keeps_an_answered_question_a_question(client, session, day):
    before = summary(client)
    assert (
        console(client, "/agent/admin/privacy/delete", kind="sender_id", value="cust-k", confirm="cust-k").status_code
        == 302
    )
    assert summary(client) == before
    assert "" in stored(session).values()


def test_retention_by_command_and_by_the_worker_keeps_the_kinds(client, session, state, day, cli_env):
    session.execute(update(BotEvent).values(created_at=utcnow() - timedelta(days=200)))
    session.commit()
    before = summary(client, days_back=250)
    assert (before["requests_for_person"], before["small_talk"]) == (1, 1)
    # The worker's hourly run on the older half, the command on the rest: the same kinds either way.
    session.execute(
        update(BotEvent)
        .where(BotEvent.sender_id.in_(["cust-h", "cust-k"]))
        .values(created_at=utcnow() - timedelta(days=100))
    )
    session.commit()
    state.settings = dataclasses.replace(state.settings, retention_days=180)
    Worker(state, transport=object()).retention()
    assert stored(session) == {
        "cust-d": "[anonymised] request",
        "cust-e": "[anonymised] small_talk",
        "cust-h": QUESTION,
        "cust-k": "hello there",
    }
    assert cli.main(["privacy", "retention", "--days", "30"]) == 0
    assert stored(session) == {
        "cust-d": "[anonymised] request",
        "cust-e": "[anonymised] small_talk",
        "cust-h": "",
        "cust-k": "",
    }
    assert summary(client, days_back=250) == before
    assert cli.main(["privacy", "retention", "--days", "30"]) == 0  # a second run changes nothing
    assert summary(client, days_back=250) == before
