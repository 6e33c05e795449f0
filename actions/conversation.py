"""What the actions read from a tracker: language, channel, transcript, stable idempotency keys."""
from __future__ import annotations

from typing import Any, Dict, List, Optional

from rasa_sdk import Tracker

LANGUAGES = ("de", "en")
DEFAULT_LANGUAGE = "en"

# Button labels the actions build themselves (responses with fixed buttons live in domain.yml).
LABELS = {
    "none_of_these": {"de": "Nichts davon", "en": "None of these"},
    "talk_to_person": {"de": "Mit einem Menschen sprechen", "en": "Talk to a person"},
}


def language_of(tracker: Tracker) -> str:
    language = tracker.get_slot("language")
    return language if language in LANGUAGES else DEFAULT_LANGUAGE


def label(key: str, language: str) -> str:
    return LABELS[key].get(language, LABELS[key][DEFAULT_LANGUAGE])


def channel_of(tracker: Tracker) -> str:
    return (tracker.get_latest_input_channel() or "rest").lower()


def latest_text(tracker: Tracker) -> str:
    return (tracker.latest_message or {}).get("text") or ""


def latest_user_timestamp(tracker: Tracker) -> float:
    for event in reversed(tracker.events):
        if event.get("event") == "user":
            return float(event.get("timestamp") or 0.0)
    return 0.0


def idempotency_key(tracker: Tracker, purpose: str) -> str:
    """Stable for one customer message: a retried action reuses it, a new message gets a new one."""
    return f"{tracker.sender_id}:{purpose}:{latest_user_timestamp(tracker):.6f}"


def entity_value(tracker: Tracker, name: str) -> Optional[Any]:
    for entity in (tracker.latest_message or {}).get("entities") or []:
        if entity.get("entity") == name:
            return entity.get("value")
    return None


def transcript(tracker: Tracker) -> List[Dict[str, Any]]:
    """Every user and bot turn, with the knowledge base's verdict attached to each question.

    Texts of button clicks ("/feedback_helpful") are kept as the intent they stand for, so the
    agent sees what the customer chose without the payload syntax.
    """
    turns: List[Dict[str, Any]] = []
    last_user: Optional[Dict[str, Any]] = None
    for event in tracker.events:
        kind = event.get("event")
        if kind == "user":
            text = event.get("text") or ""
            intent = ((event.get("parse_data") or {}).get("intent") or {}).get("name")
            if text.startswith("EXTERNAL: ") or intent in {"agent_message", "agent_joined", "handoff_ended", "callback_update"}:
                continue
            if text.startswith("/"):
                text = f"[{intent or text[1:]}]"
            last_user = {"role": "user", "text": text, "timestamp": event.get("timestamp"), "kb": None}
            turns.append(last_user)
        elif kind == "bot":
            turns.append({"role": "bot", "text": event.get("text") or "", "timestamp": event.get("timestamp"), "kb": None})
        elif kind == "slot" and event.get("name") == "kb_last" and event.get("value") and last_user is not None:
            verdict = event["value"]
            last_user["kb"] = {"band": verdict.get("band"), "candidates": verdict.get("candidates", [])}
    return turns


def last_question(tracker: Tracker) -> str:
    """The customer's most recent question the knowledge base saw (what the agent reads first)."""
    verdict = tracker.get_slot("kb_last") or {}
    return verdict.get("question") or ""
