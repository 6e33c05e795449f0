"""Handing the conversation to a person, relaying while they have it, and handing it back."""

from __future__ import annotations

import logging
from typing import Any, Dict, List, Text

from rasa_sdk import Action, Tracker
from rasa_sdk.events import ActiveLoop, EventType, FollowupAction, SlotSet
from rasa_sdk.executor import CollectingDispatcher

from actions import providers
from actions.conversation import (
    channel_of,
    customer_words,
    entity_value,
    idempotency_key,
    language_of,
    latest_user_timestamp,
    question_for_agent,
    transcript,
    with_cut_mark,
)
from actions.handoff_client import HandoffError, HandoffUnavailable
from actions.opening import closed_message
from actions.queue_news import callback_button, nobody_on_duty
from core.vocabulary import CUSTOMER_LEFT, HANDOFF_REASONS, RETURNED_FROM_QUEUE, SWITCHED_TO_CALLBACK

logger = logging.getLogger(__name__)


def _leave_form(tracker: Tracker) -> List[EventType]:
    """Close the callback form if one is open (the rules expect these events either way)."""
    return [ActiveLoop(None), SlotSet("requested_slot", None)]


def handoff_reason(tracker: Tracker) -> str:
    """Why the customer goes to a person: the offer they accepted ("yes"), else their own request.

    An offer left unanswered (``pending_offer`` after two misses) says nothing about a customer who then
    types "Ich möchte mit einem Mitarbeiter sprechen", clicks "Talk to a person" or asks in other words.
    """
    intent = ((tracker.latest_message or {}).get("intent") or {}).get("name")
    offer = tracker.get_slot("pending_offer")
    if intent == "affirm" and offer in HANDOFF_REASONS:
        return offer
    return "requested"


def cancel_escalation(tracker: Tracker, reason: str) -> bool:
    """Take the customer's escalation out of the queue (no agent can claim it any more); False if that failed."""
    conversation_id = tracker.get_slot("escalation_id")
    if conversation_id is None:
        return True
    try:
        providers.get_handoff_client().cancel_escalation(conversation_id, reason)
    except HandoffError:
        logger.warning("could not cancel escalation %s", conversation_id, exc_info=True)
        return False
    return True


class ActionHandOff(Action):
    """Create the escalation with the whole story; queue the customer or offer a callback."""

    def name(self) -> Text:
        return "action_hand_off"

    def run(self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: Dict[Text, Any]) -> List[EventType]:
        events = _leave_form(tracker)
        if tracker.get_slot("handoff_active"):
            return events  # already with a person: nothing to do twice
        reason = handoff_reason(tracker)
        payload = {
            "idempotency_key": idempotency_key(tracker, "escalation"),
            "sender_id": tracker.sender_id,
            "channel": channel_of(tracker),
            "language": language_of(tracker),
            "reason": reason,
            "question": question_for_agent(tracker),
            "transcript": transcript(tracker),
        }
        events += [SlotSet("pending_offer", None), SlotSet("miss_count", 0)]
        try:
            result = providers.get_handoff_client().create_escalation(payload)
        except HandoffError:
            logger.exception("escalation for %s failed; offering a callback", tracker.sender_id)
            dispatcher.utter_message(response="utter_handoff_failed")
            return events + [FollowupAction("callback_form")]
        events.append(SlotSet("escalation_id", result["conversation_id"]))
        if not result.get("accepting"):
            # Out of hours the text says when the team is back (actions/opening.py); the response name stays.
            closed = closed_message(result, language_of(tracker))
            dispatcher.utter_message(response="utter_handoff_unavailable", text=closed)
            return events + [FollowupAction("callback_form")]
        queue = result.get("queue") or {}
        dispatcher.utter_message(
            response="utter_handoff_queued",
            position=queue.get("position", 1),
            wait_minutes=max(1, round((queue.get("expected_wait_seconds") or 60) / 60)),
        )
        return events + [SlotSet("handoff_active", True)]


def unrelayed_messages(tracker: Tracker) -> List[Dict[str, Any]]:
    """Earlier customer messages of this handoff whose relay action never finished.

    When the action server is down, Rasa records that `action_relay_to_agent` ran but keeps none of
    its events, so the message is neither delivered nor in `relay_outbox`. It is still in the
    tracker: a relay run is complete when it set `relay_outbox` before the next customer message.
    The idempotency key is the one the original run would have used, so a message the handoff
    service did receive before the crash is not stored twice.
    """
    events = list(tracker.events)
    start = 0
    for index, event in enumerate(events):
        if event.get("event") == "slot" and event.get("name") == "handoff_active" and not event.get("value"):
            start = index + 1
    lost: List[Dict[str, Any]] = []
    pending: Dict[str, Any] | None = None  # the customer message whose relay we are looking at
    relay_ran = relay_done = False

    def settle() -> None:
        if pending is not None and relay_ran and not relay_done:
            timestamp = float(pending.get("timestamp") or 0.0)
            lost.append(
                {
                    "idempotency_key": f"{tracker.sender_id}:relay:{timestamp:.6f}",
                    "text": pending.get("text") or "",
                    "timestamp": timestamp,
                }
            )

    last_user = max((i for i, e in enumerate(events) if e.get("event") == "user"), default=-1)
    for event in events[start:last_user]:
        kind = event.get("event")
        if kind == "user":
            settle()
            pending, relay_ran, relay_done = event, False, False
        elif kind == "action" and event.get("name") == "action_relay_to_agent":
            relay_ran = True
        elif kind == "slot" and event.get("name") == "relay_outbox" and relay_ran:
            relay_done = True
    settle()
    return lost


def marked_if_cut(tracker: Tracker) -> str:
    """The customer's latest text for the agent; a message the channel cut to the limit says so at its end."""
    original = ((tracker.latest_message or {}).get("metadata") or {}).get("truncated_from")
    return with_cut_mark(customer_words(tracker), original, language_of(tracker))


class ActionRelayToAgent(Action):
    """While a person has the conversation: pass the customer's message on, say nothing."""

    def name(self) -> Text:
        return "action_relay_to_agent"

    def run(self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: Dict[Text, Any]) -> List[EventType]:
        conversation_id = tracker.get_slot("escalation_id")
        outbox = list(tracker.get_slot("relay_outbox") or [])
        lost = unrelayed_messages(tracker)
        if lost:
            logger.warning("relaying %d message(s) of %s whose relay never completed", len(lost), tracker.sender_id)
        outbox = lost + outbox
        outbox.append(
            {
                "idempotency_key": idempotency_key(tracker, "relay"),
                "text": marked_if_cut(tracker),
                "timestamp": latest_user_timestamp(tracker),
            }
        )
        client = providers.get_handoff_client()
        while outbox:
            try:
                client.post_message(conversation_id, outbox[0])
            except HandoffError:
                logger.warning("relay to conversation %s failed; %d message(s) kept", conversation_id, len(outbox))
                if len(outbox) == 1:  # tell the customer once, not on every message
                    dispatcher.utter_message(response="utter_relay_pending")
                break
            outbox.pop(0)
        return [SlotSet("relay_outbox", outbox)]


class ActionSwitchToCallback(Action):
    """The customer in the queue prefers a callback: leave the queue, start the form."""

    def name(self) -> Text:
        return "action_switch_to_callback"

    def run(self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: Dict[Text, Any]) -> List[EventType]:
        cancel_escalation(tracker, SWITCHED_TO_CALLBACK)
        return [SlotSet("handoff_active", False), FollowupAction("callback_form")]


class ActionDeliverAgentMessage(Action):
    """An agent's reply, sent by the handoff service: deliver it on the customer's channel."""

    def name(self) -> Text:
        return "action_deliver_agent_message"

    def run(self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: Dict[Text, Any]) -> List[EventType]:
        text = entity_value(tracker, "agent_text")
        if text:
            # agent_name travels with the message so the widget can show who is writing.
            # message_id lets the widget confirm it has shown the reply ("seen" in the console).
            dispatcher.utter_message(
                text=str(text),
                agent_name=entity_value(tracker, "agent_name"),
                message_id=entity_value(tracker, "message_id"),
            )
        return [SlotSet("handoff_active", True)]


class ActionAgentJoined(Action):
    def name(self) -> Text:
        return "action_agent_joined"

    def run(self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: Dict[Text, Any]) -> List[EventType]:
        dispatcher.utter_message(
            response="utter_agent_joined", agent_name=entity_value(tracker, "agent_name") or "An agent"
        )
        return [SlotSet("handoff_active", True)]


class ActionQueueUpdate(Action):
    """The customer's place or expected wait changed (sent by the handoff service): tell them, while they wait."""

    NEWS_ENTITIES = ("queue_position", "reason_not_accepting", "next_opening", "timezone")

    def name(self) -> Text:
        return "action_queue_update"

    def run(self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: Dict[Text, Any]) -> List[EventType]:
        position = entity_value(tracker, "queue_position")
        if not tracker.get_slot("handoff_active") or not position:
            return []  # left the queue meanwhile: an old update says nothing
        news = {name: entity_value(tracker, name) for name in self.NEWS_ENTITIES}
        nobody = nobody_on_duty(news, language_of(tracker))
        if nobody:  # no estimate without anyone on duty: say so, keep the place, offer the callback
            dispatcher.utter_message(
                response="utter_queue_update",
                text=nobody,
                position=int(position),
                wait_minutes="",
                reason_not_accepting=news["reason_not_accepting"],
                buttons=callback_button(language_of(tracker)),
            )
            return []
        dispatcher.utter_message(
            response="utter_queue_update",
            position=int(position),
            wait_minutes=int(entity_value(tracker, "wait_minutes") or 1),
        )
        return []


class ActionHandoffEnded(Action):
    """The agent returned the conversation to the bot or resolved it: ask one satisfaction question."""

    def name(self) -> Text:
        return "action_handoff_ended"

    def run(self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: Dict[Text, Any]) -> List[EventType]:
        reset = [SlotSet("handoff_active", False), SlotSet("relay_outbox", []), SlotSet("miss_count", 0)]
        if entity_value(tracker, "handoff_outcome") == RETURNED_FROM_QUEUE:
            # Nobody had talked to the customer yet: no rating of help they never got.
            dispatcher.utter_message(response="utter_handoff_returned_from_queue")
            return reset
        if not tracker.get_slot("handoff_active"):
            return reset  # the customer had left the queue already: nothing to tell, nothing to rate
        buttons = [
            {"title": title, "payload": f'/satisfaction{{"score": {score}}}'}
            for score, title in ((1, "😞 1"), (2, "2"), (3, "3"), (4, "4"), (5, "😀 5"))
        ]
        dispatcher.utter_message(response="utter_handoff_ended", buttons=buttons)
        return reset


class ActionSatisfaction(Action):
    def name(self) -> Text:
        return "action_satisfaction"

    def run(self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: Dict[Text, Any]) -> List[EventType]:
        score = entity_value(tracker, "score")
        conversation_id = tracker.get_slot("escalation_id")
        if score is not None and conversation_id is not None:
            try:
                providers.get_handoff_client().send_satisfaction(
                    {
                        "idempotency_key": idempotency_key(tracker, "satisfaction"),
                        "conversation_id": conversation_id,
                        "score": int(score),
                    }
                )
            except (HandoffError, ValueError):
                logger.warning("could not record satisfaction for %s", conversation_id, exc_info=True)
        dispatcher.utter_message(response="utter_thanks_for_rating")
        return []


class ActionCallbackUpdate(Action):
    """The callback's outcome, sent by the handoff service."""

    def name(self) -> Text:
        return "action_callback_update"

    RESPONSES = {
        "done": "utter_callback_done",
        "no_answer": "utter_callback_no_answer",
        "cancelled": "utter_callback_cancelled_by_agent",
    }

    def run(self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: Dict[Text, Any]) -> List[EventType]:
        response = self.RESPONSES.get(str(entity_value(tracker, "callback_status")))
        if response:
            dispatcher.utter_message(response=response, reference=entity_value(tracker, "callback_reference") or "")
        return []


class ActionCancel(Action):
    """ "Cancel": stop the callback form, leave the queue, or cancel a booked callback."""

    def name(self) -> Text:
        return "action_cancel"

    def run(self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: Dict[Text, Any]) -> List[EventType]:
        client = providers.get_handoff_client()
        events = _leave_form(tracker)
        if tracker.active_loop_name:
            # The form may follow a hand-off nobody could take yet: that request leaves the queue too.
            cancel_escalation(tracker, CUSTOMER_LEFT)
            dispatcher.utter_message(response="utter_callback_form_cancelled")
            return events
        if tracker.get_slot("handoff_active"):
            cancel_escalation(tracker, CUSTOMER_LEFT)
            dispatcher.utter_message(response="utter_queue_left")
            return events + [SlotSet("handoff_active", False), SlotSet("relay_outbox", [])]
        reference = tracker.get_slot("callback_reference")
        if reference:
            try:
                client.cancel_callback(reference)
            except HandoffUnavailable:
                dispatcher.utter_message(response="utter_callback_failed")
                return events
            except HandoffError:
                logger.warning("could not cancel callback %s", reference, exc_info=True)
            dispatcher.utter_message(response="utter_callback_cancelled")
            return events + [SlotSet("callback_reference", None)]
        # Nothing to cancel: "Passwort vergessen" or "Vertrag kündigen" read as "cancel" are questions.
        text = (tracker.latest_message or {}).get("text") or ""
        if text and not text.startswith("/") and len(text.split()) >= 2:
            try:
                if providers.get_kb().search(text, language=tracker.get_slot("language"), k=1).band == "answer":
                    return events + [FollowupAction("action_answer_from_kb")]
            except Exception:  # the plain answer below is always possible
                logger.warning("knowledge base lookup for a cancel failed", exc_info=True)
        dispatcher.utter_message(response="utter_nothing_to_cancel")
        return events
