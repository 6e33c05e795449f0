"""Analytics from conversations made through the real bot API and console: POST /api/events, reports, CSV."""

from __future__ import annotations

import csv
import io
from datetime import timedelta

import pytest

from handoff.insights import InsightsState
from handoff.models import BotEvent, utcnow

from tests.handoff.insights_support import encoder
from tests.handoff.support import API_TOKEN, csrf, escalation_body, login
from tests.handoff.test_api_callbacks import callback_body


@pytest.fixture
def backend():
    return "sqlite"


@pytest.fixture
def admin(app, client, make_agent):
    app.extensions["insights"] = InsightsState(encode=encoder(), kb_loader=lambda: None)
    agent = make_agent("Alex", role="admin", email="alex@example.com")
    login(client, "alex@example.com")
    return agent


def event(api, key, sender, kind, question, entry_id=None, language="en", channel="socketio", confidence=None):
    response = api.post(
        "/events",
        {
            "idempotency_key": key,
            "sender_id": sender,
            "channel": channel,
            "language": language,
            "type": kind,
            "question": question,
            "entry_id": entry_id,
            "confidence": confidence,
        },
    )
    assert response.status_code == 201, response.get_json()
    assert response.get_json() == {"ok": True}


def console(client, path, **data):
    return client.post(path, data={"csrf_token": csrf(client), **data})


def feedback(api, key, sender, entry_id, helpful, question=""):
    response = api.post(
        "/feedback",
        {
            "idempotency_key": key,
            "sender_id": sender,
            "channel": "socketio",
            "language": "en",
            "entry_id": entry_id,
            "helpful": helpful,
            "question": question,
        },
    )
    assert response.status_code == 201, response.get_json()


def test_events_are_stored_once_and_bad_input_is_a_4xx(api, session):
    body = {
        "idempotency_key": "e-1",
        "sender_id": "s-1",
        "channel": "socketio",
        "language": "en",
        "type": "kb_decline",
        "question": "Can I pay in bitcoin?",
        "entry_id": None,
        "confidence": 0.12,
    }
    assert api.post("/events", body).status_code == 201
    replay = api.post("/events", body)
    assert replay.status_code == 200 and replay.headers["Idempotent-Replayed"] == "true"
    assert session.query(BotEvent).count() == 1
    stored = session.query(BotEvent).one()
    assert (stored.type, stored.question, stored.confidence, stored.entry_id) == (
        "kb_decline",
        "Can I pay in bitcoin?",
        0.12,
        None,
    )
    for change, field in [
        ({"type": "kb_maybe"}, "type"),
        ({"language": "fr"}, "language"),
        ({"confidence": "high"}, "confidence"),
        ({"question": "x" * 5000}, "question"),
        ({"sender_id": None}, "sender_id"),
        ({"entry_id": 7}, "entry_id"),
    ]:
        response = api.post("/events", {**body, "idempotency_key": f"bad-{field}", **change})
        assert response.status_code == 422, (field, response.get_json())
        assert response.get_json()["error"]["details"][0]["field"] == field
    assert api.client.post("/api/events", data="nope", headers=api.headers).status_code == 400
    assert api.client.post("/api/events", json=body).status_code == 401
    assert api.post("/events", [1, 2]).status_code == 400


def test_insights_need_an_admin_session(client, api, make_agent):
    assert client.get("/api/insights/report", headers={"Authorization": f"Bearer {API_TOKEN}"}).status_code == 401
    make_agent("Sam", email="sam@example.com")
    login(client, "sam@example.com")
    assert client.get("/api/insights/report").status_code == 403
    assert client.get("/agent/admin/insights/").status_code == 403
    assert "Insights" not in client.get("/agent/").get_data(as_text=True)


def test_report_from_real_conversations(client, api, admin, open_hours):
    # A: answered, liked, never needed a person
    event(api, "a1", "cust-a", "kb_answer", "What do the router lights mean?", "router-leds", confidence=0.9)
    feedback(api, "fa", "cust-a", "router-leds", True)
    # B: answered, disliked, handed over, an agent replies and resolves, rates 5
    event(api, "b1", "cust-b", "kb_answer", "internet down", "line-fault", confidence=0.7)
    feedback(api, "fb", "cust-b", "line-fault", False, question="internet down since yesterday")
    b = api.post(
        "/escalations",
        escalation_body(
            "esc-b", sender_id="cust-b", reason="negative_feedback", question="internet down since yesterday"
        ),
    ).get_json()["conversation_id"]
    assert console(client, f"/agent/conversations/{b}/claim").status_code == 302
    assert (
        console(client, f"/agent/conversations/{b}/reply", text="Please restart the modem, then it works.").status_code
        == 302
    )
    assert console(client, f"/agent/conversations/{b}/resolve").status_code == 302
    assert api.post("/satisfaction", {"idempotency_key": "sat-b", "conversation_id": b, "score": 5}).status_code == 201
    # C: declined twice, asks for a person, leaves before anyone answers
    event(api, "c1", "cust-c", "kb_decline", "Can I pay with bitcoin?")
    event(api, "c2", "cust-c", "none_of_these", "Is paying in bitcoin possible?")
    c = api.post("/escalations", escalation_body("esc-c", sender_id="cust-c", reason="requested")).get_json()[
        "conversation_id"
    ]
    assert api.post(f"/escalations/{c}/cancel", {"reason": "customer_left"}).status_code == 200
    # D: German, on Messenger, declined, asks for a callback
    event(api, "d1", "cust-d", "kb_decline", "Wie kündige ich meinen Vertrag?", language="de", channel="facebook")
    assert api.post("/callbacks", callback_body("cb-d", sender_id="cust-d")).status_code == 201

    data = client.get("/api/insights/report").get_json()
    summary = data["summary"]
    assert (summary["conversations"], summary["contained"], summary["containment"]) == (4, 1, 0.25)
    assert summary["escalations"] == 2 and summary["callbacks_requested"] == 1 and summary["callbacks_done"] == 0
    assert summary["gave_up"] == 1 and summary["satisfaction_mean"] == 5 and summary["satisfaction_count"] == 1
    assert summary["first_reply_median_seconds"] is not None and summary["resolution_median_seconds"] is not None
    assert {r["reason"]: r["count"] for r in data["reasons"]} == {"negative_feedback": 1, "requested": 1}
    entries = {e["entry_id"]: e for e in data["entries"]}
    assert entries["router-leds"]["answers"] == 1 and entries["router-leds"]["helpful_rate"] == 1.0
    assert entries["line-fault"]["not_helpful"] == 1 and entries["line-fault"]["followed_by_handoff"] == 1
    assert [e["entry_id"] for e in data["followed_by_handoff"]] == ["line-fault"]
    groups = {(g["channel"], g["language"]): g for g in data["by_channel_language"]}
    assert groups[("facebook", "de")]["conversations"] == 1 and groups[("facebook", "de")]["contained"] == 0
    assert groups[("socketio", "en")]["conversations"] == 3 and groups[("socketio", "en")]["escalations"] == 2
    # the two crypto questions form one cluster, the largest; the cancellation stays apart; the 👎 is no
    # unanswered question (it counts as a rejected answer)
    clusters = data["clusters"]
    assert clusters[0]["size"] == 2
    assert set(clusters[0]["examples"]) == {"Can I pay with bitcoin?", "Is paying in bitcoin possible?"}
    assert sum(c["size"] for c in clusters) == 3 and len(clusters) == 2
    assert summary["unanswered"] == 3 and summary["answers_rejected"] == 1
    assert sum(d["conversations"] for d in data["trend"]) == 4

    german = client.get("/api/insights/report?language=de&clusters=0").get_json()
    assert german["summary"]["conversations"] == 1 and german["clusters"] == []
    later = (utcnow() + timedelta(days=3)).date().isoformat()
    assert client.get(f"/api/insights/report?from={later}&to={later}").get_json()["summary"]["conversations"] == 0
    bad = client.get("/api/insights/report?from=yesterday")
    assert bad.status_code == 422 and bad.get_json()["error"]["details"][0]["field"] == "from"

    rows = list(csv.DictReader(io.StringIO(client.get("/api/insights/entries.csv").get_data(as_text=True))))
    assert {r["entry_id"] for r in rows} == {"router-leds", "line-fault"}
    page = client.get("/agent/admin/insights/").get_data(as_text=True)
    assert "<svg" in page and "Is paying in bitcoin possible?" in page and 'id="stat-containment">25 %' in page
    for table in ("summary", "reasons", "clusters", "trend", "callbacks", "gave_up"):
        export = client.get(f"/agent/admin/insights/export/{table}.csv")
        assert (
            export.status_code == 200
            and export.mimetype == "text/csv"
            and export.get_data(as_text=True).count("\n") >= 2
        )
    assert 'href="/agent/admin/insights/"' in client.get("/agent/").get_data(as_text=True)


def test_csv_cells_that_a_spreadsheet_would_run_are_defused():
    from handoff.insights import csv_cell

    for formula in (
        '=HYPERLINK("http://evil.example","Klick")',
        "+49 cmd|' /C calc'!A0",
        "-2+3",
        "@SUM(A1)",
        "\t=1+1",
        "\r=1+1",
    ):
        assert csv_cell(formula) == "'" + formula
    assert csv_cell("Wo ist mein Paket?") == "Wo ist mein Paket?"
    assert csv_cell(-3) == -3 and csv_cell(0.25) == 0.25 and csv_cell(None) == ""
