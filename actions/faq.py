"""Answering from the knowledge base: answer, clarify or decline, feedback, and misses."""

from __future__ import annotations

import logging
from typing import Any, Dict, List, Optional, Text

from rasa_sdk import Action, Tracker
from rasa_sdk.events import EventType, FollowupAction, SlotSet
from rasa_sdk.executor import CollectingDispatcher

from actions import providers
from actions.direction import by_direction
from actions.conversation import channel_of, idempotency_key, label, language_of, latest_text
from actions.handoff_client import HandoffError
from actions.requests import off_topic, other_company, request_by_meaning
from actions.second_look import second_look

logger = logging.getLogger(__name__)

MISSES_BEFORE_OFFER = 2
CLARIFY_OPTIONS = 3


def candidates_of(result: Any) -> List[Dict[str, Any]]:
    return [
        {"entry_id": hit.entry_id, "question": hit.question, "confidence": round(float(hit.confidence), 4)}
        for hit in result.hits
    ]


def answer_entry(dispatcher: CollectingDispatcher, entry_id: str, language: str, kb: Any) -> bool:
    """Send one entry's answer (with its link) and the feedback question. False if unknown."""
    entry = kb.get(entry_id, language)
    if entry is None:
        return False
    dispatcher.utter_message(response="utter_kb_answer", answer=entry.answer.strip())
    if entry.url:
        dispatcher.utter_message(response="utter_kb_answer_link", url=entry.url)
    dispatcher.utter_message(response="utter_ask_helpful")
    return True


def offer_choices(
    dispatcher: CollectingDispatcher, response: str, candidates: List[Dict[str, Any]], language: str
) -> None:
    buttons = [
        {"title": c["question"], "payload": f'/choose_entry{{"entry_id": "{c["entry_id"]}"}}'}
        for c in candidates[:CLARIFY_OPTIONS]
    ]
    buttons.append({"title": label("none_of_these", language), "payload": "/none_of_these"})
    # A list of guesses is not an answer: the way to a person stays one click away.
    buttons.append({"title": label("talk_to_person", language), "payload": "/request_human"})
    dispatcher.utter_message(response=response, buttons=buttons)


def register_miss(
    dispatcher: CollectingDispatcher,
    tracker: Tracker,
    reason: str,
    fallback_response: Optional[str],
    **values: Any,
) -> List[EventType]:
    """Count a miss; the second one in a row offers a person without being asked. ``values`` fill the response."""
    misses = int(tracker.get_slot("miss_count") or 0) + 1
    if misses >= MISSES_BEFORE_OFFER:
        dispatcher.utter_message(response="utter_offer_human")
        return [SlotSet("miss_count", misses), SlotSet("pending_offer", "repeated_failure")]
    if fallback_response:
        dispatcher.utter_message(response=fallback_response, **values)
    return [SlotSet("miss_count", misses), SlotSet("pending_offer", reason)]


class ActionAnswerFromKb(Action):
    def name(self) -> Text:
        return "action_answer_from_kb"

    def run(self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: Dict[Text, Any]) -> List[EventType]:
        text = latest_text(tracker)
        kb = providers.get_kb()
        result = kb.search(text, language=tracker.get_slot("language"), k=5)
        language = tracker.get_slot("language") or result.language
        result = by_direction(kb, text, result, language)  # towards us or away: the encoder cannot tell
        band = result.band
        nearest = result.hits[0].score if result.hits else 0.0  # the whole message's, for the request check below
        company = other_company(kb, text)  # a question about another company's service (actions/requests.py)
        if band != "decline" and (company or off_topic(kb, text, nearest)):
            band = "decline"  # ... or one the FAQ does not cover
        elif band == "decline" and not company:  # a clear favourite, or a question inside a story?
            result = second_look(kb, text, result, language, lambda part, found: _declined_by_checks(kb, part, found))
            band = result.band
        verdict = {
            "question": text,
            "band": band,
            "confidence": round(float(result.confidence), 4),
            "language": result.language,
            "candidates": candidates_of(result),
        }
        events: List[EventType] = [SlotSet("kb_last", verdict)]
        if tracker.get_slot("language") is None and result.language:
            events.append(SlotSet("language", result.language))
        # Never the customer's words at INFO (privacy): what they asked is in the tracker and the analytics.
        logger.info("kb %s %.3f (%s)", band, result.confidence, result.language)
        logger.debug("kb question %r", text[:80])
        record_event(tracker, f"kb_{band}", verdict)

        if band == "answer" and answer_entry(dispatcher, result.hits[0].entry_id, language, kb):
            return events + [SlotSet("miss_count", 0), SlotSet("pending_offer", None)]
        # Not an answer: is it a request for a person or a call in words nobody foresaw (actions/requests.py)?
        request = request_by_meaning(kb, text, nearest)
        if request == "request_human":
            return events + [SlotSet("pending_offer", None), FollowupAction("action_hand_off")]
        if request == "request_callback":
            return events + [SlotSet("pending_offer", None), FollowupAction("callback_form")]
        if band == "clarify" and result.hits:
            offer_choices(dispatcher, "utter_kb_clarify", verdict["candidates"], language)
            return events + [SlotSet("pending_offer", None)]
        if company:  # say whose service it is: the customer knows where to ask
            return events + register_miss(
                dispatcher, tracker, "low_confidence", "utter_kb_other_company", company=company
            )
        return events + register_miss(dispatcher, tracker, "low_confidence", "utter_kb_decline")


def _declined_by_checks(kb: Any, text: str, result: Any) -> bool:
    return bool(other_company(kb, text)) or off_topic(kb, text, result.hits[0].score)


class ActionAnswerEntry(Action):
    """The customer picked one of the "did you mean" suggestions."""

    def name(self) -> Text:
        return "action_answer_entry"

    def run(self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: Dict[Text, Any]) -> List[EventType]:
        entry_id = next(
            (
                e.get("value")
                for e in (tracker.latest_message or {}).get("entities", [])
                if e.get("entity") == "entry_id"
            ),
            None,
        )
        if entry_id and answer_entry(dispatcher, str(entry_id), language_of(tracker), providers.get_kb()):
            verdict = dict(tracker.get_slot("kb_last") or {})
            verdict["chosen"] = entry_id
            return [SlotSet("kb_last", verdict), SlotSet("miss_count", 0), SlotSet("pending_offer", None)]
        dispatcher.utter_message(response="utter_default")
        return []


def record_event(tracker: Tracker, kind: str, verdict: Dict[str, Any]) -> None:
    """Tell the handoff service's analytics what the knowledge base did with a question."""
    top = next(iter(verdict.get("candidates") or []), {})
    try:
        providers.get_handoff_client().send_event(
            {
                "idempotency_key": idempotency_key(tracker, kind),
                "sender_id": tracker.sender_id,
                "channel": channel_of(tracker),
                "language": language_of(tracker),
                "type": kind,
                "question": verdict.get("question", ""),
                "entry_id": verdict.get("chosen") or top.get("entry_id"),
                "confidence": top.get("confidence"),
            }
        )
    except HandoffError:
        # Analytics must never cost the customer an answer.
        logger.warning("could not record %s event", kind, exc_info=True)


def _send_feedback(tracker: Tracker, helpful: bool) -> None:
    verdict = tracker.get_slot("kb_last") or {}
    entry_id = verdict.get("chosen") or next(iter(verdict.get("candidates") or []), {}).get("entry_id")
    if not entry_id:
        return
    try:
        providers.get_handoff_client().send_feedback(
            {
                "idempotency_key": idempotency_key(tracker, "feedback"),
                "sender_id": tracker.sender_id,
                "channel": channel_of(tracker),
                "language": language_of(tracker),
                "entry_id": entry_id,
                "helpful": helpful,
                "question": verdict.get("question", ""),
            }
        )
    except HandoffError:
        # Feedback feeds analytics only; the customer's conversation must not suffer for it.
        logger.warning("could not record feedback for %s", entry_id, exc_info=True)


class ActionFeedbackHelpful(Action):
    def name(self) -> Text:
        return "action_feedback_helpful"

    def run(self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: Dict[Text, Any]) -> List[EventType]:
        _send_feedback(tracker, helpful=True)
        dispatcher.utter_message(response="utter_glad")
        return [SlotSet("miss_count", 0), SlotSet("pending_offer", None)]


class ActionFeedbackNotHelpful(Action):
    """👎: offer the next best candidates, and a person; the second miss in a row offers a person."""

    def name(self) -> Text:
        return "action_feedback_not_helpful"

    def run(self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: Dict[Text, Any]) -> List[EventType]:
        _send_feedback(tracker, helpful=False)
        verdict = tracker.get_slot("kb_last") or {}
        shown = verdict.get("chosen") or next(iter(verdict.get("candidates") or []), {}).get("entry_id")
        others = [c for c in verdict.get("candidates") or [] if c["entry_id"] != shown]
        misses = int(tracker.get_slot("miss_count") or 0) + 1
        if misses < MISSES_BEFORE_OFFER and others:
            offer_choices(dispatcher, "utter_kb_other_candidates", others, language_of(tracker))
            return [SlotSet("miss_count", misses), SlotSet("pending_offer", "negative_feedback")]
        if misses >= MISSES_BEFORE_OFFER:
            return register_miss(dispatcher, tracker, "negative_feedback", None)
        return register_miss(dispatcher, tracker, "negative_feedback", "utter_rephrase")


class ActionNoneOfThese(Action):
    def name(self) -> Text:
        return "action_none_of_these"

    def run(self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: Dict[Text, Any]) -> List[EventType]:
        record_event(tracker, "none_of_these", tracker.get_slot("kb_last") or {})
        return register_miss(dispatcher, tracker, "low_confidence", "utter_rephrase")


class ActionOfferHuman(Action):
    """Frustration: apologise and offer a person (the customer decides)."""

    def name(self) -> Text:
        return "action_offer_human"

    def run(self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: Dict[Text, Any]) -> List[EventType]:
        dispatcher.utter_message(response="utter_offer_human_frustration")
        return [SlotSet("pending_offer", "frustration")]


class ActionHandleAffirm(Action):
    """ "Yes": accepts a pending offer of a person; otherwise a plain acknowledgement."""

    def name(self) -> Text:
        return "action_handle_affirm"

    def run(self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: Dict[Text, Any]) -> List[EventType]:
        if tracker.get_slot("pending_offer"):
            return [FollowupAction("action_hand_off")]
        dispatcher.utter_message(response="utter_ok")
        return []


class ActionHandleDeny(Action):
    """ "No": declines a pending offer of a person, and the bot keeps helping."""

    def name(self) -> Text:
        return "action_handle_deny"

    def run(self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: Dict[Text, Any]) -> List[EventType]:
        if tracker.get_slot("pending_offer"):
            dispatcher.utter_message(response="utter_offer_declined")
            return [SlotSet("pending_offer", None), SlotSet("miss_count", 0)]
        dispatcher.utter_message(response="utter_ok")
        return []
