"""Messenger webhooks: the signature check and which events the bot answers."""

from __future__ import annotations

import hashlib
import hmac
import json

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from bot.messenger_webhook import inbound_events, signature_valid
from core.vocabulary import MAX_TEXT_CHARS

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
    # Sanic hands over non-ASCII header bytes as lone surrogates (surrogateescape); this raised before.
    assert not signature_valid(SECRET, BODY, "sha256=\udcc3\udca4" + sign(BODY)[9:])
    assert not signature_valid("", BODY, sign(BODY, ""))


def event(**fields):
    return {"sender": {"id": "psid-1"}, "recipient": {"id": "page-1"}, "timestamp": 1700000000000, **fields}


def payload(*events):
    return {"object": "page", "entry": [{"id": "page-1", "time": 1, "messaging": list(events)}]}


def test_text_quick_reply_and_postback_become_customer_messages():
    found = inbound_events(
        payload(
            event(message={"mid": "m.1", "text": "Wo ist mein Paket?"}),
            event(message={"mid": "m.2", "text": "👍 Ja", "quick_reply": {"payload": "/feedback_helpful"}}),
            event(postback={"mid": "m.3", "title": "Los geht's", "payload": "/greet"}),
        )
    )
    assert [(e.sender_id, e.text, e.message_id) for e in found] == [
        ("psid-1", "Wo ist mein Paket?", "m.1"),
        ("psid-1", "/feedback_helpful", "m.2"),
        ("psid-1", "/greet", "m.3"),
    ]
    assert found[0].metadata == {"page_id": "page-1", "timestamp": 1700000000000}


def test_attachments_without_text_are_kept_with_their_urls():
    [found] = inbound_events(
        payload(
            event(
                message={
                    "mid": "m.4",
                    "attachments": [
                        {"type": "image", "payload": {"url": "https://cdn.example/photo.jpg"}},
                        {"type": "audio", "payload": {}},
                    ],
                }
            )
        )
    )
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
    body["entry"].append(
        {"id": "page-1", "time": 1, "standby": [event(message={"mid": "m.7", "text": "for the inbox"})]}
    )
    assert inbound_events(body) == []


# --- generated input: whatever arrives, a list of clean events or nothing, never an exception --------

FUZZ = settings(
    max_examples=300,
    deadline=None,
    derandomize=True,
    database=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
)
ANY_JSON = st.recursive(
    st.none()
    | st.booleans()
    | st.integers()
    | st.floats(allow_nan=False)
    | st.text(st.characters(exclude_categories=())),
    lambda children: st.lists(children, max_size=3) | st.dictionaries(st.text(max_size=6), children, max_size=3),
    max_leaves=12,
)
MAYBE = lambda strategy: st.one_of(strategy, ANY_JSON)  # noqa: E731 - the right shape, or anything
TEXT = st.text(st.characters(exclude_categories=()), max_size=50) | st.just("x" * 5000)
MESSENGER_EVENT = st.fixed_dictionaries(
    {"sender": MAYBE(st.fixed_dictionaries({"id": MAYBE(st.text(max_size=20))}))},
    optional={
        "recipient": MAYBE(st.fixed_dictionaries({"id": MAYBE(st.text(max_size=20))})),
        "timestamp": ANY_JSON,
        "message": MAYBE(
            st.fixed_dictionaries(
                {},
                optional={
                    "mid": ANY_JSON,
                    "text": MAYBE(TEXT),
                    "is_echo": ANY_JSON,
                    "quick_reply": MAYBE(st.fixed_dictionaries({"payload": MAYBE(TEXT)})),
                    "attachments": MAYBE(
                        st.lists(
                            MAYBE(
                                st.fixed_dictionaries(
                                    {"type": ANY_JSON, "payload": MAYBE(st.fixed_dictionaries({"url": ANY_JSON}))}
                                )
                            ),
                            max_size=3,
                        )
                    ),
                },
            )
        ),
        "postback": MAYBE(
            st.fixed_dictionaries({}, optional={"payload": MAYBE(TEXT), "title": ANY_JSON, "mid": ANY_JSON})
        ),
    },
)
MESSENGER_PAYLOAD = st.fixed_dictionaries(
    {
        "object": MAYBE(st.just("page")),
        "entry": MAYBE(
            st.lists(
                MAYBE(st.fixed_dictionaries({"messaging": MAYBE(st.lists(MESSENGER_EVENT, max_size=4))})), max_size=3
            )
        ),
    }
)


@FUZZ
@given(MESSENGER_PAYLOAD)
def test_any_payload_gives_clean_events_or_none(payload):
    for found in inbound_events(payload):
        assert isinstance(found.sender_id, str) and found.sender_id and len(found.sender_id) <= 255
        assert found.text is None or (isinstance(found.text, str) and found.text.strip())
        assert found.text is not None or found.attachments
        if found.text is not None:
            found.text.encode("utf-8")  # storable: no lone surrogates
            assert "\x00" not in found.text and len(found.text) <= MAX_TEXT_CHARS
        assert found.message_id is None or isinstance(found.message_id, str)
        assert all(isinstance(a, str) for a in found.attachments)
        json.dumps(found.metadata)


def test_an_oversized_text_is_cut_and_the_metadata_says_so():
    [found] = inbound_events(payload(event(message={"mid": "m.9", "text": "ä" * (MAX_TEXT_CHARS + 1)})))
    assert found.text == "ä" * MAX_TEXT_CHARS
    assert found.metadata["truncated_from"] == MAX_TEXT_CHARS + 1


def test_wrong_types_where_objects_belong_are_skipped():
    assert inbound_events({"object": "page", "entry": "x"}) == []
    assert inbound_events({"object": "page", "entry": [1, None, {"messaging": {"sender": "x"}}]}) == []
    assert inbound_events(payload({"sender": "psid", "message": {"text": "hi"}}, event(message="hi"))) == []
    [found] = inbound_events(payload(event(message={"mid": 5, "text": 42, "quick_reply": "x"})))
    assert (found.text, found.message_id) == ("42", "5")


@FUZZ
@given(
    body=st.binary(max_size=300),
    header=st.one_of(
        st.none(),
        st.text(st.characters(exclude_categories=()), max_size=80),
        st.text("0123456789abcdef\udce4", min_size=64, max_size=64).map("sha256=".__add__),
    ),
    secret=st.text(max_size=20),
)
def test_signature_check_never_raises_and_accepts_only_the_right_hmac(body, header, secret):
    right = sign(body, secret)[len("sha256=") :]
    expected = (
        bool(secret) and header is not None and header.startswith("sha256=") and header[7:].strip().lower() == right
    )
    assert signature_valid(secret, body, header) == expected
    if secret:
        assert signature_valid(secret, body, sign(body, secret))
