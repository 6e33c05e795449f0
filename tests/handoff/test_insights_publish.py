"""The learning loop in the service: pre-filled drafts, validation, publish to the FAQ file, audit, live index."""

from __future__ import annotations

import pytest
import yaml

from handoff.models import FaqChange

from tests.handoff.insights_support import admin, backend, encoder, faq, kb_settings, live  # noqa: F401 - fixtures
from tests.handoff.support import csrf, escalation_body

NEW = {
    "id": "pay-bitcoin",
    "language": "en",
    "questions": "Can I pay with bitcoin?\nDo you take crypto?",
    "answer": "No, we accept bank transfer and credit card.",
    "url": "https://example.com/help/pay",
    "tags": "billing, payment",
}


def form(client, path, **data):
    return client.post(path, data={"csrf_token": csrf(client), **data})


def test_publish_writes_the_faq_file_audits_and_answers_live(client, session, admin, faq, live, tmp_path):
    from knowledge_base import load_entries

    before = {(e.id, e.language): e for e in load_entries(faq)}
    assert (
        live.search("Can I pay with bitcoin?", language="en").band == "decline"
        or live.search("Can I pay with bitcoin?", language="en").hits[0].entry_id != "pay-bitcoin"
    )
    review = form(client, "/agent/admin/insights/faq", action="preview", is_new="1", **NEW)
    assert review.status_code == 200 and "Review" in review.get_data(as_text=True)
    assert "pay-bitcoin" not in (faq / "en.yml").read_text()
    unconfirmed = form(client, "/agent/admin/insights/faq", action="publish", is_new="1", **NEW)
    assert unconfirmed.status_code == 422 and "Publish to customers now" in unconfirmed.get_data(as_text=True)
    assert "pay-bitcoin" not in (faq / "en.yml").read_text()  # a click on Publish alone publishes nothing
    response = form(
        client,
        "/agent/admin/insights/faq",
        action="publish",
        confirm="yes",
        is_new="1",
        origin="cluster:bitcoin",
        **NEW,
    )
    assert response.status_code == 302, response.get_data(as_text=True)

    text = (faq / "en.yml").read_text()
    assert "# hand-written comment that must survive edits" in text
    after = {(e.id, e.language): e for e in load_entries(faq)}
    assert set(after) == set(before) | {("pay-bitcoin", "en")}
    assert all(after[k].answer == before[k].answer and after[k].questions == before[k].questions for k in before)
    new = after[("pay-bitcoin", "en")]
    assert new.questions == ["Can I pay with bitcoin?", "Do you take crypto?"] and new.tags == ["billing", "payment"]
    assert new.url == "https://example.com/help/pay"

    change = session.query(FaqChange).one()
    assert (change.action, change.entry_id, change.agent_email, change.origin) == (
        "create",
        "pay-bitcoin",
        "alex@example.com",
        "cluster:bitcoin",
    )
    assert change.before is None and change.after["answer"] == NEW["answer"] and change.source == str(faq / "en.yml")

    result = live.search("Can I pay with bitcoin?", language="en")
    assert result.band == "answer" and result.hits[0].entry_id == "pay-bitcoin"
    listing = client.get("/agent/admin/insights/faq").get_data(as_text=True)
    assert "pay-bitcoin" in listing and "alex@example.com" in listing


def test_a_second_process_sees_the_published_entry_through_the_journal(client, admin, faq, live, tmp_path):
    """The action server's view: a fresh load of the same index, sources not compared."""
    from knowledge_base import load_knowledge_base

    assert (
        form(client, "/agent/admin/insights/faq", action="publish", confirm="yes", is_new="1", **NEW).status_code == 302
    )
    fresh = load_knowledge_base(kb_settings(faq, tmp_path / "index", check_sources=False), encode=encoder())
    assert fresh.search("Can I pay with bitcoin?", language="en").hits[0].entry_id == "pay-bitcoin"


def test_a_fresh_default_load_accepts_the_index_after_publishing(client, admin, faq, live, tmp_path):
    from knowledge_base import load_knowledge_base

    assert (
        form(client, "/agent/admin/insights/faq", action="publish", confirm="yes", is_new="1", **NEW).status_code == 302
    )
    fresh = load_knowledge_base(kb_settings(faq, tmp_path / "index"), encode=encoder())
    assert fresh.search("Can I pay with bitcoin?", language="en").hits[0].entry_id == "pay-bitcoin"


@pytest.mark.parametrize(
    "change, field",
    [
        ({"answer": "  "}, "answer"),
        ({"id": "Bad Id!"}, "id"),
        ({"questions": ""}, "questions"),
        ({"language": "fr"}, "language"),
        ({"url": "javascript:alert(1)"}, "url"),
    ],
)
def test_validation_errors_are_shown_and_nothing_is_written(client, session, admin, faq, live, change, field):
    original = (faq / "en.yml").read_text()
    response = form(
        client, "/agent/admin/insights/faq", action="publish", confirm="yes", is_new="1", **{**NEW, **change}
    )
    assert response.status_code == 422
    page = response.get_data(as_text=True)
    assert 'id="problems"' in page and f"<code>{field}</code>" in page
    assert (faq / "en.yml").read_text() == original and session.query(FaqChange).count() == 0


def test_an_existing_id_is_not_created_twice_and_the_api_reports_it(client, admin, faq, live):
    response = form(
        client, "/agent/admin/insights/faq", action="publish", confirm="yes", is_new="1", **{**NEW, "id": "line-fault"}
    )
    assert response.status_code == 422 and "exists already" in response.get_data(as_text=True)
    api = client.post(
        "/api/insights/faq", json={**NEW, "id": "line-fault", "new": True}, headers={"X-CSRF-Token": csrf(client)}
    )
    assert api.status_code == 422 and api.get_json()["error"]["details"][0]["field"] == "id"
    assert client.post("/api/insights/faq", json=NEW).status_code == 400  # no CSRF token


def test_edit_replaces_in_place_and_retire_removes(client, session, admin, faq, live):
    page = client.get("/agent/admin/insights/faq/edit?id=line-fault&language=en").get_data(as_text=True)
    assert "Check the cable first." in page
    response = form(
        client,
        "/agent/admin/insights/faq",
        action="publish",
        confirm="yes",
        is_new="0",
        id="line-fault",
        language="en",
        questions="My internet is down\nNo internet at home",
        answer="Restart the router.\nThen call us.",
    )
    assert response.status_code == 302
    data = yaml.safe_load((faq / "en.yml").read_text())
    ids = [e["id"] for e in data["entries"]]
    assert ids == ["router-leds", "line-fault", "invoice-wrong"]  # same place, others untouched
    assert data["entries"][1]["answer"] == "Restart the router.\nThen call us."
    assert live.get("line-fault", "en").questions == ["My internet is down", "No internet at home"]
    change = session.query(FaqChange).one()
    assert change.action == "update" and change.before["answer"].startswith("Check the cable")

    api = client.delete("/api/insights/faq/de/router-leds", headers={"X-CSRF-Token": csrf(client)})
    assert api.status_code == 200 and api.get_json()["action"] == "retire"
    assert "router-leds" not in (faq / "de.yml").read_text()
    assert live.get("router-leds", "de") is None or live.get("router-leds", "de").language == "en"
    assert "router-leds" in (faq / "en.yml").read_text()
    changes = client.get("/api/insights/faq/changes").get_json()["changes"]
    assert [c["action"] for c in changes] == ["retire", "update"]


def test_drafts_are_prefilled_from_a_resolved_conversation(client, api, admin, live, open_hours):
    conversation = api.post("/escalations", escalation_body("esc-1", question="Can I pay with bitcoin?")).get_json()[
        "conversation_id"
    ]
    form(client, f"/agent/conversations/{conversation}/claim")
    form(client, f"/agent/conversations/{conversation}/reply", text="Sorry, only bank transfer and card.")
    form(client, f"/agent/conversations/{conversation}/resolve")
    report = client.get("/agent/admin/insights/").get_data(as_text=True)
    assert f"/agent/admin/insights/faq/new?conversation={conversation}" in report
    page = client.get(f"/agent/admin/insights/faq/new?conversation={conversation}").get_data(as_text=True)
    assert ">Can I pay with bitcoin?</textarea>" in page and ">Sorry, only bank transfer and card.</textarea>" in page
    assert f"conversation:{conversation}" in page


def test_drafts_are_prefilled_from_a_cluster(client, api, admin, live):
    for number, question in enumerate(["Can I pay with bitcoin?", "Is paying in bitcoin possible?"]):
        api.post(
            "/events",
            {
                "idempotency_key": f"e{number}",
                "sender_id": f"s{number}",
                "channel": "socketio",
                "language": "en",
                "type": "kb_decline",
                "question": question,
                "entry_id": None,
                "confidence": 0.1,
            },
        )
    page = client.get("/agent/admin/insights/faq/new?cluster=1").get_data(as_text=True)
    assert "Can I pay with bitcoin?\nIs paying in bitcoin possible?</textarea>" in page
    assert "<option selected>en</option>" in page
