"""Session start (language from the channel's locale) and explicit language switches."""

from __future__ import annotations

from typing import Any, Dict, List, Optional, Text

from rasa_sdk import Action, Tracker
from rasa_sdk.events import ActionExecuted, EventType, SessionStarted, SlotSet
from rasa_sdk.executor import CollectingDispatcher

from actions.conversation import LANGUAGES, entity_value


def locale_language(metadata: Dict[str, Any]) -> str | None:
    """ "de-DE", "de_DE", "en" → "de"/"en"; the widget sends `language`, Messenger a `locale`."""
    for key in ("language", "locale", "lang"):
        value = str(metadata.get(key) or "")[:2].lower()
        if value in LANGUAGES:
            return value
    return None


class ActionSessionStart(Action):
    def name(self) -> Text:
        return "action_session_start"

    def run(self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: Dict[Text, Any]) -> List[EventType]:
        events: List[EventType] = [SessionStarted()]
        # Carry the conversation's state over (language, an active handoff, a booked callback).
        for name in ("language", "handoff_active", "escalation_id", "callback_reference", "relay_outbox"):
            value = tracker.get_slot(name)
            if value is not None:
                events.append(SlotSet(name, value))
        language = locale_language(tracker.get_slot("session_started_metadata") or {})
        if language:
            events.append(SlotSet("language", language))
        events.append(ActionExecuted("action_listen"))
        return events


class ActionSwitchLanguage(Action):
    def name(self) -> Text:
        return "action_switch_language"

    def run(self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: Dict[Text, Any]) -> List[EventType]:
        requested = str(entity_value(tracker, "language") or "")[:2].lower()
        if requested not in LANGUAGES:
            requested = "de" if tracker.get_slot("language") != "de" else "en"
        # Rasa renders a response before it applies this action's events, i.e. in the old language:
        # pick the variation for the new language from the domain ourselves.
        text = response_text(domain, "utter_language_switched", requested)
        if text:
            dispatcher.utter_message(text=text)
        else:
            dispatcher.utter_message(response="utter_language_switched")
        return [SlotSet("language", requested)]


def response_text(domain: Dict[Text, Any], name: str, language: str) -> Optional[str]:
    """The text of a response's variation for `language` (conditional on the language slot)."""
    variations = (domain or {}).get("responses", {}).get(name) or []
    fallback = None
    for variation in variations:
        conditions = variation.get("condition") or []
        if not conditions:
            fallback = fallback or variation.get("text")
        elif all(c.get("name") == "language" and c.get("value") == language for c in conditions):
            return variation.get("text")
    return fallback
