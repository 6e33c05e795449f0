"""Named state changes of a conversation: claim, transfer, resolve, return_to_bot, reply, notes."""

from __future__ import annotations

import threading

import pytest
from sqlalchemy import select

from handoff.models import Agent, Conversation, OutboxItem
from handoff.services import assignment
from handoff.services.errors import Conflict, Forbidden, Invalid
from handoff.services.hours import get_service_settings


def outbox(session) -> list[tuple[str, dict]]:
    session.expire_all()
    return [(item.intent, item.entities) for item in session.scalars(select(OutboxItem).order_by(OutboxItem.id))]


@pytest.fixture
def waiting(api, open_hours):
    return api.escalate()["conversation_id"]


def test_claim_opens_the_conversation_and_tells_the_customer(session, waiting, make_agent):
    agent = make_agent("Sam")
    assignment.claim(session, waiting, session.get(Agent, agent.id))
    conversation = session.get(Conversation, waiting)
    assert conversation.status == "open" and conversation.assignee_id == agent.id
    assert conversation.first_claimed_at is not None
    assert conversation.messages[-1].content == "Sam took the conversation."
    assert outbox(session) == [("agent_joined", {"agent_name": "Sam"})]


def test_two_agents_claiming_at_once_exactly_one_wins(api, state, open_hours, make_agent):
    agents = [make_agent(), make_agent()]
    for _ in range(3):
        conversation_id = api.escalate()["conversation_id"]
        barrier = threading.Barrier(len(agents))
        results: dict[int, str] = {}

        def attempt(agent_id: int):
            with state.session_factory() as session:
                agent = session.get(Agent, agent_id)
                barrier.wait()
                try:
                    assignment.claim(session, conversation_id, agent)
                    results[agent_id] = "won"
                except Conflict as exc:
                    results[agent_id] = exc.code

        threads = [threading.Thread(target=attempt, args=(agent.id,)) for agent in agents]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join(30)
        assert sorted(results.values()) == ["already_claimed", "won"]
        winner = next(agent_id for agent_id, result in results.items() if result == "won")
        with state.session_factory() as session:
            assert session.get(Conversation, conversation_id).assignee_id == winner
            joined = [
                item
                for item in session.scalars(select(OutboxItem).where(OutboxItem.conversation_id == conversation_id))
            ]
            assert [(i.intent, i.entities) for i in joined] == [
                ("agent_joined", {"agent_name": session.get(Agent, winner).display_name})
            ]


def test_many_agents_many_rounds_never_double_claim(api, state, open_hours, make_agent):
    agents = [make_agent(capacity=10) for _ in range(4)]
    conversations = [api.escalate()["conversation_id"] for _ in range(5)]
    wins: list[tuple[int, int]] = []
    lock = threading.Lock()
    barrier = threading.Barrier(len(agents))

    def work(agent_id: int):
        with state.session_factory() as session:
            agent = session.get(Agent, agent_id)
            barrier.wait()
            for conversation_id in conversations:
                try:
                    assignment.claim(session, conversation_id, agent)
                except Conflict:
                    session.rollback()
                    continue
                with lock:
                    wins.append((conversation_id, agent_id))

    threads = [threading.Thread(target=work, args=(agent.id,)) for agent in agents]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(60)
    assert sorted(c for c, _ in wins) == sorted(conversations)
    with state.session_factory() as session:
        joined = [entities for intent, entities in outbox(session) if intent == "agent_joined"]
        assert len(joined) == len(conversations)  # (the rest tell those still waiting their new place)


def test_claiming_twice_by_the_same_agent_is_harmless(session, waiting, make_agent):
    agent = session.get(Agent, make_agent().id)
    assignment.claim(session, waiting, agent)
    assignment.claim(session, waiting, agent)
    assert len(outbox(session)) == 1


def test_capacity_is_enforced(api, session, open_hours, make_agent):
    agent = session.get(Agent, make_agent(capacity=1).id)
    first, second = api.escalate()["conversation_id"], api.escalate()["conversation_id"]
    assignment.claim(session, first, agent)
    with pytest.raises(Conflict) as caught:
        assignment.claim(session, second, agent)
    assert caught.value.code == "at_capacity"
    assert session.get(Conversation, second).status == "pending"


def test_cancelled_conversation_cannot_be_claimed(api, session, waiting, make_agent):
    api.post(f"/escalations/{waiting}/cancel", {"reason": "customer_left"})
    with pytest.raises(Conflict):
        assignment.claim(session, waiting, session.get(Agent, make_agent().id))


def test_reply_goes_to_the_outbox_and_notes_do_not(session, waiting, make_agent):
    agent = session.get(Agent, make_agent("Sam").id)
    assignment.claim(session, waiting, agent)
    message = assignment.reply(session, waiting, agent, "  Please restart the router.  ")
    note = assignment.add_note(session, waiting, agent, "customer sounds annoyed")
    assert message.content == "Please restart the router." and not message.private
    assert note.private
    assert outbox(session)[-1] == (
        "agent_message",
        {"agent_text": "Please restart the router.", "agent_name": "Sam", "message_id": message.id},
    )
    assert len(outbox(session)) == 2
    assert session.scalar(select(OutboxItem).where(OutboxItem.message_id == message.id)) is not None


def test_only_the_assignee_replies(session, waiting, make_agent):
    owner = session.get(Agent, make_agent().id)
    other = session.get(Agent, make_agent().id)
    with pytest.raises(Conflict):
        assignment.reply(session, waiting, owner, "not claimed yet")
    assignment.claim(session, waiting, owner)
    with pytest.raises(Forbidden):
        assignment.reply(session, waiting, other, "hello")
    with pytest.raises(Invalid):
        assignment.reply(session, waiting, owner, "   ")
    with pytest.raises(Invalid):
        assignment.reply(session, waiting, owner, "x" * 4001)


def test_transfer_to_agent_and_back_to_queue(session, waiting, make_agent):
    sam = session.get(Agent, make_agent("Sam").id)
    kim = session.get(Agent, make_agent("Kim").id)
    assignment.claim(session, waiting, sam)
    assignment.transfer(session, waiting, sam, kim.id)
    assert session.get(Conversation, waiting).assignee_id == kim.id
    assert outbox(session)[-1] == ("agent_joined", {"agent_name": "Kim"})
    with pytest.raises(Forbidden):
        assignment.transfer(session, waiting, sam, None)
    assignment.transfer(session, waiting, kim, None)
    conversation = session.get(Conversation, waiting)
    assert conversation.status == "pending" and conversation.assignee_id is None
    assert "back in the queue" in conversation.messages[-1].content


def test_resolve_and_return_tell_the_bot(api, session, open_hours, make_agent):
    sam = session.get(Agent, make_agent("Sam").id)
    first, second = api.escalate()["conversation_id"], api.escalate()["conversation_id"]
    assignment.claim(session, first, sam)
    assignment.resolve(session, first, sam)
    assignment.return_to_bot(session, second, sam)  # straight from the queue
    assert session.get(Conversation, first).status == "resolved"
    assert session.get(Conversation, second).status == "returned"
    assert outbox(session)[-2:] == [
        ("handoff_ended", {"handoff_outcome": "resolved"}),
        ("handoff_ended", {"handoff_outcome": "returned_from_queue"}),  # nobody had helped: no survey
    ]
    with pytest.raises(Conflict):
        assignment.resolve(session, first, sam)
    with pytest.raises(Conflict):
        assignment.return_to_bot(session, first, sam)
    status = api.get(f"/escalations/{first}").get_json()
    assert status["status"] == "resolved" and status["queue"]["position"] == 0
    assert status["agent_name"] == "Sam"


def test_admins_may_act_on_others_conversations(session, waiting, make_agent):
    sam = session.get(Agent, make_agent("Sam").id)
    boss = session.get(Agent, make_agent("Boss", role="admin").id)
    other = session.get(Agent, make_agent("Other").id)
    assignment.claim(session, waiting, sam)
    with pytest.raises(Forbidden):
        assignment.return_to_bot(session, waiting, other)
    assignment.return_to_bot(session, waiting, boss)
    assert session.get(Conversation, waiting).status == "returned"


def test_auto_assign_gives_work_to_the_least_busy_speaker(api, state, session, open_hours, make_agent):
    busy = session.get(Agent, make_agent("Busy", languages=("de",), capacity=3).id)
    idle = make_agent("Idle", languages=("de",), capacity=3)
    make_agent("English only", languages=("en",))
    first = api.escalate(language="de")["conversation_id"]
    assignment.claim(session, first, busy)
    assert assignment.auto_assign(session, 120) == 0  # off by default
    get_service_settings(session).auto_assign = True
    session.commit()
    second = api.escalate(language="de")["conversation_id"]
    assert assignment.auto_assign(session, 120) == 1
    conversation = session.get(Conversation, second)
    assert conversation.assignee_id == idle.id
    assert "automatically" in conversation.messages[-1].content
