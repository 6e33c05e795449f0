"""What the agent reads of the bot's conversation: button clicks in the words the customer saw."""

from __future__ import annotations

from actions.conversation import transcript
from tests.actions.conftest import make_tracker, user_event


def bot(text: str, *buttons: tuple[str, str], timestamp: float) -> dict:
    return {
        "event": "bot",
        "text": text,
        "timestamp": timestamp,
        "data": {"buttons": [{"title": title, "payload": payload} for title, payload in buttons]},
    }


GERMAN_CLICKS = [
    user_event("/greet", intent="greet", timestamp=1.0),  # the widget's opening payload: no button showed it
    bot("Hallo! Wobei kann ich helfen?", timestamp=2.0),
    user_event("Lieferadresse ändern", timestamp=3.0),
    bot(
        "Meinten Sie …?",
        ("Wie ändere ich meine Lieferadresse?", '/choose_entry{"entry_id": "change-delivery-address"}'),
        ("Wie ändere ich meine Rechnungsadresse?", '/choose_entry{"entry_id": "billing-address"}'),
        ("Nichts davon", "/none_of_these"),
        timestamp=4.0,
    ),
    # Rasa keeps the text as sent; the widget may drop the space after the colon
    user_event('/choose_entry{"entry_id":"change-delivery-address"}', intent="choose_entry", timestamp=5.0),
    bot(
        "Die Lieferadresse ändern Sie unter Mein NordNet.",
        ("👍 Ja", "/feedback_helpful"),
        ("👎 Nein", "/feedback_not_helpful"),
        timestamp=6.0,
    ),
    user_event("/feedback_helpful", intent="feedback_helpful", timestamp=7.0),
    user_event("/none_of_these", intent="none_of_these", timestamp=8.0),
]


def test_clicks_read_as_the_buttons_the_customer_clicked():
    tracker = make_tracker(
        "/feedback_not_helpful", intent="feedback_not_helpful", history=GERMAN_CLICKS, slots={"language": "de"}
    )
    said = [turn["text"] for turn in transcript(tracker) if turn["role"] == "user"]
    assert said == [
        "Hallo",
        "Lieferadresse ändern",
        "Wie ändere ich meine Lieferadresse?",
        "👍 Ja",
        "Nichts davon",
        "👎 Nein",
    ]
    assert not any(text.startswith(("[", "/")) for text in said)


def test_english_conversation_and_payloads_no_button_showed():
    history = [
        user_event("/greet", intent="greet", timestamp=1.0),
        bot("Hi! How can I help?", timestamp=2.0),
        user_event("/none_of_these", intent="none_of_these", timestamp=3.0),
    ]
    tracker = make_tracker("/what_can_you_do", intent="what_can_you_do", history=history, slots={"language": "en"})
    said = [turn["text"] for turn in transcript(tracker) if turn["role"] == "user"]
    # "None of these" comes from the label the actions give that button; an intent nothing names stays marked
    assert said == ["Hello", "None of these", "[what_can_you_do]"]


def test_a_click_while_an_agent_has_the_conversation_reaches_them_as_its_button(handoff):
    from actions.handoff import ActionHandOff, ActionRelayToAgent
    from tests.actions.conftest import run

    run(ActionHandOff(), make_tracker("agent", intent="request_human"))
    history = [
        bot("Hat das geholfen?", ("👍 Ja", "/feedback_helpful"), ("👎 Nein", "/feedback_not_helpful"), timestamp=1.0)
    ]
    slots = {"handoff_active": True, "escalation_id": 1, "language": "de"}
    run(
        ActionRelayToAgent(), make_tracker("/feedback_helpful", intent="feedback_helpful", history=history, slots=slots)
    )
    run(ActionRelayToAgent(), make_tracker("Danke, jetzt geht es", history=history, slots=slots))
    assert [m["text"] for m in handoff.messages[1]] == ["👍 Ja", "Danke, jetzt geht es"]
