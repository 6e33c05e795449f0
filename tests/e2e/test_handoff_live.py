"""Issue 20 on the real stack: a reply to a closed tab arrives on reopening, the queue moves, cancel cancels,
the reason is what happened; German and English."""

from __future__ import annotations

import threading
import time
from typing import Any, Dict, List, Optional

import pytest
from sqlalchemy import create_engine, text

from bot.sessions import sender_for
from scripts.stack import Stack
from tests.e2e.conftest import AgentConsole, Customer, escalation_id, texts

pytestmark = pytest.mark.e2e

WORDS = {
    "de": {
        "ask": "Ich möchte mit einem Mitarbeiter sprechen",
        "queued": "Ich verbinde Sie mit einem Mitarbeiter",
        "joined": "hat das Gespräch übernommen",
        "reply": "Ihre Gutschrift über 12,50 € ist gebucht.",
        "moved": "Sie sind jetzt auf Platz",
        "cancel": "abbrechen",
        "left": "Sie haben die Warteschlange verlassen",
        "miss": "Wie hoch ist der Eiffelturm eigentlich?",
        "miss2": "Wer hat die Fußball-WM 2014 gewonnen?",
        "form_cancelled": "Kein Problem, ich habe die Rückruf-Anfrage",
    },
    "en": {
        "ask": "I want to talk to a person",
        "queued": "I'm connecting you with an agent",
        "joined": "has joined the conversation",
        "reply": "Your credit of EUR 12.50 is booked.",
        "moved": "You are now number",
        "cancel": "cancel",
        "left": "You've left the queue",
        "miss": "What is the capital of Mongolia?",
        "miss2": "Can I bring my dog to your shop?",
        "form_cancelled": "No problem, I've stopped the callback request",
    },
}


class Widget:
    """A browser's widget session over socket.io, as rasa-webchat and chat.js speak it (catch_up, seen)."""

    def __init__(self, stack: Stack, language: str, session_id: Optional[str] = None) -> None:
        import socketio

        self.language = language
        self.received: List[Dict[str, Any]] = []
        self.confirmed = threading.Event()
        self.session_id = ""
        self.client = socketio.Client(reconnection=False)
        self.client.on("session_confirm", self._confirm)
        self.client.on("bot_uttered", lambda data: self.received.append(data or {}))
        self.client.connect(stack.rasa_url, socketio_path="/socket.io", transports=["websocket"])
        self.client.emit("session_request", {"session_id": session_id})
        assert self.confirmed.wait(20), "no session_confirm"
        self.sender = sender_for(self.session_id, stack.environment()["WIDGET_SESSION_SECRET"].encode())

    def _confirm(self, session_id: Any) -> None:
        self.session_id = session_id if isinstance(session_id, str) else (session_id or {}).get("session_id", "")
        self.confirmed.set()

    def say(self, message: str) -> None:
        self.client.emit("user_uttered", {"message": message, "customData": {"language": self.language}})

    def wait_for(self, fragment: str, timeout: float = 60.0) -> Dict[str, Any]:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            for message in list(self.received):
                if fragment in (message.get("text") or ""):
                    return message
            time.sleep(0.1)
        raise AssertionError(f"no message with {fragment!r}; got {[m.get('text') for m in self.received]}")

    def newest_ts(self) -> float:
        return max(float((m.get("metadata") or {}).get("ts") or 0) for m in self.received)

    def close(self) -> None:
        self.client.disconnect()


def handoff_db(stack: Stack):
    return create_engine(stack.environment()["DATABASE_URL"])


def conversation_row(stack: Stack, conversation_id: int) -> Dict[str, Any]:
    with handoff_db(stack).connect() as db:
        return dict(
            db.execute(
                text("SELECT status, reason, end_reason FROM conversations WHERE id = :id"), {"id": conversation_id}
            )
            .mappings()
            .one()
        )


def reply_row(stack: Stack, conversation_id: int, content: str) -> Dict[str, Any]:
    with handoff_db(stack).connect() as db:
        return dict(
            db.execute(
                text(
                    "SELECT m.id, m.seen_at, o.status AS delivery FROM messages m JOIN outbox o ON o.message_id = m.id "
                    "WHERE m.conversation_id = :id AND m.content = :content"
                ),
                {"id": conversation_id, "content": content},
            )
            .mappings()
            .one()
        )


def eventually(predicate, timeout: float = 30.0) -> Any:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = predicate()
        if value:
            return value
        time.sleep(0.2)
    raise AssertionError("condition not met in time")


@pytest.mark.parametrize("language", ["de", "en"])
def test_a_reply_to_a_closed_tab_arrives_when_the_widget_comes_back_and_reads_as_seen(
    channels_stack: Stack, online_agent: AgentConsole, language: str
):
    words = WORDS[language]
    widget = Widget(channels_stack, language)
    widget.say(words["ask"])
    queued = widget.wait_for(words["queued"])
    assert int(queued["metadata"]["queue_position"]) >= 1  # the widget's header hint shows it
    conversation = escalation_id(channels_stack, widget.sender)
    assert conversation_row(channels_stack, conversation)["reason"] == "requested"
    online_agent.claim(conversation)
    widget.wait_for(words["joined"])
    since = widget.newest_ts()
    session = widget.session_id
    widget.close()  # the customer closes the tab

    online_agent.reply(conversation, words["reply"])
    sent = eventually(
        lambda: (row := reply_row(channels_stack, conversation, words["reply"]))["delivery"] == "sent" and row
    )
    assert sent["seen_at"] is None  # Rasa has it; no browser has shown it: the console says "sent", not "seen"

    back = Widget(channels_stack, language, session)  # the tab is reopened: same session
    try:
        assert back.session_id == session
        back.client.emit("catch_up", {"since": since})
        reply = back.wait_for(words["reply"], timeout=20)
        assert reply["metadata"]["agent_name"] == online_agent.name
        assert [m.get("text") for m in back.received].count(words["reply"]) == 1  # nothing older, nothing twice
        back.client.emit("seen", {"message_ids": [reply["metadata"]["message_id"]]})
        eventually(lambda: reply_row(channels_stack, conversation, words["reply"])["seen_at"] is not None)
    finally:
        back.close()
        online_agent.resolve(conversation)


def test_two_waiting_customers_see_their_place_change_and_a_cancel_leaves_at_once(
    channels_stack: Stack, online_agent: AgentConsole
):
    anna, ben = Widget(channels_stack, "de"), Widget(channels_stack, "en")
    try:
        anna.say(WORDS["de"]["ask"])
        anna.wait_for(WORDS["de"]["queued"])
        ben.say(WORDS["en"]["ask"])
        first = int(ben.wait_for(WORDS["en"]["queued"])["metadata"]["queue_position"])
        anna_id, ben_id = escalation_id(channels_stack, anna.sender), escalation_id(channels_stack, ben.sender)

        online_agent.claim(anna_id)  # the customer ahead is picked up: Ben moves up, and is told so
        moved = ben.wait_for(WORDS["en"]["moved"], timeout=20)
        assert int(moved["metadata"]["queue_position"]) == first - 1
        assert moved["text"].startswith(f"You are now number {first - 1} in the queue, expected wait about")
        anna.wait_for(WORDS["de"]["joined"])

        ben.say(WORDS["en"]["cancel"])
        ben.wait_for(WORDS["en"]["left"])
        assert conversation_row(channels_stack, ben_id)["status"] == "cancelled"
        refused = online_agent.http.post(
            f"{channels_stack.handoff_url}/agent/conversations/{ben_id}/claim",
            data={"csrf_token": online_agent.csrf},
            headers={"X-Requested-With": "fetch"},
            timeout=30,
        )
        assert refused.status_code == 409
        time.sleep(2)
        assert not [m for m in ben.received if WORDS["en"]["joined"] in (m.get("text") or "")]
        online_agent.resolve(anna_id)
    finally:
        anna.close()
        ben.close()


@pytest.mark.parametrize("language", ["de", "en"])
def test_cancel_in_the_callback_form_takes_the_request_out_of_the_queue(
    channels_stack: Stack, open_for_handoffs: AgentConsole, language: str
):
    words = WORDS[language]
    open_for_handoffs.post("/agent/presence", presence="offline")  # logging in made the admin available
    customer = Customer(channels_stack)
    # Nobody online: the hand-off is stored and the callback form starts.
    customer.say("Hallo" if language == "de" else "Hello")
    replies = texts(customer.say(words["ask"]))
    assert any(r.startswith(("Gerade ist leider niemand", "Nobody is available")) for r in replies), replies
    conversation = escalation_id(channels_stack, customer.sender)
    assert conversation_row(channels_stack, conversation)["status"] == "pending"

    assert texts(customer.say(words["cancel"]))[0].startswith(words["form_cancelled"])
    assert conversation_row(channels_stack, conversation) == {
        "status": "cancelled",
        "reason": "requested",
        "end_reason": "customer_left",
    }
    refused = open_for_handoffs.http.post(
        f"{channels_stack.handoff_url}/agent/conversations/{conversation}/claim",
        data={"csrf_token": open_for_handoffs.csrf},
        headers={"X-Requested-With": "fetch"},
        timeout=30,
    )
    assert refused.status_code == 409


@pytest.mark.parametrize("language", ["de", "en"])
def test_the_reason_is_what_happened(channels_stack: Stack, language: str):
    words = WORDS[language]
    asked = Customer(channels_stack)
    asked.say(words["miss"])
    asked.say(words["miss2"])  # two misses: a person is offered ...
    asked.say(words["ask"])  # ... but the customer asks in their own words
    assert conversation_row(channels_stack, escalation_id(channels_stack, asked.sender))["reason"] == "requested"

    accepted = Customer(channels_stack)
    accepted.say(words["miss"])
    accepted.say(words["miss2"])
    accepted.say("ja" if language == "de" else "yes")  # accepting the offer after two misses
    assert (
        conversation_row(channels_stack, escalation_id(channels_stack, accepted.sender))["reason"] == "repeated_failure"
    )
    for customer in (asked, accepted):
        customer.say(words["cancel"])
