"""Issue 20: waiting customers learn every change of their place; cancelled means gone; replies read as "seen"."""

from __future__ import annotations

import pytest
from sqlalchemy import select

from handoff.models import Agent, Conversation, Message, OutboxItem
from handoff.services import assignment
from handoff.services.errors import Conflict


def told(session, conversation_id: int) -> list[tuple[str, dict]]:
    session.expire_all()
    return [
        (item.intent, item.entities)
        for item in session.scalars(
            select(OutboxItem).where(OutboxItem.conversation_id == conversation_id).order_by(OutboxItem.id)
        )
    ]


@pytest.fixture
def three_waiting(api, open_hours, make_agent):
    make_agent("Sam")  # online: the queue takes hand-offs
    ids = [api.escalate(sender_id=f"web-{n}")["conversation_id"] for n in range(3)]
    assert [api.get(f"/escalations/{i}").get_json()["queue"]["position"] for i in ids] == [1, 2, 3]
    return ids


def test_a_claim_moves_everyone_behind_up_and_tells_them(session, three_waiting):
    first, second, third = three_waiting
    sam = session.scalar(select(Agent).where(Agent.display_name == "Sam"))
    assignment.claim(session, first, sam)
    assert told(session, first) == [("agent_joined", {"agent_name": "Sam"})]
    ((intent, update),) = told(session, second)
    assert intent == "queue_update" and update["queue_position"] == 1 and update["wait_minutes"] >= 1
    assert told(session, third)[0][1]["queue_position"] == 2


def test_a_customer_who_cancels_leaves_at_once_and_nobody_can_claim_them(api, session, three_waiting):
    first, second, third = three_waiting
    answer = api.post(f"/escalations/{second}/cancel", {"reason": "customer_left"}).get_json()
    assert answer == {"conversation_id": second, "status": "cancelled", "changed": True}
    assert told(session, first) == []  # ahead of the one who left: nothing changed
    assert [(i, u["queue_position"]) for i, u in told(session, third)] == [("queue_update", 2)]
    assert api.get(f"/escalations/{third}").get_json()["queue"]["position"] == 2
    sam = session.scalar(select(Agent).where(Agent.display_name == "Sam"))
    with pytest.raises(Conflict):
        assignment.claim(session, second, sam)
    assert told(session, second) == []  # no "Sam has joined" for a customer who left


def test_returning_a_waiting_customer_to_the_bot_asks_for_no_rating(session, three_waiting):
    first, second, _ = three_waiting
    sam = session.scalar(select(Agent).where(Agent.display_name == "Sam"))
    assignment.return_to_bot(session, second, sam)
    assert told(session, second) == [("handoff_ended", {"handoff_outcome": "returned_from_queue"})]
    assignment.claim(session, first, sam)
    assignment.return_to_bot(session, first, sam)
    assert told(session, first)[-1] == ("handoff_ended", {"handoff_outcome": "returned"})


def test_a_conversation_put_back_in_the_queue_keeps_its_place(session, three_waiting):
    first, second, third = three_waiting
    sam = session.scalar(select(Agent).where(Agent.display_name == "Sam"))
    assignment.claim(session, first, sam)
    assignment.transfer(session, first, sam, None)
    assert told(session, first)[-1] == ("queue_update", {"queue_position": 1, "wait_minutes": 1})
    assert told(session, second)[-1][1]["queue_position"] == 2
    assert told(session, third)[-1][1]["queue_position"] == 3


def test_replies_carry_their_id_and_read_as_seen_only_for_their_own_customer(api, session, three_waiting):
    first, second, _ = three_waiting
    sam = session.scalar(select(Agent).where(Agent.display_name == "Sam"))
    assignment.claim(session, first, sam)
    reply = assignment.reply(session, first, sam, "Ich habe die Rechnung korrigiert.")
    assert told(session, first)[-1] == (
        "agent_message",
        {"agent_text": "Ich habe die Rechnung korrigiert.", "agent_name": "Sam", "message_id": reply.id},
    )
    # Another customer's widget cannot mark this reply as seen.
    assert api.post("/receipts", {"sender_id": "web-1", "message_ids": [reply.id]}).get_json() == {"seen": 0}
    assert api.post("/receipts", {"sender_id": "web-0", "message_ids": [reply.id]}).get_json() == {"seen": 1}
    assert api.post("/receipts", {"sender_id": "web-0", "message_ids": [reply.id]}).get_json() == {"seen": 0}
    session.expire_all()
    assert session.get(Message, reply.id).seen_at is not None


@pytest.mark.parametrize("ids", [[], "1", [0], [True], [1.5], [2**31], list(range(1, 102)), None])
def test_bad_receipts_are_refused_clearly(api, ids):
    response = api.post("/receipts", {"sender_id": "web-0", "message_ids": ids})
    assert response.status_code == 422
    assert response.get_json()["error"]["details"][0]["field"] == "message_ids"


def test_the_console_says_sent_until_the_widget_confirms_then_seen(api, client, session, three_waiting):
    from handoff.agents.conversations import delivery_state

    first = three_waiting[0]
    sam = session.scalar(select(Agent).where(Agent.display_name == "Sam"))
    assignment.claim(session, first, sam)
    reply = assignment.reply(session, first, sam, "Hallo")
    item = session.scalar(select(OutboxItem).where(OutboxItem.message_id == reply.id))
    item.status = "sent"  # Rasa took it: the tracker has it, the widget may be closed
    session.commit()
    with client.application.test_request_context():  # delivery_state translates its labels in a request
        assert delivery_state(session.get(Message, reply.id))["label"] == "sent"
        api.post("/receipts", {"sender_id": "web-0", "message_ids": [reply.id]})
        session.expire_all()
        assert delivery_state(session.get(Message, reply.id))["label"] == "seen"
    assert session.get(Conversation, first).status == "open"
