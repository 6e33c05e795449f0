"""Helpers for the privacy tests: a tracker store made the way Rasa's SQLTrackerStore makes it, and customers."""

from __future__ import annotations

import json
import time
from pathlib import Path

from sqlalchemy import create_engine, text

from handoff.models import Agent
from handoff.services import assignment
from tests.handoff.test_api_callbacks import callback_body

# What rasa.core.tracker_store.SQLTrackerStore (Rasa 3.6) creates on SQLite.
RASA_EVENTS_DDL = (
    "CREATE TABLE events (id INTEGER NOT NULL, sender_id VARCHAR(255) NOT NULL, type_name VARCHAR(255) NOT NULL, "
    "timestamp FLOAT, intent_name VARCHAR(255), action_name VARCHAR(255), data TEXT, PRIMARY KEY (id))",
    "CREATE INDEX ix_events_sender_id ON events (sender_id)",
)


def make_tracker_store(path: Path) -> str:
    engine = create_engine(f"sqlite:///{path}")
    with engine.begin() as connection:
        for statement in RASA_EVENTS_DDL:
            connection.execute(text(statement))
    engine.dispose()
    return f"sqlite:///{path}"


def add_tracker_events(url: str, sender_id: str, texts: list[str], timestamp: float | None = None) -> None:
    """A user message and the bot's answer per text, with ``data`` as Rasa serialises events."""
    stamp = time.time() if timestamp is None else timestamp
    rows = []
    for number, said in enumerate(texts):
        when = stamp + number
        rows.append(
            {
                "sender_id": sender_id,
                "type_name": "user",
                "timestamp": when,
                "intent_name": "nlu_fallback",
                "action_name": None,
                "data": json.dumps(
                    {
                        "event": "user",
                        "timestamp": when,
                        "text": said,
                        "input_channel": "socketio",
                        "parse_data": {"text": said, "intent": {"name": "nlu_fallback", "confidence": 0.3}},
                    }
                ),
            }
        )
        rows.append(
            {
                "sender_id": sender_id,
                "type_name": "bot",
                "timestamp": when + 0.5,
                "intent_name": None,
                "action_name": None,
                "data": json.dumps({"event": "bot", "timestamp": when + 0.5, "text": f"Answer to {said}", "data": {}}),
            }
        )
    engine = create_engine(url)
    with engine.begin() as connection:
        connection.execute(
            text(
                "INSERT INTO events (sender_id, type_name, timestamp, intent_name, action_name, data) "
                "VALUES (:sender_id, :type_name, :timestamp, :intent_name, :action_name, :data)"
            ),
            rows,
        )
    engine.dispose()


def tracker_senders(url: str) -> dict[str, int]:
    engine = create_engine(url)
    with engine.connect() as connection:
        rows = connection.execute(text("SELECT sender_id, count(*) FROM events GROUP BY sender_id")).all()
    engine.dispose()
    return dict(rows)


def make_customer(api, session, agent: Agent, sender_id: str, name: str, phone: str, secret: str) -> int:
    """A customer who was handed to ``agent`` (with a reply and a note), asked for a callback, rated an
    answer and left an analytics event; ``secret`` appears in their own words."""
    conversation_id = api.escalate(
        sender_id=sender_id,
        question=f"My router {secret} blinks red",
        customer={"name": name},
        transcript=[
            {"role": "user", "text": f"My router {secret} blinks red", "timestamp": time.time() - 60, "kb": None}
        ],
    )["conversation_id"]
    assignment.claim(session, conversation_id, agent)
    assignment.reply(session, conversation_id, agent, f"Hello {name}, please restart it")
    assignment.add_note(session, conversation_id, agent, f"{name} sounds upset")
    assignment.resolve(session, conversation_id, agent)
    response = api.post(
        "/callbacks",
        callback_body(
            f"{sender_id}:callback:1.0",
            sender_id=sender_id,
            channel="socketio",
            contact=phone,
            transcript=[{"role": "user", "text": f"call me about {secret}", "timestamp": time.time() - 30, "kb": None}],
        ),
    )
    assert response.status_code == 201, response.get_json()
    common = {"sender_id": sender_id, "channel": "socketio", "language": "en"}
    feedback = {
        **common,
        "idempotency_key": f"{sender_id}:feedback:1.0",
        "entry_id": "router-leds",
        "helpful": False,
        "question": f"router {secret}",
    }
    assert api.post("/feedback", feedback).status_code == 201
    event = {
        **common,
        "idempotency_key": f"{sender_id}:kb_decline:1.0",
        "type": "kb_decline",
        "question": f"what about {secret}",
        "entry_id": None,
        "confidence": 0.1,
    }
    assert api.post("/events", event).status_code == 201
    return conversation_id
