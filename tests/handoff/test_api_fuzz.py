"""The bot API under generated input: schemathesis reads docs/handoff-api.yaml and hypothesis makes
valid and invalid requests for every operation, sent in-process through WSGI. Never a 5xx, answers
as documented, errors as JSON with a message, and a rejected request writes nothing."""

from __future__ import annotations

import copy
import functools
import json
from pathlib import Path

import pytest
import schemathesis
from hypothesis import HealthCheck, Phase, given, settings
from schemathesis import GenerationMode
from schemathesis.checks import positive_data_acceptance
from sqlalchemy import func, select

from handoff.models.base import Base
from tests.handoff.support import API_TOKEN, escalation_body

DOC = Path(__file__).resolve().parents[2] / "docs" / "handoff-api.yaml"
AUTH = {"Authorization": f"Bearer {API_TOKEN}"}
# Bounded and deterministic: the same examples on every run, in CI too.
FUZZ = settings(
    max_examples=40,
    deadline=None,
    derandomize=True,
    database=None,
    print_blob=True,
    phases=[Phase.explicit, Phase.generate],  # no shrinking: a failure reports its curl command as found
    suppress_health_check=[
        HealthCheck.too_slow,
        HealthCheck.filter_too_much,
        HealthCheck.data_too_large,
        HealthCheck.function_scoped_fixture,
    ],
)
# What JSON Schema cannot say about a callback: the window lies ahead, the number can exist, the
# conversation is a stored one. A schema-valid request may fail only on these.
CALLBACK_SEMANTIC_FIELDS = {"contact", "window_start", "window_end", "conversation_id"}


@functools.cache
def _spec() -> dict:
    import yaml

    return yaml.safe_load(DOC.read_text())


def api_schema(app):
    """The OpenAPI document, its requests sent to ``app`` in-process (WSGI)."""
    schema = schemathesis.openapi.from_dict(copy.deepcopy(_spec()))
    schema.app = app
    return schema


def operations(bot: bool) -> list[str]:
    return [
        f"{method.upper()} {path}"
        for path, item in _spec()["paths"].items()
        for method, op in item.items()
        if (op.get("security") != []) == bot
    ]


@pytest.fixture
def backend():
    return "sqlite"


def row_counts(state) -> dict[str, int]:
    with state.session_factory() as session:
        return {t.name: session.scalar(select(func.count()).select_from(t)) for t in Base.metadata.sorted_tables}


def content_type(response) -> str:
    """Flask's and schemathesis' responses spell headers differently (a string, a list per lower-cased name)."""
    value = response.headers.get("Content-Type") or response.headers.get("content-type") or ""
    return value[0] if isinstance(value, list) else value


def assert_json_error(response, what) -> None:
    assert content_type(response).startswith("application/json"), (what, response.text[:300])
    error = json.loads(response.text)["error"]
    assert isinstance(error["code"], str) and error["code"], what
    assert isinstance(error["message"], str) and len(error["message"]) > 5, what


@pytest.mark.parametrize("mode", [GenerationMode.POSITIVE, GenerationMode.NEGATIVE], ids=lambda m: m.value)
@pytest.mark.parametrize("label", operations(bot=True))
def test_bot_api_answers_generated_requests_as_documented(app, state, open_hours, label, mode):
    operation = api_schema(app).find_operation_by_label(label)
    excluded = [positive_data_acceptance] if label == "POST /callbacks" else []

    @FUZZ
    @given(case=operation.as_strategy(generation_mode=mode, headers=AUTH))
    def check(case):
        before = row_counts(state)
        response = case.call()
        what = (label, mode.value, case.as_curl_command())
        assert response.status_code < 500, (what, response.status_code, response.text[:500])
        if response.status_code >= 400:
            assert_json_error(response, what)
            assert row_counts(state) == before, ("a rejected request wrote rows", what)
        if label == "POST /callbacks" and mode is GenerationMode.POSITIVE and response.status_code == 422:
            fields = {d["field"] for d in json.loads(response.text)["error"]["details"]}
            assert fields <= CALLBACK_SEMANTIC_FIELDS, (what, response.text)
        case.validate_response(response, excluded_checks=excluded)

    check()


@pytest.mark.parametrize("label", operations(bot=False))
def test_admin_operations_refuse_generated_requests_without_a_session(app, state, label):
    operation = api_schema(app).find_operation_by_label(label)
    method, path = label.split(" ", 1)
    spec = _spec()["paths"][path][method.lower()]
    # Invalid input where there is some to make invalid; otherwise valid requests, still without a session.
    mode = GenerationMode.NEGATIVE if spec.get("parameters") or spec.get("requestBody") else GenerationMode.POSITIVE

    @FUZZ
    @given(case=operation.as_strategy(generation_mode=mode))
    def check(case):
        before = row_counts(state)
        response = case.call()
        what = (label, case.as_curl_command())
        assert response.status_code in (401, 404, 405), (what, response.status_code, response.text[:300])
        assert_json_error(response, what)
        assert row_counts(state) == before, what

    check()


# --- targeted bad input, each followed by "nothing was written" ------------------------------------

POST_PATHS = [
    "/escalations",
    "/escalations/1/messages",
    "/escalations/1/cancel",
    "/callbacks",
    "/feedback",
    "/satisfaction",
    "/events",
]


@pytest.fixture
def conversation(api, state):
    """Conversation 1 exists (so per-conversation routes get past the lookup)."""
    body = api.escalate()
    assert body["conversation_id"] == 1
    return body


def post_raw(client, path: str, data: bytes, content_type: str | None = "application/json"):
    headers = dict(AUTH)
    if content_type is not None:
        headers["Content-Type"] = content_type
    return client.post(f"/api{path}", data=data, headers=headers)


MALFORMED = [
    b"",
    b"{",
    b'{"a": 1,}',
    b"{'single': 'quotes'}",
    b"[]",
    b"[{}]",
    b"null",
    b"true",
    b"3.5",
    b'"a string"',
    b"\xff\xfe\x00{",
    b"\xef\xbb\xbf{}x",
    b'{"a": "\xc3\x28"}',
    b"{\x00}",
    b'{"a": 1}{"b": 2}',
    b"[" * 5000 + b"]" * 5000,
    b'{"a":' * 3000 + b"1" + b"}" * 3000,  # deeper than the decoder recurses
]
NOT_JSON_TYPES = [
    None,
    "text/plain",
    "application/x-www-form-urlencoded",
    "multipart/form-data; boundary=x",
    "application/json; charset=latin-1",
]


@pytest.mark.parametrize("path", POST_PATHS)
def test_malformed_json_is_a_400_that_writes_nothing(client, state, conversation, path):
    before = row_counts(state)
    for raw in MALFORMED:
        response = post_raw(client, path, raw)
        assert response.status_code == 400, (
            path,
            raw[:40],
            response.status_code,
            response.get_data(as_text=True)[:300],
        )
        assert response.get_json()["error"]["code"] == "invalid_json"
    for content_type in NOT_JSON_TYPES:
        response = post_raw(client, path, b"text=hello&sender=x", content_type)
        assert response.status_code == 400, (content_type, response.get_data(as_text=True)[:300])
        assert response.get_json()["error"]["code"] == "invalid_json"
    assert row_counts(state) == before


@pytest.mark.parametrize("path", POST_PATHS)
def test_a_body_over_the_limit_is_a_413_with_json(client, state, settings, conversation, path):
    before = row_counts(state)
    body = json.dumps({"idempotency_key": "big", "text": "x" * settings.max_body_bytes}).encode()
    response = post_raw(client, path, body)
    assert response.status_code == 413
    error = response.get_json()["error"]
    assert error["code"] == "payload_too_large" and str(settings.max_body_bytes) in error["message"]
    assert row_counts(state) == before


def test_a_body_just_under_the_limit_is_read(api, settings):
    filler = "x" * (settings.max_body_bytes - 2000)
    response = api.post("/escalations", escalation_body("near-limit", padding=filler))
    assert response.status_code == 201, response.get_json()


BOTH_DATABASES = pytest.mark.parametrize(
    "backend",
    ["sqlite", pytest.param("postgresql", marks=pytest.mark.postgresql)],
    indirect=False,
)
ODD_TEXT = {
    "controls": "\x01\x07\x1b[31mred\x7f",
    "rtl-marks": "\u202eevil\u202c \u200fשלום\u200e",
    "zero-width": "a\u200b\u200c\u200d\ufeffb",
    "emoji": "👩‍👩‍👧‍👦🏳️‍🌈 🇩🇪 ✅" * 10,
    "combining": "Z\u0351\u036b\u0343\u036a\u0302\u036b\u033d\u034f\u0334\u0319\u0324\u031e" * 20,
    "astral": "𝔘𝔫𝔦𝔠𝔬𝔡𝔢 𐍈 \U0010fffd",
    "umlauts-nfd": "Lieferadresse a\u0308ndern",
    "long-10k": "ä" * 10_000,
    "html": "<script>alert(1)</script><img src=x onerror=alert(1)>",
    "sql": "'; DROP TABLE conversations; --",
}


@BOTH_DATABASES
def test_odd_unicode_in_text_fields_is_stored_as_sent_or_refused_clearly(api, state, settings):
    from handoff.models import Message

    for name, text in ODD_TEXT.items():
        body = escalation_body(f"odd-{name}", question=text, sender_id=f"odd-{name}", customer={"name": text[:200]})
        body["transcript"][0]["text"] = text
        before = row_counts(state)
        response = api.post("/escalations", body)
        if len(text) > settings.max_text_chars:
            assert response.status_code == 422, name
            assert f"at most {settings.max_text_chars}" in response.get_json()["error"]["message"]
            assert row_counts(state) == before
            continue
        assert response.status_code == 201, (name, response.get_json())
        conversation_id = response.get_json()["conversation_id"]
        with state.session_factory() as session:
            stored = session.scalars(select(Message.content).where(Message.conversation_id == conversation_id)).all()
        assert text in stored, name


@BOTH_DATABASES
@pytest.mark.parametrize(
    "path, body",
    [
        ("/escalations", lambda text: escalation_body("surrogate", question=text)),
        (
            "/events",
            lambda text: {
                "idempotency_key": "s",
                "sender_id": "s",
                "channel": "rest",
                "language": "en",
                "type": "kb_decline",
                "question": text,
            },
        ),
        (
            "/feedback",
            lambda text: {
                "idempotency_key": "s",
                "sender_id": "s",
                "channel": "rest",
                "language": "en",
                "entry_id": "e",
                "helpful": False,
                "question": text,
            },
        ),
        ("/escalations/1/messages", lambda text: {"idempotency_key": "s", "text": text}),
        (
            "/callbacks",
            lambda text: {
                "idempotency_key": text,
                "sender_id": "s",
                "channel": "rest",
                "language": "en",
                "contact_method": "email",
                "contact": "a@example.com",
                "consent": True,
                "window_start": "2099-01-01T10:00:00+01:00",
                "window_end": "2099-01-01T12:00:00+01:00",
            },
        ),
    ],
)
def test_nul_and_lone_surrogates_in_json_escapes_are_a_422_naming_the_field(client, state, conversation, path, body):
    before = row_counts(state)
    for escape in ["\\u0000", "x\\u0000y", "\\ud800", "\\udfff", "\\udc00x\\ud83d", "a\\ud83d\\u0041"]:
        raw = json.dumps(body("__TEXT__")).replace("__TEXT__", escape).encode()
        response = post_raw(client, path, raw)
        assert response.status_code == 422, (path, escape, response.get_data(as_text=True)[:300])
        error = response.get_json()["error"]
        assert error["code"] == "validation_error"
        assert ("NUL" if "0000" in escape else "surrogate") in error["message"], (escape, error)
    assert row_counts(state) == before


@pytest.mark.parametrize(
    "path, fields",
    [
        ("/escalations", ["idempotency_key", "sender_id", "channel", "language", "reason", "question"]),
        (
            "/callbacks",
            [
                "idempotency_key",
                "sender_id",
                "channel",
                "language",
                "contact_method",
                "contact",
                "window_start",
                "window_end",
                "consent",
            ],
        ),
        ("/feedback", ["idempotency_key", "sender_id", "channel", "language", "entry_id", "helpful"]),
        ("/satisfaction", ["idempotency_key", "conversation_id", "score"]),
        ("/events", ["idempotency_key", "sender_id", "channel", "language", "type", "question"]),
        ("/escalations/1/messages", ["idempotency_key", "text"]),
        ("/escalations/1/cancel", ["reason"]),
    ],
)
def test_an_empty_object_is_a_422_naming_every_missing_field(api, state, conversation, path, fields):
    before = row_counts(state)
    response = api.post(path, {"unexpected": "extra field", "nested": {"x": [1, 2, 3]}})
    assert response.status_code == 422
    named = {d["field"] for d in response.get_json()["error"]["details"]}
    assert set(fields) <= named, (path, named)
    assert row_counts(state) == before


def test_extra_fields_are_ignored(api):
    response = api.post("/escalations", escalation_body("extra", admin=True, status="resolved", id=999))
    assert response.status_code == 201
    assert response.get_json()["status"] == "pending" and response.get_json()["conversation_id"] != 999


@BOTH_DATABASES
def test_conversation_ids_beyond_any_stored_one_are_a_404(client, state):
    before = row_counts(state)
    for conversation_id in ["0", "2147483648", "9" * 40]:
        for method, suffix, body in [
            ("get", "", None),
            ("post", "/messages", {"idempotency_key": "k", "text": "hi"}),
            ("post", "/cancel", {"reason": "customer_left"}),
        ]:
            response = getattr(client, method)(f"/api/escalations/{conversation_id}{suffix}", json=body, headers=AUTH)
            assert response.status_code == 404, (conversation_id, suffix, response.get_data(as_text=True)[:300])
            assert response.get_json()["error"]["code"] == "not_found"
    assert row_counts(state) == before
