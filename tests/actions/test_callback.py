"""The callback form: contact validation, time windows in the customer's words, booking."""

from __future__ import annotations

from datetime import datetime
from zoneinfo import ZoneInfo

import pytest

from actions.callback import ActionSubmitCallback, ValidateCallbackForm, normalise_contact
from actions.handoff import ActionCancel
from actions.timewindow import parse_window
from tests.actions.conftest import make_tracker, responses, run, slot_events
from rasa_sdk.executor import CollectingDispatcher

BERLIN = ZoneInfo("Europe/Berlin")
MONDAY_MORNING = datetime(2026, 11, 23, 10, 30, tzinfo=BERLIN)


@pytest.mark.parametrize(
    "text, expected",
    [
        ("0170 1234567", ("phone", "+491701234567")),
        ("+49 (0)30 123456-78", ("phone", "+493012345678")),
        ("meine nummer ist 040/1234567", ("phone", "+49401234567")),
        ("Anna.Schmidt@Example.de", ("email", "anna.schmidt@example.de")),
        ("you can mail me at joe@example.com thanks", ("email", "joe@example.com")),
    ],
)
def test_contacts_are_validated_and_normalised(text, expected):
    assert normalise_contact(text) == expected


@pytest.mark.parametrize("text", ["12345", "call me", "joe@", "0000 000"])
def test_invalid_contacts_are_refused(text):
    assert normalise_contact(text) is None


@pytest.mark.parametrize(
    "text, start, end",
    [
        ("tomorrow morning", "2026-11-24 09:00", "2026-11-24 12:00"),
        ("morgen ab 14 Uhr", "2026-11-24 14:00", "2026-11-24 16:00"),
        ("heute Nachmittag", "2026-11-23 14:00", "2026-11-23 17:00"),
        ("Montag 14-16 Uhr", "2026-11-30 14:00", "2026-11-30 16:00"),
        ("today after 2 pm", "2026-11-23 14:00", "2026-11-23 16:00"),
        ("am Freitag zwischen 10 und 12 Uhr", "2026-11-27 10:00", "2026-11-27 12:00"),
        ("so schnell wie möglich", "2026-11-23 10:30", "2026-11-23 12:30"),
        ("24.12. vormittags", "2026-12-24 09:00", "2026-12-24 12:00"),
        ("next week in the afternoon", "2026-11-30 14:00", "2026-11-30 17:00"),
        ("nächste Woche", "2026-11-30 08:00", "2026-11-30 20:00"),
        ("in zwei Stunden", "2026-11-23 12:30", "2026-11-23 14:30"),
        ("in an hour please", "2026-11-23 11:30", "2026-11-23 13:30"),
    ],
)
def test_time_windows_in_customers_words(text, start, end):
    window = parse_window(text, MONDAY_MORNING)
    assert window is not None
    assert (window.start.strftime("%Y-%m-%d %H:%M"), window.end.strftime("%Y-%m-%d %H:%M")) == (start, end)


@pytest.mark.parametrize("text", ["whenever the moon is full", "heute um 9"])
def test_unusable_or_past_windows_are_refused(text):
    assert parse_window(text, MONDAY_MORNING) is None


def test_form_rejects_a_bad_contact_and_asks_again():
    dispatcher = CollectingDispatcher()
    result = ValidateCallbackForm().validate_callback_contact("not a number", dispatcher, make_tracker("x"), {})
    assert result == {"callback_contact": None}
    assert responses(dispatcher.messages) == ["utter_invalid_contact"]


def test_booking_confirms_with_a_reference_and_sends_the_transcript(handoff):
    slots = {
        "language": "de",
        "callback_consent": True,
        "callback_contact": "+491701234567",
        "callback_contact_method": "phone",
        "callback_window_start": "2026-11-24T09:00:00+01:00",
        "callback_window_end": "2026-11-24T12:00:00+01:00",
    }
    events, messages = run(ActionSubmitCallback(), make_tracker("ja", intent="affirm", slots=slots))

    assert responses(messages) == ["utter_callback_confirmed"]
    assert messages[0]["reference"] == "CB-000001" and messages[0]["window"] == "24.11.2026, 09:00–12:00 Uhr"
    booked = handoff.callbacks["CB-000001"]
    assert booked["contact"] == "+491701234567" and booked["consent"] is True
    assert booked["transcript"][-1]["text"] == "ja"
    assert slot_events(events)["callback_reference"] == "CB-000001"


def test_a_booked_callback_takes_the_hand_off_nobody_could_take_out_of_the_queue(handoff):
    handoff.accepting = False
    handoff.create_escalation({"idempotency_key": "e", "sender_id": "customer-1"})
    slots = {
        "language": "en",
        "callback_consent": True,
        "callback_contact": "a@example.com",
        "callback_contact_method": "email",
        "callback_window_start": "2026-11-24T09:00:00+01:00",
        "callback_window_end": "2026-11-24T12:00:00+01:00",
        "escalation_id": 1,
    }
    run(ActionSubmitCallback(), make_tracker("yes", intent="affirm", slots=slots))
    assert handoff.escalations[1]["status"] == "cancelled"
    assert handoff.escalations[1]["cancel_reason"] == "switched_to_callback"


def test_no_consent_books_nothing(handoff):
    events, messages = run(
        ActionSubmitCallback(), make_tracker("nein", intent="deny", slots={"callback_consent": False})
    )
    assert responses(messages) == ["utter_callback_no_consent"]
    assert handoff.callbacks == {}


def test_a_booked_callback_can_be_cancelled(handoff):
    handoff.create_callback({"idempotency_key": "k"})
    events, messages = run(
        ActionCancel(), make_tracker("rückruf stornieren", intent="cancel", slots={"callback_reference": "CB-000001"})
    )
    assert responses(messages) == ["utter_callback_cancelled"]
    assert handoff.callbacks["CB-000001"]["status"] == "cancelled"


def test_cancel_during_the_form_stops_it(handoff):
    events, messages = run(ActionCancel(), make_tracker("abbrechen", intent="cancel", active_loop="callback_form"))
    assert responses(messages) == ["utter_callback_form_cancelled"]
    assert events == [
        {"event": "active_loop", "timestamp": None, "name": None},
        {"event": "slot", "timestamp": None, "name": "requested_slot", "value": None},
    ]


def _extract(method: str, tracker) -> dict:
    import asyncio

    return asyncio.run(getattr(ValidateCallbackForm(), method)(CollectingDispatcher(), tracker, {}))


def test_a_request_that_names_a_time_and_a_number_fills_both_when_the_form_starts():
    tracker = make_tracker("Rückruf bitte, Festnetz 040 9876543, morgen ab 14 Uhr", intent="request_callback")
    assert _extract("extract_callback_contact", tracker) == {"callback_contact": tracker.latest_message["text"]}
    assert _extract("extract_callback_window", tracker) == {"callback_window": tracker.latest_message["text"]}


def test_a_plain_request_or_an_answer_to_another_question_fills_nothing():
    assert (
        _extract("extract_callback_window", make_tracker("Bitte rufen Sie mich zurück", intent="request_callback"))
        == {}
    )
    assert _extract("extract_callback_contact", make_tracker("call me back please", intent="request_callback")) == {}
    # Once the form asks for something, the slot mappings take the customer's answer as usual.
    asked = make_tracker("morgen ab 14 Uhr", intent="inform", slots={"requested_slot": "callback_contact"})
    assert _extract("extract_callback_window", asked) == {}


def test_a_customer_over_the_callback_cap_is_told_politely(handoff, monkeypatch):
    from actions.handoff_client import HandoffRejected

    body = {
        "error": {
            "code": "too_many_callbacks",
            "message": "3 callback requests are already open",
            "details": [{"field": "contact", "references": ["CB-AAAAAA", "CB-BBBBBB", "CB-CCCCCC"]}],
        }
    }

    def refuse(payload):
        raise HandoffRejected("POST /callbacks: 429", 429, body)

    monkeypatch.setattr(handoff, "create_callback", refuse)
    slots = {
        "language": "de",
        "callback_consent": True,
        "callback_contact": "+491701234567",
        "callback_contact_method": "phone",
        "callback_window_start": "2026-11-24T09:00:00+01:00",
        "callback_window_end": "2026-11-24T12:00:00+01:00",
    }
    events, messages = run(ActionSubmitCallback(), make_tracker("ja", intent="affirm", slots=slots))
    assert len(messages) == 1 and "CB-AAAAAA, CB-BBBBBB, CB-CCCCCC" in messages[0]["text"]
    assert messages[0]["text"].startswith("Für diese Kontaktdaten sind schon Rückrufwünsche offen")
    assert "callback_reference" not in slot_events(events)
