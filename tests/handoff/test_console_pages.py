"""Console pages: queue, conversation view and its actions, live updates, callbacks, admin pages."""

from __future__ import annotations

import json
import time
from datetime import datetime, timedelta, timezone

import pytest
from sqlalchemy import select

from handoff.models import Agent, CallbackRequest, CannedResponse, Conversation, OutboxItem
from tests.handoff.support import csrf, escalation_body, login

XSS = '<script>alert("x")</script><img src=x onerror=alert(1)>'


@pytest.fixture
def backend():
    return "sqlite"


@pytest.fixture
def sam(client, make_agent):
    agent = make_agent("Sam", email="sam@example.com")
    login(client, "sam@example.com")
    return agent


@pytest.fixture
def admin(client, make_agent):
    agent = make_agent("Alex", role="admin", email="alex@example.com")
    login(client, "alex@example.com")
    return agent


def post(client, path, **data):
    return client.post(path, data={"csrf_token": csrf(client), **data})


def test_queue_shows_waiting_conversations_escaped(client, api, sam, open_hours):
    body = escalation_body("x", question=XSS, customer={"name": XSS})
    conversation_id = api.post("/escalations", body).get_json()["conversation_id"]
    page = client.get("/agent/").get_data(as_text=True)
    assert f'data-conversation-id="{conversation_id}"' in page
    assert "<script>alert" not in page and "<img src=x" not in page
    assert "&lt;script&gt;alert(&#34;x&#34;)&lt;/script&gt;" in page
    assert "the bot was not sure of the answer" in page
    fragment = client.get("/agent/queue/fragment").get_data(as_text=True)
    assert f'data-conversation-id="{conversation_id}"' in fragment and "<html" not in fragment


def test_conversation_view_has_transcript_kb_candidates_and_history(client, api, sam, open_hours):
    earlier = api.escalate(sender_id="repeat-customer", question="old question")["conversation_id"]
    api.post(f"/escalations/{earlier}/cancel", {"reason": "customer_left"})
    body = escalation_body("now", sender_id="repeat-customer")
    body["transcript"][0]["text"] = XSS
    conversation_id = api.post("/escalations", body).get_json()["conversation_id"]
    page = client.get(f"/agent/conversations/{conversation_id}").get_data(as_text=True)
    assert "bot-mark" in page  # bot turns are marked
    assert "router-leds" in page and "41 %" in page and "clarify" in page
    assert f'href="/agent/conversations/{earlier}"' in page and "old question" in page
    assert "<script>alert" not in page and "&lt;script&gt;" in page
    assert "Claim this conversation" in page


def test_claim_reply_note_and_return_through_the_console(client, api, session, sam, open_hours):
    conversation_id = api.escalate()["conversation_id"]
    response = post(client, f"/agent/conversations/{conversation_id}/claim", next="/agent/")
    assert response.status_code == 302 and response.headers["Location"].endswith(
        f"/agent/conversations/{conversation_id}"
    )
    page = client.get(f"/agent/conversations/{conversation_id}").get_data(as_text=True)
    assert 'id="reply-form"' in page

    reply = client.post(
        f"/agent/conversations/{conversation_id}/reply",
        data={"csrf_token": csrf(client), "text": XSS, "kind": "reply"},
        headers={"X-Requested-With": "fetch"},
    )
    assert reply.status_code == 200 and reply.get_json()["ok"] is True
    post(client, f"/agent/conversations/{conversation_id}/reply", text="internal only", kind="note")
    intents = [(i.intent, i.entities) for i in session.scalars(select(OutboxItem).order_by(OutboxItem.id))]
    assert intents == [
        ("agent_joined", {"agent_name": "Sam"}),
        ("agent_message", {"agent_text": XSS, "agent_name": "Sam", "message_id": reply.get_json()["message_id"]}),
    ]

    live = client.get(f"/agent/conversations/{conversation_id}/live?after=0").get_json()
    assert live["status"] == "open"
    assert "&lt;script&gt;" in live["html"] and "<script>alert" not in live["html"]
    assert "Private note" in live["html"] and "sending…" in live["html"]
    assert list(live["deliveries"].values())[0]["state"] == "pending"

    response = post(
        client, f"/agent/conversations/{conversation_id}/return", next=f"/agent/conversations/{conversation_id}"
    )
    assert response.status_code == 302
    session.expire_all()
    assert session.get(Conversation, conversation_id).status == "returned"
    assert session.scalars(select(OutboxItem).order_by(OutboxItem.id.desc())).first().entities == {
        "handoff_outcome": "returned"
    }


def test_errors_become_messages_not_crashes(client, api, make_agent, sam, open_hours):
    conversation_id = api.escalate()["conversation_id"]
    other = make_agent("Kim")
    with client.application.extensions["handoff"].session_factory() as session:
        from handoff.services.assignment import claim

        claim(session, conversation_id, session.get(Agent, other.id))
    response = post(client, f"/agent/conversations/{conversation_id}/claim", next="/agent/")
    assert response.status_code == 302
    assert "Kim already took this conversation" in client.get("/agent/").get_data(as_text=True)
    fetched = client.post(
        f"/agent/conversations/{conversation_id}/reply",
        data={"csrf_token": csrf(client), "text": "hi"},
        headers={"X-Requested-With": "fetch"},
    )
    assert fetched.status_code == 403 and "Kim" in fetched.get_json()["error"]["message"]
    assert client.get("/agent/conversations/9999").status_code == 404


def test_transfer_and_resolve(client, api, session, make_agent, sam, open_hours):
    kim = make_agent("Kim")
    conversation_id = api.escalate()["conversation_id"]
    post(client, f"/agent/conversations/{conversation_id}/claim")
    page = client.get(f"/agent/conversations/{conversation_id}").get_data(as_text=True)
    assert "Kim" in page  # offered as a transfer target
    post(client, f"/agent/conversations/{conversation_id}/transfer", target=str(kim.id))
    session.expire_all()
    assert session.get(Conversation, conversation_id).assignee_id == kim.id
    second = api.escalate()["conversation_id"]
    post(client, f"/agent/conversations/{second}/claim")
    post(client, f"/agent/conversations/{second}/resolve")
    session.expire_all()
    assert session.get(Conversation, second).status == "resolved"


def test_suggestions_come_from_the_knowledge_base_as_json(client, api, sam, open_hours):
    conversation_id = api.escalate(language="de")["conversation_id"]
    result = client.get(f"/agent/conversations/{conversation_id}/suggestions?q=wo+ist+meine+Bestellung").get_json()
    assert result["status"] == "ok"
    assert result["items"][0]["answer"] == "Track it under <b>Orders</b>."  # raw text; the page sets textContent
    queries = client.application.extensions["handoff"].suggestions.queries
    assert queries[-1] == ("wo ist meine Bestellung", "de")


def test_unavailable_knowledge_base_degrades_gracefully(client, api, sam, open_hours):
    from handoff.suggestions import KnowledgeBaseSuggestions
    from knowledge_base.provider import KnowledgeBaseProvider

    def broken_loader():
        raise FileNotFoundError("no index at var/kb_index")

    provider = KnowledgeBaseSuggestions(KnowledgeBaseProvider(broken_loader))
    client.application.extensions["handoff"].suggestions = provider
    conversation_id = api.escalate()["conversation_id"]
    url = f"/agent/conversations/{conversation_id}/suggestions"
    first = client.get(url).get_json()
    assert first["status"] in ("loading", "unavailable")
    deadline = time.monotonic() + 10
    while client.get(url).get_json()["status"] == "loading" and time.monotonic() < deadline:
        time.sleep(0.05)
    final = client.get(url).get_json()
    assert final["status"] == "unavailable" and "no index" in final["message"]


def test_event_stream_reports_new_conversations(client, api, sam, open_hours):
    response = client.get("/agent/events", buffered=False)
    assert response.mimetype == "text/event-stream"
    chunks = (chunk.decode() if isinstance(chunk, bytes) else chunk for chunk in response.response)
    assert '"kind": "hello"' in next(chunks)
    conversation_id = api.escalate()["conversation_id"]
    seen, deadline = [], time.monotonic() + 30
    for text in chunks:
        if text.startswith("id:"):
            seen.append(json.loads(text.split("data: ", 1)[1]))
        if any(event["kind"] == "queue" for event in seen) or time.monotonic() > deadline:
            break
    response.close()
    assert {"kind": "queue", "conversation_id": conversation_id, "callback_id": None} in seen


def test_event_stream_sees_changes_made_by_another_process(client, settings, sam, open_hours):
    """Several service processes share one database: a stream also polls for their events."""
    from handoff.db import Signals, make_engine, make_session_factory
    from handoff.services.escalations import EscalationRequest, QueueConfig, hand_off

    response = client.get("/agent/events", buffered=False)
    chunks = (chunk.decode() if isinstance(chunk, bytes) else chunk for chunk in response.response)
    assert '"kind": "hello"' in next(chunks)
    other_engine = make_engine(settings.database_url)  # another process: its own engine and signals
    with make_session_factory(other_engine, Signals())() as session:
        outcome = hand_off(
            session, EscalationRequest("other-process", "s-9", "rest", "en", "requested", "hi"), QueueConfig()
        )
    other_engine.dispose()
    seen, deadline = [], time.monotonic() + 30
    for text in chunks:
        if text.startswith("id:"):
            seen.append(json.loads(text.split("data: ", 1)[1]))
        if seen or time.monotonic() > deadline:
            break
    response.close()
    assert seen and seen[0]["conversation_id"] == outcome.body["conversation_id"]


def test_counts(client, api, sam, open_hours):
    conversation_id = api.escalate()["conversation_id"]
    counts = client.get("/agent/counts").get_json()
    queue = counts.pop("queue")
    assert counts == {"waiting": 1, "mine": 0, "callbacks_due": 0, "agents_online": 1}
    # what a new-customer alert names: who, asking what, and where to open them
    assert queue == [
        {
            "id": conversation_id,
            "customer": "Erika Mustermann",
            "question": "My router blinks red, what now?",
            "url": f"/agent/conversations/{conversation_id}",
        }
    ]


def make_callback(api, starts_in_hours: float, key: str) -> dict:
    start = datetime.now(timezone.utc) + timedelta(hours=starts_in_hours)
    return api.post(
        "/callbacks",
        {
            "idempotency_key": key,
            "sender_id": f"cb-{key}",
            "channel": "socketio",
            "language": "de",
            "contact_method": "email",
            "contact": "erika@example.com",
            "window_start": start.isoformat(),
            "window_end": (start + timedelta(hours=2)).isoformat(),
            "consent": True,
            "transcript": [{"role": "user", "text": XSS, "timestamp": 1700000000}],
        },
    ).get_json()


def test_callback_queue_orders_due_first_and_works_a_callback(client, api, session, sam, state):
    upcoming = make_callback(api, 5, "later")
    due = make_callback(api, -1, "now")
    page = client.get("/agent/callbacks").get_data(as_text=True)
    assert page.index(due["reference"]) < page.index(upcoming["reference"])
    assert "urgency-due" in page and "urgency-upcoming" in page
    detail = client.get(f"/agent/callbacks/{due['callback_id']}").get_data(as_text=True)
    assert "&lt;script&gt;" in detail and "<script>alert" not in detail

    post(client, f"/agent/callbacks/{due['callback_id']}/claim")
    post(client, f"/agent/callbacks/{due['callback_id']}/outcome", outcome="no_answer", note="voicemail")
    session.expire_all()
    callback = session.get(CallbackRequest, due["callback_id"])
    assert callback.status == "pending" and callback.attempts == 1 and callback.retry_at is not None
    for _ in range(2):
        post(client, f"/agent/callbacks/{due['callback_id']}/outcome", outcome="no_answer")
    session.expire_all()
    assert session.get(CallbackRequest, due["callback_id"]).status == "no_answer"  # attempts used up

    post(client, f"/agent/callbacks/{upcoming['callback_id']}/outcome", outcome="done")
    post(client, f"/agent/callbacks/{upcoming['callback_id']}/cancel")  # too late: already done
    session.expire_all()
    assert session.get(CallbackRequest, upcoming["callback_id"]).status == "done"
    updates = [
        (i.entities["callback_status"], i.entities["callback_reference"])
        for i in session.scalars(
            select(OutboxItem).where(OutboxItem.intent == "callback_update").order_by(OutboxItem.id)
        )
    ]
    assert updates == [("no_answer", due["reference"])] * 3 + [("done", upcoming["reference"])]


def test_agent_cancels_a_callback_and_the_customer_is_told(client, api, session, sam):
    created = make_callback(api, 1, "cancel-me")
    post(client, f"/agent/callbacks/{created['callback_id']}/cancel", note="duplicate")
    session.expire_all()
    assert session.get(CallbackRequest, created["callback_id"]).status == "cancelled"
    item = session.scalars(select(OutboxItem).where(OutboxItem.intent == "callback_update")).one()
    assert item.entities == {"callback_status": "cancelled", "callback_reference": created["reference"]}
    assert item.sender_id == "cb-cancel-me"


def test_admin_manages_agents(client, session, admin):
    response = post(
        client,
        "/agent/admin/agents",
        email="new@example.com",
        display_name="Neu",
        role="agent",
        languages="de",
        capacity="2",
        active="on",
        password="long-enough-1",
    )
    assert response.status_code == 302
    created = session.scalars(select(Agent).where(Agent.email == "new@example.com")).one()
    assert (created.languages, created.capacity, created.role) == ("de", 2, "agent")
    bad = post(client, "/agent/admin/agents", email="bad", display_name="", password="short")
    assert bad.status_code == 302
    assert "e-mail address looks wrong" in client.get("/agent/admin/agents").get_data(as_text=True)
    post(
        client,
        f"/agent/admin/agents/{created.id}",
        email="new@example.com",
        display_name="Neu",
        role="admin",
        languages=["de", "en"],
        capacity="4",
        active="on",
    )
    session.expire_all()
    assert session.get(Agent, created.id).role == "admin"
    assert session.get(Agent, created.id).languages == "de,en"


def test_admin_edits_hours_and_holidays(client, admin, api):
    post(client, "/agent/admin/hours/settings", timezone="Mars/Olympus")
    assert "not a known time zone" in client.get("/agent/admin/hours").get_data(as_text=True)
    post(client, "/agent/admin/hours/settings", timezone="America/New_York", auto_assign="on")
    post(client, "/agent/admin/hours/intervals", weekday="6", opens="10:00", closes="09:00")
    assert "opening time must be before" in client.get("/agent/admin/hours").get_data(as_text=True)
    post(client, "/agent/admin/hours/intervals", weekday="6", opens="00:00", closes="24:00")
    post(client, "/agent/admin/hours/holidays", day="2030-12-25", name="Christmas <Day>")
    page = client.get("/agent/admin/hours").get_data(as_text=True)
    assert "America/New_York" in page and "24:00" in page and "Christmas &lt;Day&gt;" in page


def test_admin_canned_responses_show_up_in_the_reply_box(client, session, api, admin, open_hours):
    post(client, "/agent/admin/canned", short_code="greet-de", language="de", content='Hallo! "Wie" <helfen>?')
    post(client, "/agent/admin/canned", short_code="greet-en", language="en", content="Hello!")
    assert session.scalars(select(CannedResponse)).all()
    conversation_id = api.escalate(language="de")["conversation_id"]
    post(client, f"/agent/conversations/{conversation_id}/claim")
    page = client.get(f"/agent/conversations/{conversation_id}").get_data(as_text=True)
    assert "greet-de" in page and "greet-en" not in page
    assert 'data-content="Hallo! &#34;Wie&#34; &lt;helfen&gt;?"' in page


def test_demo_page(client):
    page = client.get("/")
    assert page.status_code == 200 and "NordNet" in page.get_data(as_text=True)
    assert client.get("/static/web/site.css").status_code == 200


def test_health(client):
    body = client.get("/health").get_json()
    assert body["status"] == "ok" and body["schema"] == "current"
