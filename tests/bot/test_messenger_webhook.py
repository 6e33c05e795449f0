"""Messenger webhooks: the signature check and which events the bot answers."""
from __future__ import annotations

import hashlib
import hmac

from bot.messenger_webhook import inbound_events, signature_valid

SECRET = "app-secret"
BODY = b'{"object":"page","entry":[]}'


def sign(body: bytes, secret: str = SECRET) -> str:
    return "sha256=" + hmac.new(secret.encode(), body, hashlib.sha256).hexdigest()


def test_signature_of_the_raw_body_with_the_app_secret_is_accepted():
    assert signature_valid(SECRET, BODY, sign(BODY))
    assert signature_valid(SECRET, BODY, sign(BODY).upper().replace("SHA256=", "sha256="))


def test_missing_wrong_or_legacy_signatures_are_refused():
    assert not signature_valid(SECRET, BODY, None)
    assert not signature_valid(SECRET, BODY, "")
    assert not signature_valid(SECRET, BODY, sign(BODY, "other-secret"))
    assert not signature_valid(SECRET, BODY + b" ", sign(BODY))
    sha1 = "sha1=" + hmac.new(SECRET.encode(), BODY, hashlib.sha1).hexdigest()
    assert not signature_valid(SECRET, BODY, sha1)
    assert not signature_valid("", BODY, sign(BODY, ""))


def event(**fields):
    return {"sender": {"id": "psid-1"}, "recipient": {"id": "page-1"}, "timestamp": 1700000000000, **fields}


def payload(*events):
    return {"object": "page", "entry": [{"id": "page-1", "time": 1, "messaging": list(events)}]}


def test_text_quick_reply_and_postback_become_customer_messages():
    found = inbound_events(payload(
        event(message={"mid": "m.1", "text": "Wo ist mein Paket?"}),
        event(message={"mid": "m.2", "text": "👍 Ja", "quick_reply": {"payload": "/feedback_helpful"}}),
        event(postback={"mid": "m.3", "title": "Los geht's", "payload": "/greet"}),
    ))
    assert [(e.sender_id, e.text, e.message_id) for e in found] == [
        ("psid-1", "Wo ist mein Paket?", "m.1"), ("psid-1", "/feedback_helpful", "m.2"), ("psid-1", "/greet", "m.3"),
    ]
    assert found[0].metadata == {"page_id": "page-1", "timestamp": 1700000000000}


def test_attachments_without_text_are_kept_with_their_urls():
    [found] = inbound_events(payload(event(message={"mid": "m.4", "attachments": [
        {"type": "image", "payload": {"url": "https://cdn.example/photo.jpg"}}, {"type": "audio", "payload": {}},
    ]})))
    assert found.text is None
    assert found.attachments == ("image: https://cdn.example/photo.jpg", "audio")


def test_echoes_deliveries_reads_reactions_and_standby_events_are_ignored():
    body = payload(
        event(message={"mid": "m.5", "text": "our own reply", "is_echo": True, "app_id": 1}),
        event(delivery={"mids": ["m.5"], "watermark": 1}),
        event(read={"watermark": 1}),
        event(reaction={"reaction": "like", "action": "react", "mid": "m.5"}),
        event(message={"mid": "m.6"}),
    )
    body["entry"].append({"id": "page-1", "time": 1, "standby": [event(message={"mid": "m.7", "text": "for the inbox"})]})
    assert inbound_events(body) == []
