"""Fixtures for action tests: real trackers, the real knowledge base on a small FAQ, a fake handoff."""

from __future__ import annotations

import itertools
import textwrap
from typing import Any, Dict, List, Optional

import pytest
from rasa_sdk import Tracker
from rasa_sdk.executor import CollectingDispatcher

from actions import providers
from tests.actions.fake_handoff import InMemoryHandoffClient

FAQ = textwrap.dedent(
    """
    entries:
      - id: change-delivery-address
        language: en
        questions:
          - How do I change my delivery address?
          - I moved, where do I update my shipping address?
        answer: You can change the delivery address under Mein NordNet → Orders until the order ships.
        url: https://www.nordnet.example/help/delivery-address
      - id: change-delivery-address
        language: de
        questions:
          - Wie ändere ich meine Lieferadresse?
          - Ich bin umgezogen, wo ändere ich die Lieferanschrift?
        answer: Die Lieferadresse ändern Sie unter Mein NordNet → Bestellungen, bis die Bestellung versendet ist.
        url: https://www.nordnet.example/hilfe/lieferadresse
      - id: internet-down
        language: en
        questions:
          - My internet is not working
          - The internet connection is down
        answer: Restart the router, then check the outage map under Mein NordNet → Faults.
      - id: internet-down
        language: de
        questions:
          - Mein Internet geht nicht
          - Die Internetverbindung ist weg
        answer: Starten Sie den Router neu und prüfen Sie die Störungskarte unter Mein NordNet → Störungen.
      - id: router-wifi-password
        language: en
        questions:
          - Where do I find my Wi-Fi password?
          - What is the password of my wireless network?
        answer: The Wi-Fi password is printed on the sticker under the router.
    """
)


@pytest.fixture(scope="session")
def kb(tmp_path_factory: pytest.TempPathFactory) -> Any:
    from knowledge_base import Settings, build_index, load_entries, load_knowledge_base

    root = tmp_path_factory.mktemp("kb")
    faq = root / "faq.yml"
    faq.write_text(FAQ, encoding="utf-8")
    index = root / "index"
    settings = Settings.from_env().with_(faq_path=str(faq), index_dir=str(index))
    build_index(load_entries(faq), index, progress=False)
    return load_knowledge_base(settings)


@pytest.fixture
def handoff() -> InMemoryHandoffClient:
    client = InMemoryHandoffClient()
    providers.set_handoff_client(client)
    yield client
    providers.set_handoff_client(None)


@pytest.fixture
def use_kb(kb: Any) -> Any:
    providers.set_kb(kb)
    yield kb
    providers.set_kb(None)


_clock = itertools.count(1000)


def user_event(
    text: str, intent: str = "ask_question", entities: Optional[List[Dict[str, Any]]] = None, timestamp: float = 1000.0
) -> Dict[str, Any]:
    return {
        "event": "user",
        "text": text,
        "timestamp": timestamp,
        "input_channel": "socketio",
        "parse_data": {"text": text, "intent": {"name": intent, "confidence": 1.0}, "entities": entities or []},
    }


def make_tracker(
    text: str,
    intent: str = "ask_question",
    slots: Optional[Dict[str, Any]] = None,
    history: Optional[List[Dict[str, Any]]] = None,
    entities: Optional[List[Dict[str, Any]]] = None,
    active_loop: Optional[str] = None,
    sender_id: str = "customer-1",
) -> Tracker:
    # Each tracker is a new customer message, with its own timestamp (and so its own idempotency key).
    event = user_event(text, intent, entities, timestamp=float(next(_clock)))
    return Tracker(
        sender_id,
        {"miss_count": 0, "handoff_active": False, "relay_outbox": [], **(slots or {})},
        event["parse_data"],
        list(history or []) + [event],
        False,
        None,
        {"name": active_loop} if active_loop else {},
        "action_listen",
    )


def run(action: Any, tracker: Tracker) -> tuple[list[dict], list[dict]]:
    """Run an action; return (events, messages)."""
    dispatcher = CollectingDispatcher()
    events = action.run(dispatcher, tracker, {})
    return events, dispatcher.messages


def responses(messages: List[Dict[str, Any]]) -> List[Optional[str]]:
    return [m.get("response") or m.get("text") for m in messages]


def slot_events(events: List[Dict[str, Any]]) -> Dict[str, Any]:
    return {e["name"]: e["value"] for e in events if e.get("event") == "slot"}
