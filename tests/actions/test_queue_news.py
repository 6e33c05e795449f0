"""A waiting customer whose agents all left hears so, keeps the place and gets the callback button (issue 20)."""

from __future__ import annotations

from datetime import datetime, timezone

from actions.handoff import ActionQueueUpdate
from actions.queue_news import nobody_on_duty
from tests.actions.conftest import make_tracker, responses, run


def queue_update(language: str, **entities):
    return make_tracker(
        "EXTERNAL: queue_update",
        intent="queue_update",
        slots={"handoff_active": True, "language": language},
        entities=[{"entity": name, "value": value} for name, value in entities.items()],
    )


def test_nobody_on_duty_names_the_place_no_wait_and_offers_a_callback():
    for language, sentence, button in (
        ("de", "Platz 2 der Warteschlange", "Lieber Rückruf"),
        ("en", "number 2 in the queue", "Call me back instead"),
    ):
        _, messages = run(
            ActionQueueUpdate(), queue_update(language, queue_position=2, reason_not_accepting="no_agents_online")
        )
        assert responses(messages) == ["utter_queue_update"]  # the widget keeps its queue hint
        message = messages[0]
        assert sentence in message["text"] and "Min" not in message["text"] and "min." not in message["text"]
        assert message["buttons"] == [{"title": button, "payload": "/request_callback"}]
        assert message["position"] == 2 and message["reason_not_accepting"] == "no_agents_online"
        assert not message["wait_minutes"]


def test_a_place_and_wait_read_as_before():
    _, messages = run(ActionQueueUpdate(), queue_update("de", queue_position=1, wait_minutes=3))
    assert responses(messages) == ["utter_queue_update"]
    assert messages[0]["position"] == 1 and messages[0]["wait_minutes"] == 3 and not messages[0].get("text")


def test_out_of_hours_says_when_the_team_is_back():
    now = datetime(2026, 12, 1, 19, 0, tzinfo=timezone.utc)  # a Tuesday evening
    news = {
        "queue_position": 1,
        "reason_not_accepting": "outside_business_hours",
        "next_opening": "2026-12-02T08:00:00+01:00",
        "timezone": "Europe/Berlin",
    }
    assert nobody_on_duty(news, "de", now) == (
        "Unser Service-Team ist jetzt nicht mehr im Dienst. Wir sind morgen ab 8:00 Uhr wieder da. Bis dahin "
        "bleiben Sie auf Platz 1 der Warteschlange. Oder wir rufen Sie zurück, wann es Ihnen passt; Ihr bisheriges "
        "Gespräch geht dabei nicht verloren."
    )
    assert "We're back tomorrow at 8:00." in nobody_on_duty(news, "en", now)
    broken = dict(news, next_opening="soon")  # an unreadable time still gets an honest sentence
    assert nobody_on_duty(broken, "en", now).startswith("Nobody from our service team is on duty right now")
