"""Bad input at the running Rasa server's channels: the REST webhook and the Messenger webhook answer
malformed, oversized, oddly encoded or wrongly signed requests with a 4xx (or the 200 Messenger needs
for events there is nothing to do with), never a 5xx; nothing bogus reaches a tracker; and a good
message is still answered afterwards."""

from __future__ import annotations

import json
import time
import uuid
from typing import Any, Dict, List

import pytest
import requests

from core.vocabulary import MAX_TEXT_CHARS
from scripts.stack import Stack
from tests.e2e.fake_graph import FakeGraph
from tests.e2e.test_messenger import MessengerUser, sign, typing_offs

pytestmark = pytest.mark.e2e


def tracker(stack: Stack, sender: str) -> Dict[str, Any]:
    reply = requests.get(
        f"{stack.rasa_url}/conversations/{sender}/tracker", params={"token": stack.rasa_token}, timeout=30
    )
    assert reply.status_code == 200, reply.text[:300]
    return reply.json()


def user_texts(stack: Stack, sender: str) -> List[str]:
    return [e.get("text") for e in tracker(stack, sender).get("events") or [] if e["event"] == "user"]


def rest_post(stack: Stack, data: bytes, content_type: str = "application/json") -> requests.Response:
    return requests.post(
        f"{stack.rasa_url}/webhooks/rest/webhook", data=data, headers={"Content-Type": content_type}, timeout=60
    )


def test_rest_webhook_refuses_bad_bodies_with_json_4xx_and_stores_nothing(channels_stack: Stack):
    sender = f"fuzz-{uuid.uuid4().hex[:8]}"
    default_before = user_texts(channels_stack, "default")
    bad: List[bytes] = [
        b"",
        b"{",
        b"not json at all",
        b"\xff\xfe\xfd",
        b"[]",
        b'[{"sender": "%s", "message": "hi"}]' % sender.encode(),
        b"null",
        b"42",
        b'"text"',
        b"[" * 50_000 + b"]" * 50_000,
        b'{"message": "Wo ist mein Paket?"}',  # no sender: the built-in channel wrote to "default"
        json.dumps({"sender": "", "message": "hi"}).encode(),
        json.dumps({"sender": 12345, "message": "hi"}).encode(),
        json.dumps({"sender": "x" * 300, "message": "hi"}).encode(),
        b'{"sender": "a\\u0000b", "message": "hi"}',
        b'{"sender": "\\ud800", "message": "hi"}',
        json.dumps({"sender": sender}).encode(),
        json.dumps({"sender": sender, "message": None}).encode(),
        json.dumps({"sender": sender, "message": {"text": "hi"}}).encode(),
        json.dumps({"sender": sender, "message": ["hi"]}).encode(),
        json.dumps({"sender": sender, "message": "   \n\t "}).encode(),
        json.dumps({"sender": sender, "message": "\u0000\u0001\u001b"}).encode(),
        json.dumps({"sender": sender, "message": "x" * (MAX_TEXT_CHARS + 1)}).encode(),
        json.dumps({"sender": sender, "message": "ä" * 200_000}).encode(),  # 400 KB
        json.dumps({"sender": sender, "message": "hi", "metadata": "not an object"}).encode(),
    ]
    for body in bad:
        reply = rest_post(channels_stack, body)
        assert 400 <= reply.status_code < 500, (body[:80], reply.status_code, reply.text[:300])
        error = reply.json()["error"]
        assert error["code"] and len(error["message"]) > 10, (body[:80], error)
    reply = rest_post(channels_stack, json.dumps({"sender": sender, "message": "hi"}).encode(), "text/plain")
    assert reply.status_code == 200  # the content type is not checked, as in Rasa's channel: the body is

    assert user_texts(channels_stack, "default") == default_before
    assert user_texts(channels_stack, sender) == ["hi"]  # only the one good request
    answered = rest_post(
        channels_stack, json.dumps({"sender": sender, "message": "Wie ändere ich meine Lieferadresse?"}).encode()
    )
    assert answered.status_code == 200 and answered.json(), answered.text[:300]


def test_rest_webhook_stores_odd_but_valid_text_cleaned(channels_stack: Stack):
    sender = f"fuzz-{uuid.uuid4().hex[:8]}"
    odd = (
        "\u202eRTL\u200f \u05e9\u05dc\u05d5\u05dd 👩‍👩‍👧‍👦 🇩🇪 Z\u0351\u036b\u0343 a\u0308 <script>x</script> "
        "'; DROP TABLE events; --"
    )
    raw = (
        json.dumps({"sender": sender, "message": "__ODD__"})
        .replace("__ODD__", json.dumps(odd)[1:-1] + "\\u0000\\u0007\\ud800 end")
        .encode()
    )
    reply = rest_post(channels_stack, raw)
    assert reply.status_code == 200, reply.text[:300]
    assert isinstance(reply.json(), list)
    [stored] = user_texts(channels_stack, sender)
    assert stored == odd + "? end"  # controls dropped, the lone surrogate replaced, the rest kept as sent
    exactly = "y" * MAX_TEXT_CHARS
    assert rest_post(channels_stack, json.dumps({"sender": sender, "message": exactly}).encode()).status_code == 200
    assert user_texts(channels_stack, sender)[-1] == exactly


def test_messenger_webhook_answers_bad_deliveries_without_a_5xx_or_a_trace(
    channels_stack: Stack, fake_graph: FakeGraph
):
    user = MessengerUser(channels_stack, fake_graph)
    other = MessengerUser(channels_stack, fake_graph)

    def signed(raw: bytes) -> requests.Response:
        return user.post({}, raw=raw)

    # Before the signature is even checked: too large. Then: unsigned, wrong or mangled signatures.
    huge = json.dumps(user.envelope(user.event(message={"mid": user.mid(), "text": "x" * 1_100_000}))).encode()
    assert signed(huge).status_code == 413
    good = json.dumps(user.envelope(user.event(message={"mid": user.mid(), "text": "Hallo"}))).encode()
    for signature in [
        None,
        "",
        "sha256=",
        "sha256=zz",
        "sha256=" + "0" * 64,
        "SHA256=" + sign(good)[7:],
        sign(good)[:-1],
        sign(good) + "0",
        "sha1=" + sign(good)[7:47],
        "sha256=\u00e4\u00f6\u00fc",
        sign(good, "wrong-secret"),
        sign(b" " + good),
    ]:
        reply = user.post({}, signature=signature, raw=good)
        assert reply.status_code == 403, (signature, reply.status_code, reply.text[:200])

    # Signed, but not JSON or not a page event.
    for raw, status in [
        (b"", 400),
        (b"{", 400),
        (b"\xff\xfe", 400),
        (b"[" * 50_000 + b"]" * 50_000, 400),
        (b"[]", 404),
        (b"null", 404),
        (b'{"object": "user"}', 404),
        (b'{"entry": []}', 404),
    ]:
        reply = signed(raw)
        assert reply.status_code == status, (raw[:40], reply.status_code, reply.text[:200])

    # Signed page events of the wrong shape: Messenger needs a 200 (it would retry and finally
    # disable the webhook), and the bot must do nothing with them.
    odd_shapes: List[Any] = [
        {"object": "page", "entry": "x"},
        {"object": "page", "entry": [1, None, "x", {"messaging": "x"}, {"messaging": [1, None, []]}]},
        {
            "object": "page",
            "entry": [
                {
                    "messaging": [
                        {"sender": user.psid, "message": {"text": "sender is no object"}},
                        {"sender": {"id": None}, "message": {"text": "no sender id"}},
                        {"sender": {"id": ""}, "message": {"text": "empty sender id"}},
                        {"sender": {"id": user.psid}, "message": "a string"},
                        {"sender": {"id": user.psid}, "message": {"text": None, "attachments": "x"}},
                        {"sender": {"id": user.psid}, "message": {"text": ["list"], "quick_reply": "x"}},
                        {"sender": {"id": user.psid}, "message": {"text": " \u0000\u0001 "}},
                        {"sender": {"id": user.psid}, "message": {"text": "our own echo", "is_echo": True}},
                        {"sender": {"id": user.psid}, "postback": {"payload": None, "title": None}},
                        {"sender": {"id": user.psid}, "delivery": {"mids": ["m"], "watermark": "x"}},
                        {"sender": {"id": user.psid}, "read": {"watermark": 1}},
                    ]
                }
            ],
        },
        {"object": "page", "entry": [{"standby": [user.event(message={"mid": user.mid(), "text": "someone else's"})]}]},
    ]
    for payload in odd_shapes:
        reply = signed(json.dumps(payload).encode())
        assert reply.status_code == 200, (payload, reply.status_code, reply.text[:200])

    # One oversized text from another user: accepted, cut to the limit, answered.
    assert (
        other.post(
            other.envelope(other.event(message={"mid": other.mid(), "text": "ü" * (MAX_TEXT_CHARS + 500)}))
        ).status_code
        == 200
    )
    fake_graph.wait_for(other.psid, lambda got: typing_offs(got) >= 1)
    [stored] = [e for e in other.tracker()["events"] if e["event"] == "user"]
    assert stored["text"] == "ü" * MAX_TEXT_CHARS
    assert stored["metadata"]["truncated_from"] == MAX_TEXT_CHARS + 500

    time.sleep(2)  # time enough for the bot to have answered, had it processed any of the above
    assert fake_graph.requests_for(user.psid) == []
    assert not [e for e in user.tracker().get("events") or [] if e["event"] == "user"]

    # And the webhook still works: a good signed message is answered.
    answered = user.says("Wie ändere ich meine Lieferadresse?")
    assert any(r.message for r in answered), [r.body for r in answered]
