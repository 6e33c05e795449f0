"""A scripted day of eight customers through the bot API and the console: every figure the insight page shows,
exactly, and the same after a privacy deletion."""

from __future__ import annotations

import re

import pytest
from sqlalchemy import func, select

from handoff.models import BotEvent
from handoff.services.privacy import Lookup, erase_customer
from handoff.tracker_store import TrackerStore

from tests.handoff.support import escalation_body
from tests.handoff.test_api_callbacks import callback_body
from tests.handoff.test_insights_api import admin, console, event, feedback  # noqa: F401 (admin is a fixture)


@pytest.fixture
def backend():
    return "sqlite"


def scripted_day(api, client):
    # A: answered, 👍: contained and self-served
    event(api, "a1", "cust-a", "kb_answer", "What do the router lights mean?", "router-leds", confidence=0.9)
    feedback(api, "fa", "cust-a", "router-leds", True)
    # B: answered, 👎, no person: contained but not self-served
    event(api, "b1", "cust-b", "kb_answer", "internet down", "line-fault", confidence=0.7)
    feedback(api, "fb", "cust-b", "line-fault", False, question="internet down since yesterday")
    # C: declined, then "none of these"; asks for a person, an agent replies and resolves, C rates 4
    event(api, "c1", "cust-c", "kb_decline", "Can I pay with bitcoin?")
    event(api, "c2", "cust-c", "none_of_these", "Is paying in bitcoin possible?")
    c = api.post("/escalations", escalation_body("esc-c", sender_id="cust-c", reason="requested")).get_json()
    assert console(client, f"/agent/conversations/{c['conversation_id']}/claim").status_code == 302
    assert (
        console(client, f"/agent/conversations/{c['conversation_id']}/reply", text="Not yet, sorry.").status_code == 302
    )
    assert console(client, f"/agent/conversations/{c['conversation_id']}/resolve").status_code == 302
    assert (
        api.post(
            "/satisfaction", {"idempotency_key": "sat-c", "conversation_id": c["conversation_id"], "score": 4}
        ).status_code
        == 201
    )
    # D: asks for a person in words the classifier missed (a request, no question), leaves before anyone comes
    event(api, "d1", "cust-d", "kb_decline", "I want to talk to a real person")
    d = api.post("/escalations", escalation_body("esc-d", sender_id="cust-d", reason="requested")).get_json()
    assert api.post(f"/escalations/{d['conversation_id']}/cancel", {"reason": "customer_left"}).status_code == 200
    # E: small talk the bot declined, then a question it answered
    event(api, "e1", "cust-e", "kb_decline", "hi there, how are you doing?")
    event(api, "e2", "cust-e", "kb_answer", "my invoice is wrong", "invoice-wrong", confidence=0.8)
    # F: German, Messenger, declined, books a callback
    event(api, "f1", "cust-f", "kb_decline", "Wie kündige ich meinen Vertrag?", language="de", channel="facebook")
    assert api.post("/callbacks", callback_body("cb-f", sender_id="cust-f")).status_code == 201
    # G: two answers, 👍 on one and 👎 on the other: one answer kept, so self-served
    event(api, "g1", "cust-g", "kb_answer", "no internet", "line-fault", confidence=0.8)
    feedback(api, "fg1", "cust-g", "line-fault", True)
    event(api, "g2", "cust-g", "kb_answer", "router lights", "router-leds", confidence=0.8)
    feedback(api, "fg2", "cust-g", "router-leds", False, question="router lights")
    # H: declined; erased later on request
    event(api, "h1", "cust-h", "kb_decline", "My headphones are broken")


EXPECTED_SUMMARY = {
    "conversations": 8,
    "contained": 5,
    "containment": 0.625,
    "asked": 7,
    "self_served": 3,
    "self_service": 0.4286,
    "escalations": 2,
    "callbacks_requested": 1,
    "callbacks_done": 0,
    "callbacks_overdue": 0,
    "answers": 5,
    "answers_rejected": 2,
    "unanswered": 4,
    "requests_for_person": 1,
    "small_talk": 1,
    "gave_up": 1,
    "satisfaction_count": 1,
    "satisfaction_mean": 4,
}


def shown(page: str, name: str) -> str:
    return re.search(rf'id="stat-{name}">([^<]*)<', page).group(1).strip()


def check_figures(client):
    data = client.get("/api/insights/report").get_json()
    summary = data["summary"]
    assert {k: summary[k] for k in EXPECTED_SUMMARY} == EXPECTED_SUMMARY
    assert summary["first_reply_median_seconds"] is not None and summary["resolution_median_seconds"] is not None
    assert sum(d["unanswered"] for d in data["trend"]) == summary["unanswered"]  # one definition, chart and summary
    assert sum(d["escalations"] for d in data["trend"]) == 2 and sum(d["answers"] for d in data["trend"]) == 5
    assert max(d["conversations"] for d in data["trend"]) == 8
    assert {r["reason"]: r["count"] for r in data["reasons"]} == {"requested": 2}
    assert {r["status"]: r["count"] for r in data["callbacks"]} == {
        "pending": 1,
        "claimed": 0,
        "done": 0,
        "no_answer": 0,
        "cancelled": 0,
        "overdue": 0,
    }
    entries = {
        e["entry_id"]: (e["answers"], e["helpful"], e["not_helpful"], e["helpful_rate"]) for e in data["entries"]
    }
    assert entries == {"router-leds": (2, 1, 1, 0.5), "line-fault": (2, 1, 1, 0.5), "invoice-wrong": (1, 0, 0, None)}
    groups = {
        (g["channel"], g["language"]): (
            g["conversations"],
            g["contained"],
            g["asked"],
            g["self_served"],
            g["escalations"],
        )
        for g in data["by_channel_language"]
    }
    assert groups == {("socketio", "en"): (7, 5, 6, 3, 2), ("facebook", "de"): (1, 0, 1, 0, 0)}
    assert [s["count"] for s in data["satisfaction"]] == [0, 0, 0, 1, 0]
    page = client.get("/agent/admin/insights/").get_data(as_text=True)
    # 5/8 = 62.5 % and 3/7 = 42.9 %: rounded, not cut
    assert (shown(page, "containment"), shown(page, "self-service")) == ("63 %", "43 %")
    assert (shown(page, "conversations"), shown(page, "unanswered"), shown(page, "escalations")) == ("8", "4", "2")
    assert (shown(page, "answers"), shown(page, "callbacks"), shown(page, "gave-up")) == ("5 / 2", "1 / 0 / 0", "1")
    assert shown(page, "satisfaction") == "4.0 (1)"
    assert "Self-service resolution" in page and "is not counted" in page and "Rounded to the nearest" in page
    return data


def test_a_scripted_day_gives_exact_figures_that_a_deletion_keeps(client, api, admin, open_hours, session, state):
    scripted_day(api, client)
    before = check_figures(client)
    clusters = before["clusters"]
    texts = [e for c in clusters for e in c["examples"]]
    assert "I want to talk to a real person" not in texts and "hi there, how are you doing?" not in texts
    assert clusters[0]["size"] == 2 and clusters[0]["medoid"] in (
        "Can I pay with bitcoin?",
        "Is paying in bitcoin possible?",
    )
    assert sorted(c["size"] for c in clusters) == [1, 1, 2]
    draft = client.get(f"/agent/admin/insights/faq/new?cluster={clusters[0]['cluster']}").get_data(as_text=True)
    questions = re.search(r'<textarea name="questions"[^>]*>([^<]*)</textarea>', draft).group(1)
    assert questions.splitlines()[0] == clusters[0]["medoid"] and "headphones" not in questions
    assert 'name="confirm"' in draft  # publishing needs the box ticked

    # H's question (as the command line erases: no classifier) and, in the console, D's request for a person
    erase_customer(session, Lookup(sender_id="cust-h"), TrackerStore(None), "cli:test", state.settings.secret_key)
    erased = console(client, "/agent/admin/privacy/delete", kind="sender_id", value="cust-d", confirm="cust-d")
    assert erased.status_code == 302
    after = check_figures(client)
    assert after["summary"] == before["summary"] and after["trend"] == before["trend"]
    words = str(after["clusters"]) + str(after["unanswered"])
    assert "My headphones are broken" not in words and "real person" not in words
    assert (
        session.scalar(
            select(func.count())
            .select_from(BotEvent)
            .where(BotEvent.question.in_(["I want to talk to a real person", "My headphones are broken"]))
        )
        == 0
    )
    assert session.scalars(
        select(BotEvent.question).where(BotEvent.type == "kb_decline").order_by(BotEvent.id)
    ).all() == [
        "Can I pay with bitcoin?",
        "[anonymised] request",
        "hi there, how are you doing?",
        "Wie kündige ich meinen Vertrag?",
        "",
    ]
