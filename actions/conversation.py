"""What the actions read from a tracker: language, channel, transcript, stable idempotency keys."""

from __future__ import annotations

import json
from typing import Any, Dict, List, Optional

from rasa_sdk import Tracker

from core.vocabulary import DEFAULT_LANGUAGE, INTERNAL_INTENTS, LANGUAGES, MAX_TEXT_CHARS

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


# What a payload reads as when no button of the bot's showed it: the widget sends "/greet" when opened.
UNSHOWN_PAYLOADS = {"greet": {"de": "Hallo", "en": "Hello"}}


def clicked_words(text: str, intent: Optional[str], offered: List[Dict[str, Any]], language: str) -> str:
    """The words of the button a customer clicked ("👍 Ja" for "/feedback_helpful"), newest offer first,
    so an agent reads what the customer saw; unknown payloads stay recognisable as "[intent]"."""
    name = intent or text[1:].split("{", 1)[0]
    clicked = _payload_key(text)
    for button in reversed(offered):
        if button.get("title") and _payload_key(str(button.get("payload") or "")) == clicked:
            return str(button["title"])
    if name in LABELS:
        return label(name, language)
    if name in UNSHOWN_PAYLOADS:
        return UNSHOWN_PAYLOADS[name].get(language, UNSHOWN_PAYLOADS[name][DEFAULT_LANGUAGE])
    return f"[{name}]"


def _payload_key(payload: str) -> Any:
    """'/choose_entry{"entry_id": "x"}' and '/choose_entry{"entry_id":"x"}' are the same click."""
    name, _, entities = payload.partition("{")
    try:
        parsed = json.loads("{" + entities) if entities else {}
    except ValueError:
        parsed = entities
    return name.strip(), json.dumps(parsed, sort_keys=True) if isinstance(parsed, dict) else parsed


def channel_of(tracker: Tracker) -> str:
    return (tracker.get_latest_input_channel() or "rest").lower()


def customer_words(tracker: Tracker) -> str:
    """The customer's latest message as they saw it: a button click reads as the button's words."""
    text = latest_text(tracker)
    if not text.startswith("/"):
        return text
    offered = [
        button
        for event in tracker.events
        if event.get("event") == "bot"
        for button in ((event.get("data") or {}).get("buttons") or [])
    ]
    intent = ((tracker.latest_message or {}).get("intent") or {}).get("name")
    return clicked_words(text, intent, offered, language_of(tracker))


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


CUT_MARK = {
    "de": " […] [Nachricht gekürzt: {original} Zeichen gesendet, die ersten {shown} hier]",
    "en": " […] [message cut: {original} characters sent, the first {shown} here]",
}


def with_cut_mark(text: str, original: Any, language: str) -> str:
    """A customer message the channel cut to the limit (``original`` = its length), marked as cut for the agent.

    The mark fits within the limit (the last characters make room for it), so the handoff service takes it.
    """
    if not isinstance(original, int) or isinstance(original, bool) or original <= len(text):
        return text
    mark = CUT_MARK.get(language, CUT_MARK[DEFAULT_LANGUAGE]).format(shown=len(text), original=original)
    return text[: MAX_TEXT_CHARS - len(mark)].rstrip() + mark


def transcript(tracker: Tracker) -> List[Dict[str, Any]]:
    """Every user and bot turn, with the knowledge base's verdict attached to each question.

    Button clicks ("/feedback_helpful") read as the button the customer clicked ("👍 Ja"), so the
    agent sees what the customer chose, in their words, without the payload syntax.
    """
    turns: List[Dict[str, Any]] = []
    last_user: Optional[Dict[str, Any]] = None
    offered: List[Dict[str, Any]] = []
    language = language_of(tracker)
    for event in tracker.events:
        kind = event.get("event")
        if kind == "user":
            text = event.get("text") or ""
            intent = ((event.get("parse_data") or {}).get("intent") or {}).get("name")
            if text.startswith("EXTERNAL: ") or intent in INTERNAL_INTENTS:
                continue
            if text.startswith("/"):
                text = clicked_words(text, intent, offered, language)
            else:
                text = with_cut_mark(text, (event.get("metadata") or {}).get("truncated_from"), language)
            last_user = {"role": "user", "text": text, "timestamp": event.get("timestamp"), "kb": None}
            turns.append(last_user)
        elif kind == "bot":
            offered.extend((event.get("data") or {}).get("buttons") or [])
            turns.append(
                {"role": "bot", "text": event.get("text") or "", "timestamp": event.get("timestamp"), "kb": None}
            )
        elif kind == "slot" and event.get("name") == "kb_last" and event.get("value") and last_user is not None:
            verdict = event["value"]
            last_user["kb"] = {"band": verdict.get("band"), "candidates": verdict.get("candidates", [])}
    return turns


def last_question(tracker: Tracker) -> str:
    """The customer's most recent question the knowledge base saw (what the agent reads first)."""
    verdict = tracker.get_slot("kb_last") or {}
    return verdict.get("question") or ""


def question_for_agent(tracker: Tracker) -> str:
    """The question the console shows first, marked as the transcript marks it when the channel cut it."""
    question = last_question(tracker) or latest_text(tracker)
    for event in reversed(tracker.events):
        if event.get("event") == "user" and event.get("text") == question:
            return with_cut_mark(question, (event.get("metadata") or {}).get("truncated_from"), language_of(tracker))
    return question
