"""The outbox to Rasa: kept while Rasa is down, retried, delivered in order, shown as pending."""

from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy import select

from handoff.models import Agent, OutboxItem, utcnow
from handoff.outbox import RasaClient, backoff, deliver_due, retry_now
from handoff.services import assignment
from tests.handoff.support import FakeRasa, free_port


@pytest.fixture
def claimed(api, session, open_hours, make_agent):
    agent = session.get(Agent, make_agent("Sam").id)
    conversation_id = api.escalate(sender_id="user/with space+ü")["conversation_id"]
    assignment.claim(session, conversation_id, agent)
    return conversation_id, agent


def items(session) -> list[OutboxItem]:
    session.expire_all()
    return list(session.scalars(select(OutboxItem).order_by(OutboxItem.id)))


def test_rasa_down_then_up(state, session, claimed):
    conversation_id, agent = claimed
    assignment.reply(session, conversation_id, agent, "First")
    assignment.reply(session, conversation_id, agent, "Second")
    rasa = FakeRasa(port=free_port())  # not started: connection refused
    client = RasaClient(rasa.url, token="s3cret", timeout=(1, 2))
    now = utcnow()

    assert deliver_due(state.session_factory, client, now=now) == 0
    pending = items(session)
    assert [i.status for i in pending] == ["pending", "pending", "pending"]
    assert pending[0].attempts == 1 and "unreachable" in pending[0].last_error
    assert pending[1].attempts == 0  # blocked behind the first: order is kept

    rasa.start()
    try:
        assert deliver_due(state.session_factory, client, now=now) == 0  # still backing off
        assert deliver_due(state.session_factory, client, now=now + timedelta(seconds=2)) == 3
        calls = rasa.calls
        assert [c["name"] for c in calls] == ["agent_joined", "agent_message", "agent_message"]
        assert [c["entities"].get("agent_text") for c in calls[1:]] == ["First", "Second"]
        assert calls[1]["entities"]["agent_name"] == "Sam"
        assert all(c["sender_id"] == "user/with space+ü" for c in calls)
        assert calls[0]["query"] == {"output_channel": ["latest"], "token": ["s3cret"]}
        assert [i.status for i in items(session)] == ["sent", "sent", "sent"]
        assert deliver_due(state.session_factory, client, now=now + timedelta(seconds=5)) == 0  # nothing twice
    finally:
        rasa.stop()


def test_rasa_errors_are_retried_and_other_customers_are_not_blocked(api, state, session, claimed, fake_rasa):
    conversation_id, agent = claimed
    other_id = api.escalate(sender_id="other-customer")["conversation_id"]
    other_agent = session.get(Agent, agent.id)
    fake_rasa.fail_with = 500
    client = RasaClient(fake_rasa.url)
    now = utcnow()
    assert deliver_due(state.session_factory, client, now=now) == 0
    assert "HTTP 500" in items(session)[0].last_error
    fake_rasa.fail_with = None
    first = items(session)[0]
    first.next_attempt_at = now + timedelta(minutes=1)  # the first customer's item is backing off
    session.commit()
    assignment.claim(session, other_id, other_agent)
    assert deliver_due(state.session_factory, client, now=utcnow()) == 1  # the other customer is not blocked
    assert [c["sender_id"] for c in fake_rasa.calls] == ["other-customer"]
    assert deliver_due(state.session_factory, client, now=now + timedelta(minutes=2)) == 1


def test_gives_up_after_a_day_and_can_be_retried(state, session, claimed):
    client = RasaClient(f"http://127.0.0.1:{free_port()}", timeout=(0.5, 0.5))
    later = utcnow() + timedelta(days=2)
    deliver_due(state.session_factory, client, now=later)
    item = items(session)[0]
    assert item.status == "failed"
    retry_now(session, item.id)
    assert items(session)[0].status == "pending"


def test_backoff_is_capped():
    assert [backoff(n).total_seconds() for n in (1, 2, 3, 10)] == [1, 2, 4, 60]


def test_worker_delivers_within_a_second_or_so(state, session, claimed, fake_rasa):
    conversation_id, agent = claimed
    state.transport_factory = lambda: RasaClient(fake_rasa.url)
    state.start_worker(poll=0.2)
    fake_rasa.wait_for(lambda calls: len(calls) == 1, timeout=10)
    started = utcnow()
    assignment.reply(session, conversation_id, agent, "Live reply")
    calls = fake_rasa.wait_for(
        lambda calls: any(c["entities"].get("agent_text") == "Live reply" for c in calls), timeout=10
    )
    assert (utcnow() - started).total_seconds() < 5
    assert calls[-1]["name"] == "agent_message"
