"""Issue 20: a waiting customer's place and expected wait follow the agents on duty, told once per change."""

from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy import delete, select

from handoff.models import Agent, BusinessHours, Conversation, OutboxItem, utcnow
from handoff.services import agents as agent_service
from handoff.services.escalations import QueueConfig, announce_queue
from handoff.services.hours import get_service_settings
from tests.handoff.support import PASSWORD, csrf, login


def told(session, conversation_id: int) -> list[dict]:
    session.expire_all()
    return [
        item.entities
        for item in session.scalars(
            select(OutboxItem)
            .where(OutboxItem.conversation_id == conversation_id, OutboxItem.intent == "queue_update")
            .order_by(OutboxItem.id)
        )
    ]


def agent(session, name: str) -> Agent:
    return session.scalar(select(Agent).where(Agent.display_name == name))


@pytest.fixture
def waiting(api, open_hours, make_agent):
    """Sam (one conversation at a time) on duty, three customers waiting: about 1, 7 and 13 minutes."""
    make_agent("Sam", capacity=1)
    return [api.escalate(sender_id=f"web-{n}")["conversation_id"] for n in range(3)]


def test_the_last_agent_leaving_tells_everyone_nobody_is_on_duty_and_coming_back_gives_a_wait(session, waiting):
    first, second, third = waiting
    agent_service.set_presence(session, agent(session, "Sam"), "away")
    nobody = [told(session, c) for c in waiting]
    assert nobody == [[{"queue_position": n, "reason_not_accepting": "no_agents_online"}] for n in (1, 2, 3)]
    agent_service.set_presence(session, agent(session, "Sam"), "online")
    assert [told(session, c)[-1] for c in waiting] == [
        {"queue_position": 1, "wait_minutes": 1},
        {"queue_position": 2, "wait_minutes": 7},
        {"queue_position": 3, "wait_minutes": 13},
    ]


def test_logging_out_counts_as_leaving(session, waiting):
    agent_service.log_out(session, agent(session, "Sam"))
    assert told(session, waiting[0]) == [{"queue_position": 1, "reason_not_accepting": "no_agents_online"}]


def test_a_second_agent_shortens_the_wait_of_those_it_changes_and_nobody_else_hears_a_thing(
    client, session, waiting, make_agent
):
    make_agent("Kim", capacity=1, online=False, email="kim@example.com")
    assert login(client, "kim@example.com", PASSWORD).status_code == 302  # logging in puts Kim on duty
    first, second, third = waiting
    assert told(session, first) == []  # first in line: still about a minute
    assert told(session, second) == [{"queue_position": 2, "wait_minutes": 1}]
    assert told(session, third) == [{"queue_position": 3, "wait_minutes": 7}]
    # The console's presence form: Kim stays online (nothing changes, nobody is told twice), then goes offline.
    client.post("/agent/presence", data={"presence": "online", "csrf_token": csrf(client)})
    assert told(session, second) == [{"queue_position": 2, "wait_minutes": 1}]
    client.post("/agent/presence", data={"presence": "offline", "csrf_token": csrf(client)})
    assert told(session, second)[-1] == {"queue_position": 2, "wait_minutes": 7}
    assert announce_queue(session) == 0  # asked again: nothing new to say


def test_an_agent_for_another_language_does_not_count(session, api, open_hours, make_agent):
    make_agent("Sam", languages=("de",))
    make_agent("Kim", languages=("en",))
    german = api.escalate(sender_id="web-de", language="de")["conversation_id"]
    english = api.escalate(sender_id="web-en", language="en")["conversation_id"]
    agent_service.set_presence(session, agent(session, "Sam"), "offline")
    assert told(session, german) == [{"queue_position": 1, "reason_not_accepting": "no_agents_online"}]
    assert told(session, english) == []  # Kim, who speaks English, is still there


def test_a_console_gone_quiet_stops_counting_after_the_presence_timeout(session, waiting):
    sam = agent(session, "Sam")
    sam.last_seen_at = utcnow() - timedelta(seconds=121)  # the tab was closed without logging out
    session.commit()
    assert announce_queue(session, QueueConfig(presence_timeout=120)) == 3  # the worker's sweep
    assert told(session, waiting[2]) == [{"queue_position": 3, "reason_not_accepting": "no_agents_online"}]
    assert announce_queue(session, QueueConfig(presence_timeout=120)) == 0


def test_closing_time_tells_the_waiting_when_the_team_is_back(session, waiting):
    session.execute(delete(BusinessHours))
    tomorrow = (utcnow() + timedelta(days=1)).weekday()
    session.add(BusinessHours(weekday=tomorrow, opens_minute=8 * 60, closes_minute=18 * 60))
    get_service_settings(session).timezone = "UTC"
    session.commit()
    announce_queue(session)
    news = told(session, waiting[0])[-1]
    assert news["reason_not_accepting"] == "outside_business_hours" and news["queue_position"] == 1
    assert news["next_opening"].endswith("08:00:00+00:00") and news["timezone"] == "UTC"
    assert "wait_minutes" not in news


def test_a_customer_who_left_the_queue_is_not_told_anything_more(api, session, waiting):
    first, second, third = waiting
    api.post(f"/escalations/{first}/cancel", {"reason": "customer_left"})
    agent_service.set_presence(session, agent(session, "Sam"), "away")
    assert told(session, first) == []
    assert session.get(Conversation, first).status == "cancelled"
    assert told(session, second)[-1] == {"queue_position": 1, "reason_not_accepting": "no_agents_online"}
