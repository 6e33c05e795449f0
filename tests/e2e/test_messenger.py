"""Facebook Messenger end to end: signed webhooks into the running Rasa server, replies at a fake Graph API."""

from __future__ import annotations

import hashlib
import hmac
import itertools
import json
import random
import time
from typing import Any, Dict, List, Optional

import pytest
import requests

from scripts.stack import Stack
from tests.e2e.conftest import MESSENGER_ENV, AgentConsole, escalation_id, faq_answer
from tests.e2e.fake_graph import FakeGraph, SendRequest

pytestmark = pytest.mark.e2e

PAGE_ID = "104857600000001"
VALID = "valid"


def sign(body: bytes, secret: str = MESSENGER_ENV["FB_APP_SECRET"]) -> str:
    return "sha256=" + hmac.new(secret.encode(), body, hashlib.sha256).hexdigest()


def typing_offs(requests_: List[SendRequest]) -> int:
    return sum(r.action == "typing_off" for r in requests_)


class MessengerUser:
    """One person writing to the page, as Facebook delivers it: real webhook payloads, signed."""

    def __init__(self, stack: Stack, graph: FakeGraph) -> None:
        self.stack = stack
        self.graph = graph
        self.psid = str(random.randrange(10**15, 10**16))  # page-scoped ids are long digit strings
        self.handled = 0  # events the bot has finished: each one ends with a typing_off
        self._mids = itertools.count(1)

    @property
    def webhook(self) -> str:
        return f"{self.stack.rasa_url}/webhooks/facebook/webhook"

    def mid(self) -> str:
        return f"m_{self.psid}_{next(self._mids)}"

    def event(self, **fields: Any) -> Dict[str, Any]:
        return {
            "sender": {"id": self.psid},
            "recipient": {"id": PAGE_ID},
            "timestamp": int(time.time() * 1000),
            **fields,
        }

    @staticmethod
    def envelope(*events: Dict[str, Any]) -> Dict[str, Any]:
        return {
            "object": "page",
            "entry": [{"id": PAGE_ID, "time": int(time.time() * 1000), "messaging": list(events)}],
        }

    def post(
        self, body: Dict[str, Any], signature: Optional[str] = VALID, raw: Optional[bytes] = None
    ) -> requests.Response:
        data = raw if raw is not None else json.dumps(body).encode()
        headers = {"Content-Type": "application/json"}
        if signature == VALID:
            headers["X-Hub-Signature-256"] = sign(data)
        elif signature is not None:
            headers["X-Hub-Signature-256"] = signature
        return requests.post(self.webhook, data=data, headers=headers, timeout=30)

    def _deliver(self, **fields: Any) -> List[SendRequest]:
        """Post one event; the Send API requests it caused, once the bot is done with it."""
        before = len(self.graph.requests_for(self.psid))
        reply = self.post(self.envelope(self.event(**fields)))
        assert reply.status_code == 200, reply.text
        self.handled += 1
        done = self.graph.wait_for(self.psid, lambda got: typing_offs(got) >= self.handled)
        return done[before:]

    def says(self, text: str) -> List[SendRequest]:
        return self._deliver(message={"mid": self.mid(), "text": text})

    def taps_quick_reply(self, title: str, payload: str) -> List[SendRequest]:
        return self._deliver(message={"mid": self.mid(), "text": title, "quick_reply": {"payload": payload}})

    def taps_postback(self, title: str, payload: str) -> List[SendRequest]:
        return self._deliver(postback={"mid": self.mid(), "title": title, "payload": payload})

    def sends_attachment(self, kind: str, url: str) -> List[SendRequest]:
        return self._deliver(message={"mid": self.mid(), "attachments": [{"type": kind, "payload": {"url": url}}]})

    def tracker(self) -> Dict[str, Any]:
        return requests.get(
            f"{self.stack.rasa_url}/conversations/{self.psid}/tracker",
            params={"token": self.stack.rasa_token},
            timeout=30,
        ).json()


def messages(requests_: List[SendRequest]) -> List[Dict[str, Any]]:
    return [r.message for r in requests_ if r.message is not None]


@pytest.fixture
def user(channels_stack: Stack, fake_graph: FakeGraph) -> MessengerUser:
    return MessengerUser(channels_stack, fake_graph)


def test_webhook_verification_handshake(channels_stack: Stack):
    url = f"{channels_stack.rasa_url}/webhooks/facebook/webhook"
    good = {
        "hub.mode": "subscribe",
        "hub.verify_token": MESSENGER_ENV["FB_VERIFY_TOKEN"],
        "hub.challenge": "1158201444",
    }

    reply = requests.get(url, params=good, timeout=10)
    assert (reply.status_code, reply.text) == (200, "1158201444")
    assert requests.get(url, params={**good, "hub.verify_token": "guess"}, timeout=10).status_code == 403
    assert requests.get(url, params={**good, "hub.mode": "unsubscribe"}, timeout=10).status_code == 403


def test_unsigned_or_wrongly_signed_posts_are_refused_unprocessed(user: MessengerUser, fake_graph: FakeGraph):
    body = user.envelope(user.event(message={"mid": user.mid(), "text": "Hallo"}))
    raw = json.dumps(body).encode()
    tampered = raw.replace(b"Hallo", b"Hi!!!")

    assert user.post(body, signature=None).status_code == 403
    assert user.post(body, signature=sign(raw, "not-the-app-secret")).status_code == 403
    assert user.post(body, signature="sha256=" + "0" * 64).status_code == 403
    assert user.post(body, signature=sign(raw), raw=tampered).status_code == 403
    legacy = requests.post(  # the SHA-1 header alone, which Rasa's built-in connector accepted
        user.webhook,
        data=raw,
        timeout=10,
        headers={
            "Content-Type": "application/json",
            "X-Hub-Signature": "sha1="
            + hmac.new(MESSENGER_ENV["FB_APP_SECRET"].encode(), raw, hashlib.sha1).hexdigest(),
        },
    )
    assert legacy.status_code == 403

    time.sleep(3)  # time enough for the bot to have answered, had it processed anything
    assert fake_graph.requests_for(user.psid) == []
    assert not [e for e in user.tracker().get("events") or [] if e["event"] == "user"]

    # The same message, signed with the app secret, is answered: the signature was the only problem.
    assert user.post(body).status_code == 200
    fake_graph.wait_for(user.psid, lambda got: typing_offs(got) == 1)


def test_german_question_quick_reply_and_postback(user: MessengerUser, fake_graph: FakeGraph):
    answered = user.says("Wie ändere ich meine Lieferadresse?")

    # Seen, typing, the answer, its link, the feedback question with quick replies, typing off.
    assert [r.action for r in answered[:2]] == ["mark_seen", "typing_on"] and answered[-1].action == "typing_off"
    replies = messages(answered)
    assert replies[0] == {"text": faq_answer("change-delivery-address", "de")}
    assert replies[1] == {"text": "Mehr dazu: https://www.nordnet.example/hilfe/lieferadresse"}
    assert replies[-1] == {
        "text": "Hat Ihnen das geholfen?",
        "quick_replies": [
            {"content_type": "text", "title": "👍 Ja", "payload": "/feedback_helpful"},
            {"content_type": "text", "title": "👎 Nein", "payload": "/feedback_not_helpful"},
        ],
    }
    for request in answered:
        assert request.params["access_token"] == MESSENGER_ENV["FB_PAGE_ACCESS_TOKEN"]
        assert request.body["recipient"] == {"id": user.psid}
        if request.message is not None:
            assert request.body["messaging_type"] == "RESPONSE"

    assert messages(user.taps_quick_reply("👍 Ja", "/feedback_helpful")) == [
        {"text": "Das freut mich! Fragen Sie gern weiter."}
    ]
    assert messages(user.taps_postback("Bist du ein Bot?", "/bot_challenge"))[0]["text"].startswith(
        "Ich bin ein Bot, kein Mensch."
    )
    assert fake_graph.rejected_for(user.psid) == []
    assert user.tracker()["latest_input_channel"] == "facebook"


def test_echoes_deliveries_and_reads_are_ignored_and_attachments_get_a_polite_text(
    user: MessengerUser, fake_graph: FakeGraph
):
    page_echo = {
        "sender": {"id": PAGE_ID},
        "recipient": {"id": user.psid},
        "timestamp": int(time.time() * 1000),
        "message": {"mid": user.mid(), "is_echo": True, "app_id": 1517776481860111, "text": "Hallo!"},
    }
    delivery = user.event(delivery={"mids": [page_echo["message"]["mid"]], "watermark": int(time.time() * 1000)})
    read = user.event(read={"watermark": int(time.time() * 1000)})
    assert user.post(user.envelope(page_echo, delivery, read)).status_code == 200
    time.sleep(3)
    assert fake_graph.requests_for(user.psid) == []

    photo = user.sends_attachment("image", "https://scontent.xx.fbcdn.net/v/t1.15752-9/router.jpg")
    assert [r.action for r in photo if r.action] == ["mark_seen", "typing_on", "typing_off"]
    [reply] = messages(photo)
    assert "Bilder, Sprachnachrichten und Dateien kann ich leider nicht lesen" in reply["text"]
    assert "I can't read pictures, voice messages or files" in reply["text"]  # language not known yet
    assert not [e for e in user.tracker().get("events") or [] if e["event"] == "user"]


def test_quick_replies_beyond_messengers_limits_are_trimmed(user: MessengerUser, fake_graph: FakeGraph):
    user.says("Hallo")
    buttons = [
        {"title": f"Frage Nummer {n} zu Ihrer Rechnung vom Mai", "payload": f'/choose_entry{{"entry_id": "q{n}"}}'}
        for n in range(1, 21)
    ]
    before = len(fake_graph.requests_for(user.psid))
    # A bot message with 20 long buttons, sent through Rasa's HTTP API to the customer's channel.
    reply = requests.post(
        f"{user.stack.rasa_url}/conversations/{user.psid}/tracker/events",
        params={"output_channel": "latest", "execute_side_effects": "true", "token": user.stack.rasa_token},
        json={"event": "bot", "text": "Welche Frage meinen Sie?", "data": {"buttons": buttons}},
        timeout=30,
    )
    assert reply.status_code == 200, reply.text
    [sent] = messages(fake_graph.wait_for(user.psid, lambda got: len(got) > before)[before:])

    quick = sent["quick_replies"]
    assert len(quick) == 13
    assert all(len(q["title"]) <= 20 for q in quick)
    assert quick[0]["title"] == "1. Frage Nummer 1 z…" and quick[12]["payload"] == '/choose_entry{"entry_id": "q13"}'
    assert sent["text"].startswith("Welche Frage meinen Sie?\n\n1. Frage Nummer 1 zu Ihrer Rechnung vom Mai\n")
    assert "13. Frage Nummer 13" in sent["text"] and "14. Frage" not in sent["text"]


def test_a_person_takes_over_and_long_agent_replies_are_split(
    user: MessengerUser, fake_graph: FakeGraph, online_agent: AgentConsole
):
    queued = messages(user.says("Ich möchte bitte mit einem Mitarbeiter sprechen"))
    assert queued[0]["text"].startswith("Ich verbinde Sie mit einem Mitarbeiter")
    assert queued[0]["quick_replies"] == [
        {"content_type": "text", "title": "Lieber Rückruf", "payload": "/request_callback"}
    ]
    conversation = escalation_id(user.stack, user.psid)

    before = len(messages(fake_graph.requests_for(user.psid)))
    online_agent.claim(conversation)
    got = fake_graph.wait_for(user.psid, lambda rs: len(messages(rs)) > before, timeout=60)
    assert messages(got)[before]["text"] == f"{online_agent.name} hat das Gespräch übernommen."

    paragraph = "Ich habe mir Ihren Vertrag und die letzte Rechnung genau angesehen. " * 12
    long_reply = "\n\n".join([paragraph.strip()] * 4)  # about 3300 characters, Messenger takes 2000
    before = len(messages(fake_graph.requests_for(user.psid)))
    online_agent.reply(conversation, long_reply)
    got = fake_graph.wait_for(user.psid, lambda rs: len(messages(rs)) >= before + 2, timeout=60)
    parts = [m["text"] for m in messages(got)[before:]]
    assert len(parts) == 2 and all(len(p) <= 2000 for p in parts)
    assert "\n\n".join(parts) == long_reply

    # While the agent has the conversation the bot stays silent: the message goes to the agent.
    assert messages(user.says("Danke, das hilft mir sehr")) == []

    before = len(messages(fake_graph.requests_for(user.psid)))
    online_agent.resolve(conversation)
    got = fake_graph.wait_for(user.psid, lambda rs: len(messages(rs)) > before, timeout=60)
    survey = messages(got)[before]
    assert survey["text"].startswith("Sie sprechen jetzt wieder mit dem digitalen Assistenten")
    assert [q["payload"] for q in survey["quick_replies"]] == [f'/satisfaction{{"score": {n}}}' for n in range(1, 6)]
    assert fake_graph.rejected_for(user.psid) == []


def test_a_waiting_messenger_customer_learns_that_nobody_is_on_duty_and_can_take_a_callback(
    user: MessengerUser, fake_graph: FakeGraph, online_agent: AgentConsole, open_for_handoffs: AgentConsole
):
    """Issue 20 on Messenger: the queue news reaches the customer through the Send API, the callback one tap away."""
    open_for_handoffs.post("/agent/presence", presence="offline")  # only our agent is on duty
    queued = messages(user.says("Ich möchte bitte mit einem Mitarbeiter sprechen"))
    assert queued[0]["text"].startswith("Ich verbinde Sie mit einem Mitarbeiter")

    before = len(messages(fake_graph.requests_for(user.psid)))
    online_agent.post("/agent/presence", presence="away")  # the last agent on duty steps away
    got = fake_graph.wait_for(user.psid, lambda rs: len(messages(rs)) > before, timeout=60)
    news = messages(got)[before]
    assert news["text"].startswith("Gerade ist leider niemand aus unserem Service-Team im Dienst"), news
    assert "Min." not in news["text"]  # no made-up wait
    assert {"content_type": "text", "title": "Lieber Rückruf", "payload": "/request_callback"} in news["quick_replies"]

    asked = messages(user.taps_quick_reply("Lieber Rückruf", "/request_callback"))
    assert any(m["text"].startswith("Unter welcher Telefonnummer") for m in asked), asked
    assert fake_graph.rejected_for(user.psid) == []
