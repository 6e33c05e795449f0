"""The next opening time: after closing, before opening, weekends, holidays, lunch breaks, time zones."""

from __future__ import annotations

from datetime import date, datetime, timezone
from zoneinfo import ZoneInfo

import pytest

from handoff.services.availability import availability
from handoff.services.hours import DEFAULT_HOURS, Schedule, add_holiday, set_timezone

BERLIN = ZoneInfo("Europe/Berlin")
UTC = timezone.utc


def berlin(*args) -> datetime:
    return datetime(*args, tzinfo=BERLIN)


def default(holidays=()) -> Schedule:
    """Monday to Friday 8-20, Saturday 9-16 in Berlin."""
    return Schedule("Europe/Berlin", tuple(DEFAULT_HOURS), frozenset(holidays))


@pytest.mark.parametrize(
    "now, expected",
    [
        (berlin(2026, 12, 1, 6, 45), berlin(2026, 12, 1, 8, 0)),  # Tuesday before opening: today
        (berlin(2026, 12, 1, 20, 0), berlin(2026, 12, 2, 8, 0)),  # the closing minute: tomorrow
        (berlin(2026, 12, 4, 23, 59), berlin(2026, 12, 5, 9, 0)),  # Friday night: Saturday's later hours
        (berlin(2026, 12, 5, 16, 0), berlin(2026, 12, 7, 8, 0)),  # Saturday after closing: Monday
        (berlin(2026, 12, 6, 12, 0), berlin(2026, 12, 7, 8, 0)),  # Sunday
    ],
)
def test_after_closing_before_opening_and_weekends(now, expected):
    assert default().next_opening(now.astimezone(UTC)) == expected


def test_holidays_are_skipped_however_many_in_a_row():
    christmas = default({date(2026, 12, 24), date(2026, 12, 25), date(2026, 12, 26), date(2026, 12, 28)})
    # Wednesday 23 December after closing: the 24th-26th are holidays, the 27th a Sunday, the 28th a holiday.
    assert christmas.next_opening(berlin(2026, 12, 23, 21, 0)) == berlin(2026, 12, 29, 8, 0)
    # A holiday today, before its usual opening time: not today.
    assert christmas.next_opening(berlin(2026, 12, 24, 7, 0)) == berlin(2026, 12, 29, 8, 0)


def test_a_lunch_break_opens_again_the_same_day():
    split = Schedule("Europe/Berlin", ((0, 9 * 60, 12 * 60), (0, 13 * 60, 17 * 60)), frozenset())
    assert split.next_opening(berlin(2026, 12, 7, 12, 15)) == berlin(2026, 12, 7, 13, 0)
    assert split.next_opening(berlin(2026, 12, 7, 17, 0)) == berlin(2026, 12, 14, 9, 0)


def test_the_opening_is_in_the_services_time_zone_whatever_the_callers():
    new_york = Schedule("America/New_York", tuple(DEFAULT_HOURS), frozenset())
    # Saturday 22:00 UTC is 17:00 in New York, after Saturday's 16:00: Monday 8:00 New York time.
    opening = new_york.next_opening(datetime(2026, 12, 5, 22, 0, tzinfo=UTC))
    assert opening == datetime(2026, 12, 7, 8, 0, tzinfo=ZoneInfo("America/New_York"))
    assert opening.astimezone(UTC) == datetime(2026, 12, 7, 13, 0, tzinfo=UTC)
    assert opening.isoformat() == "2026-12-07T08:00:00-05:00"  # what the bot reads: local time and offset


def test_across_the_change_of_clocks_the_local_time_stays_8_00():
    # Berlin moves to summer time in the night to Sunday 29 March 2026.
    opening = default().next_opening(berlin(2026, 3, 28, 23, 30))
    assert opening == berlin(2026, 3, 30, 8, 0)
    assert opening.isoformat() == "2026-03-30T08:00:00+02:00"


def test_no_hours_at_all_means_no_opening():
    assert Schedule("Europe/Berlin", (), frozenset()).next_opening(berlin(2026, 12, 1, 12, 0)) is None


def test_the_time_zone_and_holidays_an_admin_sets_reach_the_availability(session):
    set_timezone(session, "Europe/London", auto_assign=False)  # creates the default hours, in London now
    add_holiday(session, "2026-12-07", "Company day")
    state = availability(
        session,
        "de",
        presence_timeout=60,
        default_timezone="Europe/Berlin",
        now=datetime(2026, 12, 5, 17, 0, tzinfo=UTC),
    )  # Saturday 17:00 in London
    assert state.accepting is False and state.reason_not_accepting == "outside_business_hours"
    assert state.timezone == "Europe/London"
    assert state.next_opening == datetime(2026, 12, 8, 8, 0, tzinfo=ZoneInfo("Europe/London"))
