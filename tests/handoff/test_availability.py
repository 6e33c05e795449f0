"""Business hours (time zone, DST, holidays), the wait estimate, and its inputs from history."""

from __future__ import annotations

from datetime import date, datetime, timedelta, timezone
from zoneinfo import ZoneInfo

import pytest

from handoff.models import Agent, Conversation
from handoff.services import assignment
from handoff.services.availability import DEFAULT_HANDLE_SECONDS, estimate_wait, expected_wait
from handoff.services.hours import DEFAULT_HOURS, Schedule, add_holiday, add_interval, load_schedule

BERLIN = ZoneInfo("Europe/Berlin")


def berlin(*args) -> datetime:
    return datetime(*args, tzinfo=BERLIN)


@pytest.fixture
def schedule() -> Schedule:
    return Schedule("Europe/Berlin", tuple(DEFAULT_HOURS), frozenset({date(2025, 12, 25)}))


@pytest.mark.parametrize(
    "moment, expected",
    [
        (berlin(2025, 6, 2, 8, 0), True),  # Monday opening minute
        (berlin(2025, 6, 2, 7, 59), False),
        (berlin(2025, 6, 2, 19, 59), True),
        (berlin(2025, 6, 2, 20, 0), False),  # closing minute is closed
        (berlin(2025, 6, 7, 9, 30), True),  # Saturday
        (berlin(2025, 6, 7, 16, 0), False),
        (berlin(2025, 6, 8, 12, 0), False),  # Sunday
        (berlin(2025, 12, 25, 12, 0), False),  # holiday on a Thursday
    ],
)
def test_default_hours_in_berlin(schedule, moment, expected):
    assert schedule.is_open(moment.astimezone(timezone.utc)) is expected


def test_hours_follow_daylight_saving_time(schedule):
    # 07:30 UTC is 08:30 in winter (open) and 09:30 in summer (open); 06:30 UTC is 07:30 in winter (closed)
    # but 08:30 in summer (open): the same UTC time differs because Berlin's offset moved.
    assert schedule.is_open(datetime(2025, 1, 6, 6, 30, tzinfo=timezone.utc)) is False
    assert schedule.is_open(datetime(2025, 7, 7, 6, 30, tzinfo=timezone.utc)) is True


def test_next_opening(schedule):
    friday_evening = berlin(2025, 6, 6, 21, 0)
    assert schedule.next_opening(friday_evening) == berlin(2025, 6, 7, 9, 0)
    christmas_eve_night = berlin(2025, 12, 24, 22, 0)
    assert schedule.next_opening(christmas_eve_night) == berlin(2025, 12, 26, 8, 0)
    monday_noon = berlin(2025, 6, 2, 12, 0)
    assert schedule.next_opening(monday_noon) == monday_noon
    assert Schedule("Europe/Berlin", (), frozenset()).next_opening(monday_noon) is None


def test_admin_changes_reach_the_schedule(session):
    add_interval(session, 6, "10:00", "12:00")
    add_holiday(session, "2025-06-02", "Whit Monday")
    schedule = load_schedule(session)
    assert schedule.is_open(berlin(2025, 6, 8, 11, 0)) is True  # Sunday now open
    assert schedule.is_open(berlin(2025, 6, 2, 11, 0)) is False  # holiday


def test_estimate_wait_grows_with_position_and_shrinks_with_agents():
    pickup, handle = 30, 300
    assert estimate_wait(0, 3, 3, pickup, handle) == 0
    assert estimate_wait(1, 3, 1, pickup, handle) == pickup  # a free slot: just the pick-up time
    assert estimate_wait(2, 3, 1, pickup, handle) == pickup + handle
    assert estimate_wait(10, 2, 0, pickup, handle) > estimate_wait(10, 6, 0, pickup, handle)
    waits = [estimate_wait(position, 3, 0, pickup, handle) for position in range(1, 12)]
    assert waits == sorted(waits)
    assert estimate_wait(10_000, 1, 0, pickup, handle) == 4 * 3600  # capped


def test_expected_wait_learns_from_recent_pickups(api, session, state, open_hours, make_agent):
    agent = session.get(Agent, make_agent(capacity=10).id)
    now = datetime.now(timezone.utc)
    for _ in range(3):
        conversation_id = api.escalate()["conversation_id"]
        conversation = session.get(Conversation, conversation_id)
        conversation.created_at = now - timedelta(minutes=10)
        session.commit()
        assignment.claim(session, conversation_id, agent, now=now - timedelta(minutes=10) + timedelta(seconds=200))
    assert expected_wait(session, 1, "en", 120, now) == 200  # the median pick-up time, agents have room
    with_queue = expected_wait(session, 20, "en", 120, now)
    assert with_queue == 200 + DEFAULT_HANDLE_SECONDS * 2  # 20 waiting, 7 free of 10 slots: two more rounds
