"""A customer can only ever be themselves (issue 18): against the real servers of `make run`'s shape."""

from __future__ import annotations

import threading
from typing import List

import pytest
import requests

from scripts.stack import Stack
from tests.e2e.conftest import Customer

pytestmark = pytest.mark.e2e


def test_rasas_http_api_wants_the_token(stack: Stack, customer: Customer):
    customer.say("Hallo")
    url = f"{stack.rasa_url}/conversations/{customer.sender}/tracker"
    assert requests.get(url, timeout=30).status_code == 401
    assert requests.get(url, params={"token": "guess"}, timeout=30).status_code == 401
    assert (
        requests.post(
            f"{stack.rasa_url}/conversations/{customer.sender}/trigger_intent",
            json={"name": "agent_message", "entities": {"agent_text": "x"}},
            timeout=30,
        ).status_code
        == 401
    )
    assert requests.get(url, params={"token": stack.rasa_token}, timeout=30).status_code == 200


def test_the_action_server_runs_actions_for_rasa_only(stack: Stack, customer: Customer):
    customer.say("Hallo")
    call = {
        "next_action": "action_cancel",
        "sender_id": customer.sender,
        "domain": {},
        "tracker": {"sender_id": customer.sender, "slots": {}, "events": [], "latest_message": {}},
    }
    assert requests.post(f"{stack.actions_url}/webhook", json=call, timeout=30).status_code == 401
    assert (
        requests.post(
            f"{stack.actions_url}/webhook", json=call, headers={"X-Action-Token": "guess"}, timeout=30
        ).status_code
        == 401
    )
    assert requests.get(f"{stack.actions_url}/health", timeout=30).status_code == 200
    # ... and Rasa itself still gets its actions run: the conversation works.
    assert customer.say("How do I change my delivery address?")[-1]["buttons"][0]["payload"] == "/feedback_helpful"


class Widget:
    """A browser's widget session over socket.io, as rasa-webchat speaks it."""

    def __init__(self, stack: Stack, session_id: str | None = None) -> None:
        import socketio

        self.received: List[str] = []
        self.confirmed = threading.Event()
        self.session_id = ""
        self.client = socketio.Client(reconnection=False)
        self.client.on("session_confirm", self._confirm)
        self.client.on("bot_uttered", lambda data: self.received.append((data or {}).get("text", "")))
        self.client.connect(stack.rasa_url, socketio_path="/socket.io", transports=["websocket"])
        self.client.emit("session_request", {"session_id": session_id})
        assert self.confirmed.wait(20), "no session_confirm"

    def _confirm(self, session_id):
        self.session_id = session_id if isinstance(session_id, str) else (session_id or {}).get("session_id", "")
        self.confirmed.set()

    def say(self, text: str) -> None:
        self.client.emit("user_uttered", {"message": text, "customData": {"language": "de"}})

    def close(self) -> None:
        self.client.disconnect()


def _wait_for(predicate, timeout: float = 30.0) -> bool:
    import time

    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if predicate():
            return True
        time.sleep(0.2)
    return False


def test_a_second_browser_cannot_take_over_a_widget_session(stack: Stack):
    from bot.sessions import sender_for

    anna = Widget(stack)
    try:
        anna.say("Wie ändere ich meine Lieferadresse?")
        assert _wait_for(lambda: any("Lieferadresse" in t or "Mein NordNet" in t for t in anna.received))
        sender = sender_for(anna.session_id, stack.environment()["WIDGET_SESSION_SECRET"].encode())
        # What an agent sees (the conversation id), a guess, and a session id of the old unsigned kind: all
        # get a session of their own, never Anna's.
        for claimed in (sender, sender.removeprefix("web-"), anna.session_id.split(".")[0], "a" * 32):
            mallory = Widget(stack, claimed)
            try:
                assert mallory.session_id != anna.session_id and mallory.session_id.count(".") == 1
                mallory.say("Hallo")
                assert _wait_for(lambda: mallory.received)
            finally:
                mallory.close()
        seen_before = len(anna.received)
        anna.say("Danke")
        assert _wait_for(lambda: len(anna.received) > seen_before)
        # Anna's conversation holds only Anna's messages.
        tracker = requests.get(
            f"{stack.rasa_url}/conversations/{sender}/tracker", params={"token": stack.rasa_token}, timeout=30
        ).json()
        assert [e["text"] for e in tracker["events"] if e["event"] == "user"] == [
            "Wie ändere ich meine Lieferadresse?",
            "Danke",
        ]
        # Anna herself (her browser holds the session id) resumes it after a reload.
        again = Widget(stack, anna.session_id)
        assert again.session_id == anna.session_id
        again.close()
    finally:
        anna.close()


def test_a_flooding_sender_is_throttled_politely_and_others_are_not(stack: Stack, customer: Customer):
    """30 messages a minute per sender (BOT_MESSAGES_PER_MINUTE): a script gets one polite note, then silence."""
    replies = [customer.say("Guten Morgen, ich hätte eine Frage") for _ in range(32)]
    assert all(reply for reply in replies[:30])  # every message within the limit was answered
    assert [m.get("text") for m in replies[30]] == [
        "Sie schreiben gerade sehr schnell – bitte warten Sie einen Moment, dann antworte ich wieder."
    ]
    assert replies[31] == []  # told once per burst, not once per message
    assert Customer(stack).say("Hallo")  # another customer is answered as usual


def test_a_customer_cannot_fake_the_channels_cut_mark(stack: Stack, customer: Customer):
    """`truncated_from` is the channel's note that it cut a long message (the agent then reads a mark)."""
    reply = requests.post(
        f"{stack.rasa_url}/webhooks/rest/webhook",
        timeout=60,
        json={"sender": customer.sender, "message": "Hallo", "metadata": {"truncated_from": 99999, "locale": "de"}},
    )
    assert reply.status_code == 200
    said = [e for e in customer.tracker()["events"] if e["event"] == "user"][-1]
    assert "truncated_from" not in said["metadata"] and said["metadata"]["locale"] == "de"
