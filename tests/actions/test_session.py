"""Switching the conversation's language: the confirmation is already in the new language."""

from __future__ import annotations

from pathlib import Path

import yaml
from rasa_sdk.executor import CollectingDispatcher

from actions.session import ActionSwitchLanguage
from tests.actions.conftest import make_tracker, slot_events

DOMAIN = yaml.safe_load((Path(__file__).resolve().parents[2] / "domain.yml").read_text(encoding="utf-8"))


def switch(text: str, language: str, entity: str | None = None):
    entities = [{"entity": "language", "value": entity}] if entity else []
    tracker = make_tracker(text, intent="switch_language", slots={"language": language}, entities=entities)
    dispatcher = CollectingDispatcher()
    events = ActionSwitchLanguage().run(dispatcher, tracker, DOMAIN)
    return slot_events(events), [m.get("text") for m in dispatcher.messages]


def test_english_please_confirms_in_english():
    slots, texts = switch("English please", "de", entity="en")
    assert slots == {"language": "en"}
    assert texts == ["Sure, English from now on. How can I help?"]


def test_without_a_tagged_language_the_other_one_is_chosen_and_confirmed_in_it():
    slots, texts = switch("andere Sprache bitte", "en")
    assert slots == {"language": "de"}
    assert texts == ["Gern, ab jetzt auf Deutsch. Wie kann ich helfen?"]
