"""Bot API: escalations, customer messages, status and cancel (SQLite and PostgreSQL)."""

from __future__ import annotations

import threading

from sqlalchemy import func, select

from handoff.models import Conversation, Message
from tests.handoff.support import escalation_body


def count(session, model) -> int:
    session.expire_all()
    return session.scalar(select(func.count()).select_from(model))


def test_escalation_stores_the_whole_conversation(api, session, open_hours, make_agent):
    make_agent()
    response = api.post("/escalations", escalation_body("k-1"))
    assert response.status_code == 201
    body = response.get_json()
    assert body["status"] == "pending"
    assert body["accepting"] is True and body["reason_not_accepting"] is None
    assert body["queue"]["position"] == 1
    assert isinstance(body["queue"]["expected_wait_seconds"], int) and body["queue"]["expected_wait_seconds"] > 0

    conversation = session.get(Conversation, body["conversation_id"])
    assert conversation.language == "en" and conversation.reason == "low_confidence"
    assert conversation.contact.name == "Erika Mustermann"
    kinds = [(m.message_type, m.sender_type) for m in conversation.messages]
    assert kinds == [("incoming", "contact"), ("outgoing", "bot"), ("incoming", "contact"), ("activity", "system")]
    bot_turn = conversation.messages[1]
    assert bot_turn.kb["band"] == "clarify"
    assert bot_turn.kb["candidates"][0] == {
        "entry_id": "router-leds",
        "question": "What do the router lights mean?",
        "confidence": 0.41,
    }
    assert conversation.messages[0].sent_at is not None


def test_replayed_escalation_returns_the_first_answer_and_creates_nothing(api, session, open_hours, make_agent):
    make_agent()
    body = escalation_body("same-key")
    first = api.post("/escalations", body)
    again = api.post("/escalations", body)
    assert first.status_code == 201 and again.status_code == 200
    assert again.get_json() == first.get_json()
    assert again.headers["Idempotent-Replayed"] == "true"
    assert count(session, Conversation) == 1
    assert count(session, Message) == 4


def test_concurrent_retries_with_one_key_create_one_conversation(api, app, session, open_hours):
    body = escalation_body("racing-key")
    results = []
    barrier = threading.Barrier(4)

    def send():
        client = app.test_client()
        barrier.wait()
        response = client.post("/api/escalations", json=body, headers=api.headers)
        results.append((response.status_code, response.get_json()["conversation_id"]))

    threads = [threading.Thread(target=send) for _ in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(30)
    assert len(results) == 4
    assert {conversation_id for _, conversation_id in results} == {results[0][1]}
    assert sorted(status for status, _ in results).count(201) == 1
    assert count(session, Conversation) == 1


def test_nobody_online_still_stores_the_conversation(api, session, open_hours):
    body = api.escalate()
    assert body["accepting"] is False
    assert body["reason_not_accepting"] == "no_agents_online"
    conversation = session.get(Conversation, body["conversation_id"])
    assert conversation.status == "pending" and conversation.accepting is False


def test_outside_business_hours_is_reported_first(api, session, make_agent):
    from sqlalchemy import delete

    from handoff.models import BusinessHours
    from handoff.services.hours import get_service_settings

    get_service_settings(session)
    session.execute(delete(BusinessHours))  # closed all week
    session.commit()
    make_agent()
    body = api.escalate()
    assert body["accepting"] is False
    assert body["reason_not_accepting"] == "outside_business_hours"
    assert body["next_opening"] is None


def test_agents_who_do_not_speak_the_language_do_not_count(api, open_hours, make_agent):
    make_agent(languages=("de",))
    assert api.escalate(language="en")["reason_not_accepting"] == "no_agents_online"
    assert api.escalate(language="de")["accepting"] is True


def test_away_and_stale_agents_are_not_online(api, state, open_hours, make_agent):
    from datetime import timedelta

    from handoff.models import Agent, utcnow

    away = make_agent()
    stale = make_agent()
    with state.session_factory() as session:
        session.get(Agent, away.id).presence = "away"
        session.get(Agent, stale.id).last_seen_at = utcnow() - timedelta(minutes=10)
        session.commit()
    assert api.escalate()["reason_not_accepting"] == "no_agents_online"


def test_queue_position_follows_arrival_order(api, open_hours, make_agent):
    make_agent()
    first = api.escalate()
    second = api.escalate()
    assert (first["queue"]["position"], second["queue"]["position"]) == (1, 2)
    assert second["queue"]["expected_wait_seconds"] >= first["queue"]["expected_wait_seconds"]
    api.post(f"/escalations/{first['conversation_id']}/cancel", {"reason": "customer_left"})
    status = api.get(f"/escalations/{second['conversation_id']}").get_json()
    assert status["queue"]["position"] == 1
    assert status == {
        "conversation_id": second["conversation_id"],
        "status": "pending",
        "queue": status["queue"],
        "agent_name": None,
    }


def test_second_escalation_of_the_same_customer_reuses_the_open_conversation(api, session, open_hours):
    body = escalation_body("first", sender_id="same-customer")
    first = api.post("/escalations", body).get_json()
    later = escalation_body("second", sender_id="same-customer", reason="requested")
    later["transcript"].append(
        {"role": "user", "text": "a person please", "timestamp": later["transcript"][-1]["timestamp"] + 5}
    )
    second = api.post("/escalations", later)
    assert second.status_code == 201
    assert second.get_json()["conversation_id"] == first["conversation_id"]
    assert second.get_json()["reused"] is True
    texts = [
        m.content for m in session.get(Conversation, first["conversation_id"]).messages if m.sender_type == "contact"
    ]
    assert texts.count("a person please") == 1
    assert texts.count("My router blinks red, what now?") == 1


def test_customer_messages_are_appended_once(api, session, open_hours):
    conversation_id = api.escalate()["conversation_id"]
    message = {"idempotency_key": "m-1", "text": "Are you there?", "timestamp": 1700000000.5}
    first = api.post(f"/escalations/{conversation_id}/messages", message)
    again = api.post(f"/escalations/{conversation_id}/messages", message)
    assert first.status_code == 201 and again.status_code == 200
    assert first.get_json()["message_id"] == again.get_json()["message_id"]
    stored = [m for m in session.get(Conversation, conversation_id).messages if m.content == "Are you there?"]
    assert len(stored) == 1 and stored[0].message_type == "incoming"


def test_the_same_message_key_in_another_conversation_is_another_message(api, open_hours):
    a, b = api.escalate()["conversation_id"], api.escalate()["conversation_id"]
    message = {"idempotency_key": "m-1", "text": "hello", "timestamp": 1700000000}
    first = api.post(f"/escalations/{a}/messages", message).get_json()
    second = api.post(f"/escalations/{b}/messages", message).get_json()
    assert first["message_id"] != second["message_id"]


def test_messages_to_a_closed_conversation_are_refused(api, open_hours):
    conversation_id = api.escalate()["conversation_id"]
    api.post(f"/escalations/{conversation_id}/cancel", {"reason": "switched_to_callback"})
    response = api.post(
        f"/escalations/{conversation_id}/messages", {"idempotency_key": "x", "text": "hi", "timestamp": 1}
    )
    assert response.status_code == 409
    assert response.get_json()["error"]["code"] == "conversation_closed"


def test_cancel_is_idempotent_and_recorded(api, session, open_hours):
    conversation_id = api.escalate()["conversation_id"]
    first = api.post(f"/escalations/{conversation_id}/cancel", {"reason": "customer_left"})
    again = api.post(f"/escalations/{conversation_id}/cancel", {"reason": "customer_left"})
    assert first.status_code == 200 and first.get_json()["changed"] is True
    assert again.status_code == 200 and again.get_json() == {
        "conversation_id": conversation_id,
        "status": "cancelled",
        "changed": False,
    }
    conversation = session.get(Conversation, conversation_id)
    assert conversation.end_reason == "customer_left"
    assert conversation.messages[-1].content == "The customer left the conversation."


def test_unknown_conversation_is_404(api):
    assert api.get("/escalations/999").status_code == 404
    response = api.post("/escalations/999/messages", {"idempotency_key": "k", "text": "x", "timestamp": 1})
    assert response.status_code == 404
    assert response.get_json()["error"]["code"] == "not_found"
    assert api.post("/escalations/999/cancel", {"reason": "customer_left"}).status_code == 404
