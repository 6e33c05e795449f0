"""Export and delete everything about one customer: handoff database and Rasa's tracker store, audited."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from dataclasses import replace
from datetime import date
from pathlib import Path

import pytest
from sqlalchemy import select

from handoff.models import (
    Agent,
    AuditEvent,
    BotEvent,
    CallbackEvent,
    CallbackRequest,
    Contact,
    Conversation,
    FaqChange,
    Feedback,
    IdempotencyRecord,
    Message,
    OutboxItem,
)
from handoff.services import analytics
from handoff.services.privacy import Lookup, erase_customer, export_customer
from handoff.tracker_store import TrackerStore
from tests.handoff.privacy_support import add_tracker_events, make_customer, make_tracker_store, tracker_senders
from tests.handoff.support import csrf, login

ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture
def tracker_url(tmp_path) -> str:
    return make_tracker_store(tmp_path / "tracker.db")


@pytest.fixture
def settings(settings, tracker_url):
    return replace(settings, tracker_store_url=tracker_url)


@pytest.fixture
def customers(api, session, open_hours, make_agent, tracker_url):
    """Erika (the one we erase) and Max (who must stay), each with everything a customer leaves behind."""
    agent = session.get(Agent, make_agent("Sam").id)
    make_customer(api, session, agent, "erika-1", "Erika Mustermann", "+4930111111", "ERIKA-SECRET")
    make_customer(api, session, agent, "max-2", "Max Muster", "+4930222222", "MAX-SECRET")
    for secret in ("ERIKA-SECRET", "MAX-SECRET"):  # an operator drafted an FAQ entry from each question
        conversation = session.scalar(select(Conversation).where(Conversation.question.contains(secret)))
        session.add(
            FaqChange(
                agent_email="op@example.com",
                action="create",
                entry_id=f"router-{secret.lower()}",
                language="en",
                source="data/faq/en.yml",
                origin=f"conversation:{conversation.id}",
                before=None,
                after={
                    "id": f"router-{secret.lower()}",
                    "questions": [f"My router {secret} blinks red", "My router blinks red"],
                    "answer": "Restart it.",
                },
            )
        )
    session.commit()
    add_tracker_events(tracker_url, "erika-1", ["my router ERIKA-SECRET", "a person please"])
    add_tracker_events(tracker_url, "max-2", ["my router MAX-SECRET"])
    add_tracker_events(tracker_url, "bot-only-3", ["never handed over"])
    session.expire_all()
    return agent


def everything_as_text(session) -> str:
    """Every row of every table that can hold customer data, as one string to search."""
    session.expire_all()
    parts = []
    for model in (
        Contact,
        Conversation,
        Message,
        CallbackRequest,
        CallbackEvent,
        Feedback,
        BotEvent,
        OutboxItem,
        IdempotencyRecord,
        AuditEvent,
        FaqChange,
    ):
        for row in session.scalars(select(model)):
            parts.append(repr({c.key: getattr(row, c.key) for c in model.__mapper__.column_attrs}))
    return "\n".join(parts)


def test_export_contains_everything_about_the_customer_and_nothing_of_others(session, state, customers):
    document = export_customer(
        session,
        Lookup(sender_id="erika-1"),
        TrackerStore(state.settings.tracker_store_url),
        "cli:tester",
        state.settings.secret_key,
    )
    text = json.dumps(document, ensure_ascii=False)
    assert "MAX-SECRET" not in text and "Max Muster" not in text
    handoff = document["handoff"]
    assert handoff["contacts"][0]["name"] == "Erika Mustermann" and handoff["contacts"][0]["phone"] == "+4930111111"
    messages = [m["text"] for m in handoff["conversations"][0]["messages"]]
    assert "My router ERIKA-SECRET blinks red" in messages
    assert "Hello Erika Mustermann, please restart it" in messages and "Erika Mustermann sounds upset" in messages
    assert handoff["callbacks"][0]["contact"] == "+4930111111"
    assert handoff["callbacks"][0]["transcript"][0]["text"] == "call me about ERIKA-SECRET"
    assert handoff["feedback"][0]["question"] == "router ERIKA-SECRET"
    assert handoff["analytics_events"][0]["question"] == "what about ERIKA-SECRET"
    tracker = document["tracker_store"]
    assert tracker["status"] == "ok" and len(tracker["events"]) == 4
    assert tracker["events"][0]["data"]["text"] == "my router ERIKA-SECRET"  # parsed, not a JSON string
    assert document["counts"]["tracker_events"] == 4 and document["counts"]["conversations"] == 1
    audit = session.scalars(select(AuditEvent)).one()
    assert audit.action == "privacy_export" and audit.actor == "cli:tester"
    assert "erika" not in (audit.subject or "").lower() and audit.subject.startswith("hmac:")
    assert audit.counts["messages"] == len(messages)


def test_export_by_phone_or_email_finds_the_callback_customer(session, state, customers, api):
    tracker = TrackerStore(state.settings.tracker_store_url)
    by_phone = export_customer(session, Lookup(phone="0049 30 111111"), tracker, "cli:t", "k")
    assert by_phone["customer"]["sender_ids"] == ["erika-1"] and by_phone["counts"]["tracker_events"] == 4
    from tests.handoff.test_api_callbacks import callback_body

    api.post(
        "/callbacks",
        callback_body(
            "cb-mail", sender_id="mail-4", channel="socketio", contact_method="email", contact="Kim@Example.org"
        ),
    )
    by_email = export_customer(session, Lookup(email="kim@example.org"), tracker, "cli:t", "k")
    assert by_email["customer"]["sender_ids"] == ["mail-4"] and by_email["counts"]["callbacks"] == 1


def test_delete_removes_the_customer_everywhere_and_keeps_the_others(session, state, customers):
    settings = state.settings
    tracker = TrackerStore(settings.tracker_store_url)
    today = date.today()
    before = analytics.report(session, analytics.Period(today, today))["summary"]
    report = erase_customer(session, Lookup(sender_id="erika-1"), tracker, "cli:tester", settings.secret_key)

    assert report.tracker_status == "ok" and report.tracker_events == 4
    assert report.handoff["conversations"] == 1 and report.handoff["callbacks"] == 1 and report.handoff["contacts"] == 1
    assert tracker_senders(settings.tracker_store_url) == {"max-2": 2, "bot-only-3": 2}
    text = everything_as_text(session)
    for personal in ("ERIKA-SECRET", "Erika", "+4930111111", "erika-1"):
        assert personal not in text, personal
    assert "MAX-SECRET" in text and "Max Muster" in text and "+4930222222" in text
    assert report.handoff["faq_history"] == 1  # Erika's words left the FAQ change history; the entry's own stay
    erika_change = session.scalar(select(FaqChange).where(FaqChange.entry_id == "router-erika-secret"))
    assert erika_change.after["questions"][1] == "My router blinks red"
    # Nothing dangles and the figures of the past stay: the anonymous remainder still counts.
    after = analytics.report(session, analytics.Period(today, today))["summary"]
    for figure in ("conversations", "escalations", "callbacks_requested", "answers", "satisfaction_count"):
        assert after[figure] == before[figure], figure
    assert session.scalar(select(Conversation).where(Conversation.sender_id == "max-2")).contact.name == "Max Muster"
    export = export_customer(session, Lookup(sender_id="erika-1"), tracker, "cli:tester", settings.secret_key)
    assert export["counts"] == {key: 0 for key in export["counts"]}
    audits = session.scalars(select(AuditEvent).order_by(AuditEvent.id)).all()
    assert [a.action for a in audits] == ["privacy_delete", "privacy_export"]
    assert audits[0].counts["tracker_events"] == 4 and audits[0].counts["messages"] >= 4
    assert audits[0].subject == audits[1].subject  # the same customer, recognisable only by its hash


def test_delete_cancels_what_is_still_open(session, state, api, open_hours, make_agent):
    make_agent("Sam")
    conversation_id = api.escalate(sender_id="waiting-5")["conversation_id"]
    report = erase_customer(session, Lookup(sender_id="waiting-5"), TrackerStore(None), "cli:t", "k")
    session.expire_all()
    conversation = session.get(Conversation, conversation_id)
    assert conversation.status == "cancelled" and conversation.end_reason == "erased"
    assert report.tracker_status == "absent" and "memory" in report.tracker_note


def test_tracker_store_in_memory_is_reported_not_fatal(session, customers):
    document = export_customer(session, Lookup(sender_id="erika-1"), TrackerStore(None), "cli:t", "k")
    assert document["tracker_store"]["status"] == "absent" and document["tracker_store"]["events"] == []
    assert "memory" in document["tracker_store"]["note"] and document["counts"]["conversations"] == 1


def test_admin_console_exports_and_deletes(client, session, state, customers, make_agent):
    make_agent(role="admin", email="boss@example.com")
    make_agent(email="plain@example.com")
    login(client, "plain@example.com")
    lookup = {"kind": "phone", "value": "+49 30 111111"}
    assert client.post("/agent/admin/privacy", data={**lookup, "csrf_token": csrf(client)}).status_code == 403
    client.post("/agent/logout", data={"csrf_token": csrf(client)})
    login(client, "boss@example.com")
    # Look-ups are POSTs: no e-mail address or phone number in a URL (access logs, browser history).
    assert client.post("/agent/admin/privacy", data=lookup).status_code == 400  # no CSRF token
    page = client.post("/agent/admin/privacy", data={**lookup, "csrf_token": csrf(client)})
    body = page.get_data(as_text=True)
    assert page.status_code == 200 and "Download everything" in body and 'method="get"' not in body
    assert "111111" not in "".join(part.split('"')[0] for part in body.split('href="')[1:])  # in no link either
    download = client.post("/agent/admin/privacy/export", data={**lookup, "csrf_token": csrf(client)})
    assert download.status_code == 200 and "attachment" in download.headers["Content-Disposition"]
    assert download.get_json()["counts"]["callbacks"] == 1
    assert client.get("/agent/admin/privacy/export?kind=phone&value=%2B4930111111").status_code == 405
    assert download.get_json()["counts"]["tracker_events"] == 4
    form = {"kind": "sender_id", "value": "erika-1", "confirm": "erika-1"}
    assert client.post("/agent/admin/privacy/delete", data=form).status_code == 400  # no CSRF token
    wrong = client.post("/agent/admin/privacy/delete", data={**form, "confirm": "x", "csrf_token": csrf(client)})
    assert wrong.status_code == 302 and tracker_senders(state.settings.tracker_store_url)["erika-1"] == 4
    done = client.post("/agent/admin/privacy/delete", data={**form, "csrf_token": csrf(client)}, follow_redirects=True)
    body = done.get_data(as_text=True)
    assert "4 event(s) deleted" in body and "1 conversations" in body
    assert "erika-1" not in tracker_senders(state.settings.tracker_store_url)
    audits = session.scalars(select(AuditEvent).order_by(AuditEvent.id)).all()
    assert [(a.action, a.actor) for a in audits] == [
        ("privacy_export", "boss@example.com"),
        ("privacy_delete", "boss@example.com"),
    ]
    assert "privacy delete" in client.get("/agent/admin/privacy").get_data(as_text=True)


@pytest.fixture
def cli_env(settings) -> dict:
    environment = {k: v for k, v in os.environ.items() if not k.startswith(("HANDOFF_", "DATABASE_URL", "TRACKER"))}
    environment.update(
        DATABASE_URL=settings.database_url,
        TRACKER_STORE_URL=settings.tracker_store_url,
        HANDOFF_ENV="development",
        SECRET_KEY=settings.secret_key,
    )
    return environment


def run_cli(*args: str, env: dict) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "-m", "handoff", "privacy", *args],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
        stdin=subprocess.DEVNULL,
    )


def test_cli_export_and_delete(cli_env, customers, session, tmp_path, backend):
    if backend != "sqlite":
        pytest.skip("the command line is the same on every database")
    out = tmp_path / "erika.json"
    exported = run_cli("export", "--customer", "erika-1", "--out", str(out), env=cli_env)
    assert exported.returncode == 0, exported.stderr
    assert json.loads(out.read_text())["counts"]["tracker_events"] == 4 and out.stat().st_mode & 0o077 == 0
    refused = run_cli("delete", "--customer", "erika-1", env=cli_env)
    assert refused.returncode == 1 and "--yes" in refused.stderr and "Stored about this customer" in refused.stdout
    deleted = run_cli("delete", "--customer", "erika-1", "--yes", env=cli_env)
    assert deleted.returncode == 0, deleted.stderr
    assert "handoff database:" in deleted.stdout and "tracker store: 4 event(s) deleted" in deleted.stdout
    session.expire_all()
    actors = [a.actor for a in session.scalars(select(AuditEvent))]
    assert len(actors) == 2 and all(a.startswith("cli:") for a in actors)
    assert run_cli("export", "--customer", "a", "--email", "b@c.de", env=cli_env).returncode == 2
