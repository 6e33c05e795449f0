"""Handing over to a person: transcript, queue, no-agent callback, relay, return to the bot."""

from __future__ import annotations

from actions.handoff import (
    ActionCancel,
    ActionDeliverAgentMessage,
    ActionHandoffEnded,
    ActionHandOff,
    ActionRelayToAgent,
    ActionSatisfaction,
    ActionSwitchToCallback,
)
from tests.actions.conftest import make_tracker, responses, run, slot_events, user_event

HISTORY = [
    user_event("Hallo", intent="greet", timestamp=10.0),
    {"event": "bot", "text": "Hallo! Ich bin der digitale Assistent von NordNet.", "timestamp": 11.0},
    user_event("Meine Rechnung ist doppelt abgebucht", timestamp=12.0),
    {
        "event": "slot",
        "name": "kb_last",
        "timestamp": 12.5,
        "value": {
            "question": "Meine Rechnung ist doppelt abgebucht",
            "band": "decline",
            "candidates": [{"entry_id": "invoice-complaint", "question": "Rechnung falsch", "confidence": 0.31}],
        },
    },
    {"event": "bot", "text": "Darauf habe ich leider keine verlässliche Antwort.", "timestamp": 13.0},
]


def test_request_for_a_person_creates_the_escalation_with_the_whole_story(handoff):
    tracker = make_tracker(
        "Mensch bitte",
        intent="request_human",
        history=HISTORY,
        slots={"language": "de", "kb_last": HISTORY[3]["value"]},
    )
    events, messages = run(ActionHandOff(), tracker)

    assert responses(messages) == ["utter_handoff_queued"]
    assert messages[0]["position"] == 1 and messages[0]["wait_minutes"] == 2
    escalation = handoff.escalations[1]
    assert escalation["reason"] == "requested"
    assert escalation["language"] == "de" and escalation["channel"] == "socketio"
    assert escalation["question"] == "Meine Rechnung ist doppelt abgebucht"
    assert [(t["role"], t["text"]) for t in escalation["transcript"]] == [
        ("user", "Hallo"),
        ("bot", "Hallo! Ich bin der digitale Assistent von NordNet."),
        ("user", "Meine Rechnung ist doppelt abgebucht"),
        ("bot", "Darauf habe ich leider keine verlässliche Antwort."),
        ("user", "Mensch bitte"),
    ]
    assert escalation["transcript"][2]["kb"]["candidates"][0]["confidence"] == 0.31
    assert slot_events(events) == {
        "requested_slot": None,
        "pending_offer": None,
        "miss_count": 0,
        "escalation_id": 1,
        "handoff_active": True,
    }
    assert events[0] == {"event": "active_loop", "timestamp": None, "name": None}


def test_accepted_offer_carries_the_reason_of_the_offer(handoff):
    run(ActionHandOff(), make_tracker("ja", intent="affirm", slots={"pending_offer": "repeated_failure"}))
    assert handoff.escalations[1]["reason"] == "repeated_failure"


def test_retrying_the_same_message_never_creates_a_second_conversation(handoff):
    tracker = make_tracker("agent", intent="request_human")
    run(ActionHandOff(), tracker)
    run(ActionHandOff(), tracker)
    assert len(handoff.escalations) == 1


def test_nobody_available_offers_the_callback_form_straight_away(handoff):
    handoff.accepting = False
    events, messages = run(ActionHandOff(), make_tracker("agent please", intent="request_human"))

    assert responses(messages) == ["utter_handoff_unavailable"]
    assert events[-1] == {"event": "followup", "timestamp": None, "name": "callback_form"}
    assert "handoff_active" not in slot_events(events)
    assert len(handoff.escalations) == 1  # stored anyway: nothing the customer wrote is lost


def test_unreachable_handoff_service_offers_a_callback(handoff):
    handoff.down = True
    events, messages = run(ActionHandOff(), make_tracker("agent please", intent="request_human"))

    assert responses(messages) == ["utter_handoff_failed"]
    assert events[-1]["name"] == "callback_form"


def test_messages_are_relayed_silently_and_kept_while_the_service_is_down(handoff):
    run(ActionHandOff(), make_tracker("agent", intent="request_human"))
    slots = {"handoff_active": True, "escalation_id": 1}

    events, messages = run(ActionRelayToAgent(), make_tracker("my order number is 123", slots=slots))
    assert messages == [] and [m["text"] for m in handoff.messages[1]] == ["my order number is 123"]
    assert slot_events(events) == {"relay_outbox": []}

    handoff.down = True
    events, messages = run(ActionRelayToAgent(), make_tracker("are you there?", slots=slots))
    assert responses(messages) == ["utter_relay_pending"]
    outbox = slot_events(events)["relay_outbox"]
    assert [m["text"] for m in outbox] == ["are you there?"]

    handoff.down = False
    events, messages = run(ActionRelayToAgent(), make_tracker("hello?", slots={**slots, "relay_outbox": outbox}))
    assert messages == []
    assert [m["text"] for m in handoff.messages[1]] == ["my order number is 123", "are you there?", "hello?"]
    assert slot_events(events) == {"relay_outbox": []}


def test_a_message_whose_relay_died_with_the_action_server_is_relayed_with_the_next_one(handoff):
    run(ActionHandOff(), make_tracker("agent", intent="request_human"))
    slots = {"handoff_active": True, "escalation_id": 1}
    relay = {"event": "action", "name": "action_relay_to_agent"}
    history = [
        {"event": "slot", "name": "handoff_active", "value": False},
        user_event("before the handoff", timestamp=5.0),
        {"event": "slot", "name": "handoff_active", "value": True},
        user_event("delivered earlier", intent="ask_question", timestamp=6.0),
        relay,
        {"event": "slot", "name": "relay_outbox", "value": []},
        # The action server was down: Rasa logged the action, kept none of its events, and told the customer.
        user_event("my contract number is 4711", timestamp=7.0),
        relay,
        {"event": "bot", "text": "Sorry, we have a technical problem right now."},
    ]
    events, messages = run(ActionRelayToAgent(), make_tracker("did you get that?", slots=slots, history=history))

    assert messages == []
    assert [m["text"] for m in handoff.messages[1]] == ["my contract number is 4711", "did you get that?"]
    assert handoff.messages[1][0]["idempotency_key"] == "customer-1:relay:7.000000"
    assert slot_events(events) == {"relay_outbox": []}


def test_switching_to_a_callback_leaves_the_queue(handoff):
    run(ActionHandOff(), make_tracker("agent", intent="request_human"))
    events, _ = run(
        ActionSwitchToCallback(),
        make_tracker(
            "call me back instead", intent="request_callback", slots={"handoff_active": True, "escalation_id": 1}
        ),
    )

    assert handoff.escalations[1]["status"] == "cancelled"
    assert handoff.escalations[1]["cancel_reason"] == "switched_to_callback"
    assert events[-1]["name"] == "callback_form"


def test_cancel_in_the_queue_leaves_it(handoff):
    run(ActionHandOff(), make_tracker("agent", intent="request_human"))
    events, messages = run(
        ActionCancel(), make_tracker("cancel", intent="cancel", slots={"handoff_active": True, "escalation_id": 1})
    )

    assert responses(messages) == ["utter_queue_left"]
    assert handoff.escalations[1]["status"] == "cancelled"
    assert slot_events(events)["handoff_active"] is False


def test_agent_messages_are_delivered_verbatim(handoff):
    tracker = make_tracker(
        "EXTERNAL: agent_message",
        intent="agent_message",
        entities=[{"entity": "agent_text", "value": "Ich habe die Rechnung korrigiert."}],
    )
    events, messages = run(ActionDeliverAgentMessage(), tracker)
    assert responses(messages) == ["Ich habe die Rechnung korrigiert."]


def test_return_to_the_bot_asks_one_satisfaction_question_and_records_the_answer(handoff):
    events, messages = run(
        ActionHandoffEnded(),
        make_tracker(
            "EXTERNAL: handoff_ended", intent="handoff_ended", slots={"handoff_active": True, "escalation_id": 7}
        ),
    )
    assert responses(messages) == ["utter_handoff_ended"]
    assert [b["payload"] for b in messages[0]["buttons"]][-1] == '/satisfaction{"score": 5}'
    assert slot_events(events)["handoff_active"] is False

    run(
        ActionSatisfaction(),
        make_tracker(
            '/satisfaction{"score": 4}',
            intent="satisfaction",
            entities=[{"entity": "score", "value": 4}],
            slots={"escalation_id": 7},
        ),
    )
    assert handoff.satisfaction[0]["conversation_id"] == 7 and handoff.satisfaction[0]["score"] == 4


def test_a_question_read_as_cancel_with_nothing_to_cancel_is_answered(use_kb, handoff):
    from actions.handoff import ActionCancel

    events, messages = run(
        ActionCancel(), make_tracker("Wie ändere ich meine Lieferadresse?", intent="cancel", slots={"language": "de"})
    )
    assert [e["name"] for e in events if e["event"] == "followup"] == ["action_answer_from_kb"] and messages == []
    events, messages = run(ActionCancel(), make_tracker("abbrechen", intent="cancel", slots={"language": "de"}))
    assert responses(messages) == ["utter_nothing_to_cancel"]


# --- Issue 20: the reason is what happened, cancel cancels, the queue moves, nothing is cut silently ---


def test_a_typed_request_after_earlier_misses_is_requested_not_repeated_failure(handoff):
    # Two misses left the offer of a person pending; the customer then asks in their own words.
    tracker = make_tracker(
        "Ich möchte mit einem Mitarbeiter sprechen",
        intent="request_human",
        slots={"language": "de", "pending_offer": "repeated_failure", "miss_count": 2},
    )
    run(ActionHandOff(), tracker)
    assert handoff.escalations[1]["reason"] == "requested"


def test_the_talk_to_a_person_button_of_a_list_or_a_decline_is_a_request(handoff):
    for pending in ("low_confidence", None):
        run(
            ActionHandOff(),
            make_tracker("/request_human", intent="request_human", slots={"language": "en", "pending_offer": pending}),
        )
    assert [e["reason"] for e in handoff.escalations.values()] == ["requested", "requested"]


def test_a_request_recognised_by_meaning_is_requested(handoff):
    # action_answer_from_kb hands off with FollowupAction; the message was classified as a question.
    run(
        ActionHandOff(),
        make_tracker(
            "Gibt es bei euch noch Menschen?",
            intent="nlu_fallback",
            slots={"language": "de", "pending_offer": "low_confidence"},
        ),
    )
    assert handoff.escalations[1]["reason"] == "requested"


def test_cancel_in_the_callback_form_after_an_unaccepted_handoff_takes_it_out_of_the_queue(handoff):
    handoff.accepting = False
    events, _ = run(
        ActionHandOff(), make_tracker("Mitarbeiter bitte", intent="request_human", slots={"language": "de"})
    )
    assert handoff.escalations[1]["status"] == "pending"
    events, messages = run(
        ActionCancel(),
        make_tracker(
            "abbrechen", intent="cancel", active_loop="callback_form", slots={"language": "de", "escalation_id": 1}
        ),
    )
    assert responses(messages) == ["utter_callback_form_cancelled"]
    assert handoff.escalations[1]["status"] == "cancelled"
    assert handoff.escalations[1]["cancel_reason"] == "customer_left"


def test_a_return_from_the_queue_asks_for_no_rating(handoff):
    tracker = make_tracker(
        "EXTERNAL: handoff_ended",
        intent="handoff_ended",
        slots={"handoff_active": True, "escalation_id": 3},
        entities=[{"entity": "handoff_outcome", "value": "returned_from_queue"}],
    )
    events, messages = run(ActionHandoffEnded(), tracker)
    assert responses(messages) == ["utter_handoff_returned_from_queue"]
    assert "buttons" not in messages[0] or not messages[0]["buttons"]
    assert slot_events(events)["handoff_active"] is False


def test_an_end_after_the_customer_left_says_nothing(handoff):
    tracker = make_tracker(
        "EXTERNAL: handoff_ended",
        intent="handoff_ended",
        slots={"handoff_active": False},
        entities=[{"entity": "handoff_outcome", "value": "returned"}],
    )
    assert run(ActionHandoffEnded(), tracker)[1] == []


def test_queue_updates_reach_only_a_waiting_customer(handoff):
    from actions.handoff import ActionQueueUpdate

    update = [{"entity": "queue_position", "value": 1}, {"entity": "wait_minutes", "value": 2}]
    _, messages = run(
        ActionQueueUpdate(),
        make_tracker("EXTERNAL: queue_update", intent="queue_update", entities=update, slots={"handoff_active": True}),
    )
    assert responses(messages) == ["utter_queue_update"]
    assert messages[0]["position"] == 1 and messages[0]["wait_minutes"] == 2
    _, messages = run(
        ActionQueueUpdate(),
        make_tracker("EXTERNAL: queue_update", intent="queue_update", entities=update, slots={"handoff_active": False}),
    )
    assert messages == []


def test_agent_replies_carry_their_message_id_for_the_read_receipt(handoff):
    tracker = make_tracker(
        "EXTERNAL: agent_message",
        intent="agent_message",
        entities=[
            {"entity": "agent_text", "value": "Erledigt."},
            {"entity": "agent_name", "value": "Sam"},
            {"entity": "message_id", "value": 42},
        ],
    )
    _, messages = run(ActionDeliverAgentMessage(), tracker)
    assert messages[0]["text"] == "Erledigt." and messages[0]["message_id"] == 42 and messages[0]["agent_name"] == "Sam"


def test_a_message_the_widget_cut_reaches_the_agent_with_a_visible_mark(handoff):
    from core.vocabulary import MAX_TEXT_CHARS

    tracker = make_tracker(
        "x" * 4000, intent="nlu_fallback", slots={"handoff_active": True, "escalation_id": 1, "language": "de"}
    )
    tracker.latest_message["metadata"] = {"truncated_from": 5000}
    handoff.escalations[1] = {"status": "open"}
    handoff.messages[1] = []
    run(ActionRelayToAgent(), tracker)
    relayed = handoff.messages[1][-1]["text"]
    assert len(relayed) <= MAX_TEXT_CHARS
    assert relayed.endswith("[Nachricht gekürzt: 5000 Zeichen gesendet, die ersten 4000 hier]")
    assert relayed.startswith("x" * 3900)


def test_an_uncut_message_is_relayed_as_it_is(handoff):
    tracker = make_tracker("y" * 3999, intent="nlu_fallback", slots={"handoff_active": True, "escalation_id": 1})
    handoff.escalations[1] = {"status": "open"}
    handoff.messages[1] = []
    run(ActionRelayToAgent(), tracker)
    assert handoff.messages[1][-1]["text"] == "y" * 3999


def test_a_cut_question_is_marked_alike_in_the_transcript_and_as_the_question(handoff):
    long = user_event("z" * 4000, timestamp=20.0)
    long["metadata"] = {"truncated_from": 5000}
    verdict = {
        "event": "slot",
        "name": "kb_last",
        "timestamp": 20.5,
        "value": {"question": "z" * 4000, "band": "decline", "candidates": []},
    }
    tracker = make_tracker(
        "Please, a person",
        intent="request_human",
        history=[long, verdict],
        slots={"language": "en", "kb_last": verdict["value"]},
    )
    run(ActionHandOff(), tracker)
    escalation = handoff.escalations[1]
    mark = "[message cut: 5000 characters sent, the first 4000 here]"
    assert escalation["question"].endswith(mark) and len(escalation["question"]) <= 4000
    assert escalation["transcript"][0]["text"] == escalation["question"]
