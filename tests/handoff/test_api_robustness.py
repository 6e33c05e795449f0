"""Bot API under bad input: wrong tokens, broken JSON, huge bodies, wrong types. Never a 500."""

from __future__ import annotations

import json

import pytest

from tests.handoff.support import API_TOKEN, escalation_body

ENDPOINTS = [
    ("post", "/api/escalations"),
    ("post", "/api/escalations/1/messages"),
    ("get", "/api/escalations/1"),
    ("post", "/api/escalations/1/cancel"),
    ("post", "/api/callbacks"),
    ("post", "/api/callbacks/CB-AAAAAA/cancel"),
    ("post", "/api/feedback"),
    ("post", "/api/satisfaction"),
    ("get", "/api/availability"),
]


@pytest.fixture
def backend():
    return "sqlite"


@pytest.mark.parametrize("method, path", ENDPOINTS)
@pytest.mark.parametrize("header", [None, "Bearer wrong", f"Basic {API_TOKEN}", "Bearer", f"bearer {API_TOKEN}x"])
def test_every_endpoint_needs_the_token(client, method, path, header):
    headers = {"Authorization": header} if header else {}
    response = getattr(client, method)(path, json={}, headers=headers)
    assert response.status_code == 401
    assert response.get_json()["error"]["code"] == "unauthorized"


@pytest.mark.parametrize(
    "raw",
    [b"", b"not json", b"{", b"[]", b"42", b"null", b'"text"', b"\xff\xfe", b'{"a": NaN'],
)
def test_broken_json_is_a_400(client, raw):
    response = client.post(
        "/api/escalations",
        data=raw,
        headers={"Authorization": f"Bearer {API_TOKEN}", "Content-Type": "application/json"},
    )
    assert response.status_code == 400
    assert response.get_json()["error"]["code"] == "invalid_json"


def test_oversized_body_is_a_413(api):
    body = escalation_body("big", question="x" * 300_000)
    response = api.post("/escalations", body)
    assert response.status_code == 413
    assert response.get_json()["error"]["code"] == "payload_too_large"


def test_long_text_is_a_422_naming_the_limit(api):
    response = api.post("/escalations", escalation_body("long", question="x" * 4001))
    assert response.status_code == 422
    assert "at most 4000" in response.get_json()["error"]["message"]


def test_unknown_route_and_method_are_json(api, client):
    missing = api.get("/nothing-here")
    assert missing.status_code == 404 and missing.get_json()["error"]["code"] == "not_found"
    wrong = client.delete("/api/escalations", headers=api.headers)
    assert wrong.status_code == 405 and wrong.get_json()["error"]["code"] == "method_not_allowed"


WEIRD_VALUES = [
    None,
    0,
    -1,
    1.5,
    True,
    "",
    " ",
    "x" * 5000,
    [],
    {},
    ["a"],
    {"a": 1},
    "<script>alert(1)</script>",
    float("inf") if False else 1e308,
    "\u0000",
    "😀",
]


@pytest.mark.parametrize(
    "path, base",
    [
        ("/escalations", lambda: escalation_body("fuzz")),
        (
            "/callbacks",
            lambda: {
                "idempotency_key": "f",
                "sender_id": "s",
                "channel": "c",
                "language": "de",
                "contact_method": "phone",
                "contact": "+4930123456",
                "window_start": "2030-01-01T10:00:00+01:00",
                "window_end": "2030-01-01T12:00:00+01:00",
                "consent": True,
            },
        ),
        (
            "/feedback",
            lambda: {
                "idempotency_key": "f",
                "sender_id": "s",
                "channel": "c",
                "language": "en",
                "entry_id": "e",
                "helpful": True,
                "question": "q",
            },
        ),
        ("/satisfaction", lambda: {"idempotency_key": "f", "conversation_id": 1, "score": 3}),
        ("/escalations/1/messages", lambda: {"idempotency_key": "f", "text": "t", "timestamp": 1}),
        ("/escalations/1/cancel", lambda: {"reason": "customer_left"}),
    ],
)
def test_no_field_value_causes_a_server_error(api, path, base):
    fields = list(base().keys())
    for field in fields:
        for value in WEIRD_VALUES:
            body = base()
            body[field] = value
            body["idempotency_key"] = (
                body.get("idempotency_key") if field == "idempotency_key" else f"fuzz-{field}-{json.dumps(value)[:40]}"
            )
            response = api.post(path, body)
            assert response.status_code < 500, (field, value, response.get_json())
            assert response.is_json, (field, value)
    transcript_items = [
        None,
        1,
        "x",
        [],
        {"role": "user", "text": "t", "timestamp": "yesterday"},
        {"role": "bot", "text": "t", "kb": {"band": 1, "candidates": [{"entry_id": None}]}},
        {"role": "bot", "text": "t", "kb": {"candidates": "x"}},
        {"role": "bot", "text": "t", "kb": {"candidates": [{"entry_id": "e", "confidence": "high"}]}},
    ]
    if path == "/escalations":
        for item in transcript_items:
            body = base()
            body["idempotency_key"] = f"fuzz-transcript-{json.dumps(item)}"
            body["transcript"] = [item]
            response = api.post(path, body)
            assert response.status_code == 422, (item, response.get_json())
