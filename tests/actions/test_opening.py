"""Out of hours the customer reads when the team is back, in their language and the service's time."""

from __future__ import annotations

from datetime import datetime, timezone
from typing import Any, Dict

import pytest

from actions import providers
from actions.handoff import ActionHandOff
from actions.opening import closed_message
from tests.actions.conftest import make_tracker, responses, run
from tests.actions.fake_handoff import InMemoryHandoffClient

UTC = timezone.utc


def closed(next_opening: str | None, zone: str | None = "Europe/Berlin") -> Dict[str, Any]:
    return {
        "accepting": False,
        "reason_not_accepting": "outside_business_hours",
        "next_opening": next_opening,
        "timezone": zone,
    }


@pytest.mark.parametrize(
    "now, opening, german, english",
    [
        # Friday 21:00 in Berlin (winter, UTC+1) -> Saturday 9:00: tomorrow.
        (
            datetime(2026, 12, 4, 20, 0, tzinfo=UTC),
            "2026-12-05T09:00:00+01:00",
            "Wir sind morgen ab 9:00 Uhr wieder da.",
            "We're back tomorrow at 9:00.",
        ),
        # Saturday 17:00 -> Monday 8:00: the weekday.
        (
            datetime(2026, 12, 5, 16, 0, tzinfo=UTC),
            "2026-12-07T08:00:00+01:00",
            "Wir sind ab Montag, 8:00 Uhr wieder da.",
            "We're back Monday at 8:00.",
        ),
        # Monday 6:30 Berlin, before opening: today.
        (
            datetime(2026, 12, 7, 5, 30, tzinfo=UTC),
            "2026-12-07T08:00:00+01:00",
            "Wir sind heute ab 8:00 Uhr wieder da.",
            "We're back today at 8:00.",
        ),
        # Christmas Eve evening, holidays on the 25th, 26th and the weekend: a date, not just "Monday".
        (
            datetime(2026, 12, 24, 20, 0, tzinfo=UTC),
            "2026-12-31T08:30:00+01:00",
            "Wir sind ab Donnerstag, 31. Dezember, 8:30 Uhr wieder da.",
            "We're back Thursday, 31 December at 8:30.",
        ),
    ],
)
def test_the_message_names_the_next_opening(now, opening, german, english):
    assert german in closed_message(closed(opening), "de", now)
    assert english in closed_message(closed(opening), "en", now)


def test_today_and_tomorrow_are_the_services_days_not_utc():
    # 23:30 UTC on Sunday is already Monday 00:30 in Berlin: Monday 8:00 is "today" there.
    now = datetime(2026, 12, 6, 23, 30, tzinfo=UTC)
    assert "heute ab 8:00 Uhr" in closed_message(closed("2026-12-07T08:00:00+01:00"), "de", now)
    # Saturday 23:30 before the spring change of clocks: Monday 8:00 (UTC+2) is the weekday, not
    # "tomorrow", although Saturday 23:30 in UTC+2 would already be Sunday.
    now = datetime(2026, 3, 28, 22, 30, tzinfo=UTC)
    assert "We're back Monday at 8:00." in closed_message(closed("2026-03-30T08:00:00+02:00"), "en", now)


def test_the_time_is_the_services_wall_clock_time():
    # A service in New York: 9:00 there, whatever the customer's or the server's zone.
    now = datetime(2026, 12, 5, 3, 0, tzinfo=UTC)  # Friday 22:00 in New York
    message = closed_message(closed("2026-12-07T14:00:00+00:00", "America/New_York"), "en", now)
    assert "We're back Monday at 9:00." in message


def test_other_reasons_and_unusable_answers_keep_the_plain_message():
    now = datetime(2026, 12, 5, 16, 0, tzinfo=UTC)
    assert (
        closed_message({**closed("2026-12-07T08:00:00+01:00"), "reason_not_accepting": "no_agents_online"}, "de", now)
        is None
    )
    assert closed_message(closed(None), "de", now) is None  # no opening within the horizon
    assert closed_message(closed("Montag"), "de", now) is None
    assert closed_message(closed("2026-12-07T08:00:00+01:00", "Mars/Olympus"), "de", now) is None
    # Without the zone's name the opening's own offset still gives its wall-clock time.
    assert "ab Montag, 8:00 Uhr" in closed_message(closed("2026-12-07T08:00:00+01:00", None), "de", now)
    # A language the texts do not have: English.
    assert "We're back Monday at 8:00." in closed_message(closed("2026-12-07T08:00:00+01:00"), "fr", now)


class ClosedService(InMemoryHandoffClient):
    """The in-memory handoff service, outside its business hours until Monday 8:00 in Berlin."""

    def create_escalation(self, payload: Dict[str, Any]) -> Dict[str, Any]:
        return {**super().create_escalation(payload), **closed("2099-01-05T08:00:00+01:00")}


@pytest.fixture
def closed_service():
    client = ClosedService(accepting=False)
    providers.set_handoff_client(client)
    yield client
    providers.set_handoff_client(None)


@pytest.mark.parametrize(
    "language, sentence",
    [
        ("de", "Wir sind ab Montag, 5. Januar, 8:00 Uhr wieder da."),
        ("en", "We're back Monday, 5 January at 8:00."),
    ],
)
def test_the_hand_off_action_tells_the_customer_when_the_team_is_back(closed_service, language, sentence):
    events, messages = run(
        ActionHandOff(), make_tracker("Mitarbeiter bitte", intent="request_human", slots={"language": language})
    )
    assert responses(messages) == ["utter_handoff_unavailable"]  # the widget and analytics still see which
    assert sentence in messages[0]["text"]
    assert events[-1]["name"] == "callback_form"


def test_nobody_online_in_open_hours_keeps_the_domain_text(handoff):
    handoff.accepting = False
    _, messages = run(ActionHandOff(), make_tracker("agent please", intent="request_human"))
    assert responses(messages) == ["utter_handoff_unavailable"] and messages[0]["text"] is None
