"""The callback form: a validated contact, a concrete time window, consent; then the booking."""

from __future__ import annotations

import logging
import re
from datetime import datetime
from typing import Any, Dict, List, Optional, Text, Tuple
from zoneinfo import ZoneInfo

import phonenumbers
from rasa_sdk import Action, FormValidationAction, Tracker
from rasa_sdk.events import EventType, SlotSet
from rasa_sdk.executor import CollectingDispatcher
from rasa_sdk.types import DomainDict

from actions import providers
from actions.conversation import channel_of, idempotency_key, language_of, transcript
from actions.handoff import cancel_escalation
from actions.handoff_client import HandoffError, HandoffRejected
from actions.settings import get_settings
from actions.timewindow import Window, parse_window
from core.vocabulary import SWITCHED_TO_CALLBACK

logger = logging.getLogger(__name__)

_EMAIL = re.compile(r"[A-Za-z0-9._%+-]+@[A-Za-z0-9.-]+\.[A-Za-z]{2,}")
_PHONE = re.compile(r"\+?[\d][\d ()/.\-]{4,}\d")


def normalise_contact(text: str) -> Optional[Tuple[str, str]]:
    """("email", address) or ("phone", E.164) found in the text; German numbers need no +49."""
    email = _EMAIL.search(text or "")
    if email:
        return "email", email.group(0).lower()
    phone = _PHONE.search(text or "")
    if not phone:
        return None
    try:
        number = phonenumbers.parse(phone.group(0), "DE")
    except phonenumbers.NumberParseException:
        return None
    if not phonenumbers.is_valid_number(number):
        return None
    return "phone", phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.E164)


def now_in_business_zone() -> datetime:
    return datetime.now(ZoneInfo(get_settings().timezone))


class ValidateCallbackForm(FormValidationAction):
    def name(self) -> Text:
        return "validate_callback_form"

    def validate_callback_contact(
        self, slot_value: Any, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict
    ) -> Dict[Text, Any]:
        contact = normalise_contact(str(slot_value or ""))
        if contact is None:
            dispatcher.utter_message(response="utter_invalid_contact")
            return {"callback_contact": None}
        method, value = contact
        return {"callback_contact": value, "callback_contact_method": method}

    async def extract_callback_contact(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict
    ) -> Dict[Text, Any]:
        """A number or address in the request itself ("Rückruf bitte, 040 9876543") is not asked for again."""
        return _from_request(tracker, "callback_contact", lambda text: normalise_contact(text) is not None)

    async def extract_callback_window(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict
    ) -> Dict[Text, Any]:
        """A time in the request itself ("ruf mich heute zwischen 17 und 18 Uhr zurück") fills the window at once."""
        return _from_request(
            tracker, "callback_window", lambda text: parse_window(text, now_in_business_zone()) is not None
        )

    def validate_callback_window(
        self, slot_value: Any, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict
    ) -> Dict[Text, Any]:
        window = parse_window(str(slot_value or ""), now_in_business_zone())
        if window is None:
            dispatcher.utter_message(response="utter_invalid_window")
            return {"callback_window": None}
        described = window.describe(language_of(tracker))
        dispatcher.utter_message(response="utter_callback_window_confirm", window=described)
        return {
            "callback_window": described,
            "callback_window_start": window.start.isoformat(),
            "callback_window_end": window.end.isoformat(),
        }


def _from_request(tracker: Tracker, slot: str, usable: Any) -> Dict[Text, Any]:
    """``slot`` from the message that started the form, when it holds a usable value; the validator checks it.

    Only when the form starts (nothing asked yet) and the slot is empty: once the form asks, the slot
    mappings take the customer's answers as usual.
    """
    if tracker.get_slot(slot) or tracker.get_slot("requested_slot"):
        return {}
    text = (tracker.latest_message or {}).get("text") or ""
    if text.startswith("/") or not usable(text):
        return {}
    return {slot: text}


def _clear_form() -> List[EventType]:
    return [
        SlotSet(name, None)
        for name in (
            "callback_contact",
            "callback_contact_method",
            "callback_window",
            "callback_window_start",
            "callback_window_end",
            "callback_consent",
        )
    ]


TOO_MANY_CALLBACKS = {
    "de": "Für diese Kontaktdaten sind schon Rückrufwünsche offen ({references}); wir melden uns wie vereinbart. "
    "Mehr nehmen wir nicht an, bis einer davon erledigt ist.",
    "en": "There are already callback requests open for these contact details ({references}); we will contact "
    "you as agreed. We can take another once one of them is done.",
}


def _too_many_callbacks(language: str, exc: HandoffRejected) -> str:
    details = exc.error.get("details") or [{}]
    references = ", ".join(details[0].get("references") or []) or "…"
    return TOO_MANY_CALLBACKS.get(language, TOO_MANY_CALLBACKS["en"]).format(references=references)


class ActionSubmitCallback(Action):
    """Book the callback with the handoff service and confirm it with a reference number."""

    def name(self) -> Text:
        return "action_submit_callback"

    def run(self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: Dict[Text, Any]) -> List[EventType]:
        if not tracker.get_slot("callback_consent"):
            dispatcher.utter_message(response="utter_callback_no_consent")
            return _clear_form()
        payload = {
            "idempotency_key": idempotency_key(tracker, "callback"),
            "sender_id": tracker.sender_id,
            "channel": channel_of(tracker),
            "language": language_of(tracker),
            "contact_method": tracker.get_slot("callback_contact_method"),
            "contact": tracker.get_slot("callback_contact"),
            "window_start": tracker.get_slot("callback_window_start"),
            "window_end": tracker.get_slot("callback_window_end"),
            "consent": True,
            "conversation_id": tracker.get_slot("escalation_id"),
            "transcript": transcript(tracker),
        }
        try:
            result = providers.get_handoff_client().create_callback(payload)
        except HandoffRejected as exc:
            if exc.code != "too_many_callbacks":
                raise
            dispatcher.utter_message(text=_too_many_callbacks(language_of(tracker), exc))
            return _clear_form()
        except HandoffError:
            logger.exception("booking a callback for %s failed", tracker.sender_id)
            dispatcher.utter_message(response="utter_callback_failed")
            return _clear_form()
        # A hand-off nobody could take leaves the live queue: the customer now waits for a call, not a chat.
        cancel_escalation(tracker, SWITCHED_TO_CALLBACK)
        window = Window(datetime.fromisoformat(payload["window_start"]), datetime.fromisoformat(payload["window_end"]))
        dispatcher.utter_message(
            response="utter_callback_confirmed",
            window=window.describe(language_of(tracker)),
            contact=payload["contact"],
            reference=result["reference"],
        )
        return _clear_form() + [SlotSet("callback_reference", result["reference"]), SlotSet("handoff_active", False)]
