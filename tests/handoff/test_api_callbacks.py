"""Bot API: callback requests (validation, idempotency, cancel) on SQLite and PostgreSQL."""

from __future__ import annotations

import re
from datetime import datetime, timedelta, timezone

import pytest

from handoff.models import CallbackRequest, Contact


def window(hours_from_now: float = 2, length_hours: float = 2, offset_hours: int = 2) -> tuple[str, str]:
    zone = timezone(timedelta(hours=offset_hours))
    start = datetime.now(zone).replace(microsecond=0) + timedelta(hours=hours_from_now)
    return start.isoformat(), (start + timedelta(hours=length_hours)).isoformat()


def callback_body(key: str = "cb-1", **overrides) -> dict:
    start, end = window()
    body = {
        "idempotency_key": key,
        "sender_id": "customer-7",
        "channel": "facebook",
        "language": "de",
        "contact_method": "phone",
        "contact": "+4930123456789",
        "window_start": start,
        "window_end": end,
        "consent": True,
        "conversation_id": None,
        "transcript": [{"role": "user", "text": "Rückruf bitte", "timestamp": 1700000000, "kb": None}],
    }
    body.update(overrides)
    return body


def test_callback_is_stored_with_a_reference(api, session):
    response = api.post("/callbacks", callback_body())
    assert response.status_code == 201
    body = response.get_json()
    assert re.fullmatch(r"CB-[A-HJ-NP-Z2-9]{6}", body["reference"])
    callback = session.get(CallbackRequest, body["callback_id"])
    assert callback.status == "pending" and callback.contact_value == "+4930123456789"
    assert callback.window_tz == "+02:00"
    assert callback.window_start.tzinfo is not None
    assert callback.transcript[0]["text"] == "Rückruf bitte"
    assert callback.contact.phone == "+4930123456789"
    assert [event.kind for event in callback.events] == ["requested"]


def test_callback_replay_returns_the_same_reference(api, session):
    first = api.post("/callbacks", callback_body("same"))
    again = api.post("/callbacks", callback_body("same"))
    assert again.status_code == 200 and again.get_json() == first.get_json()
    assert session.query(CallbackRequest).count() == 1


def test_callback_linked_to_a_conversation(api, session, open_hours):
    conversation_id = api.escalate()["conversation_id"]
    body = api.post("/callbacks", callback_body(conversation_id=conversation_id, transcript=None)).get_json()
    assert session.get(CallbackRequest, body["callback_id"]).conversation_id == conversation_id


def test_email_callbacks_are_normalised(api, session):
    body = api.post("/callbacks", callback_body(contact_method="email", contact="Erika@Example.COM")).get_json()
    callback = session.get(CallbackRequest, body["callback_id"])
    assert callback.contact_value == "Erika@example.com"
    assert session.get(Contact, callback.contact_id).email == "Erika@example.com"


@pytest.mark.parametrize(
    "overrides, field",
    [
        ({"consent": False}, "consent"),
        ({"consent": "yes"}, "consent"),
        ({"contact": "030 123456"}, "contact"),
        ({"contact": "+49"}, "contact"),
        ({"contact_method": "email", "contact": "not-an-address"}, "contact"),
        ({"contact_method": "email", "contact": "<script>@x.de"}, "contact"),
        ({"contact_method": "fax"}, "contact_method"),
        ({"window_start": "2030-01-01T10:00:00"}, "window_start"),
        ({"window_start": "tomorrow"}, "window_start"),
        ({"window_end": window(hours_from_now=-5, length_hours=1)[1]}, "window_end"),
        ({"window_start": window(hours_from_now=3)[0], "window_end": window(hours_from_now=1)[0]}, "window_end"),
        ({"window_end": window(length_hours=24 * 20)[1]}, "window_end"),
        ({"language": "fr"}, "language"),
        ({"conversation_id": 12345}, "conversation_id"),
        ({"conversation_id": "7"}, "conversation_id"),
        ({"transcript": [{"role": "user"}]}, "transcript[0].text"),
    ],
)
def test_bad_callbacks_are_rejected_with_the_field_named(api, session, overrides, field):
    response = api.post("/callbacks", callback_body(**overrides))
    assert response.status_code == 422, response.get_json()
    error = response.get_json()["error"]
    assert error["code"] == "validation_error"
    assert field in [detail["field"] for detail in error["details"]]
    assert session.query(CallbackRequest).count() == 0


def test_customer_can_cancel_by_reference(api, session):
    reference = api.post("/callbacks", callback_body()).get_json()["reference"]
    response = api.post(f"/callbacks/{reference}/cancel", {})
    assert response.status_code == 200
    assert response.get_json()["status"] == "cancelled" and response.get_json()["changed"] is True
    again = api.post(f"/callbacks/{reference.lower()}/cancel")
    assert again.status_code == 200 and again.get_json()["changed"] is False
    assert api.get(f"/callbacks/{reference}").get_json()["status"] == "cancelled"


def test_cancelling_an_unknown_reference_is_404(api):
    response = api.post("/callbacks/CB-NOPE99/cancel", {})
    assert response.status_code == 404
    assert response.get_json()["error"]["code"] == "not_found"


def test_open_callbacks_per_contact_are_capped(api, session):
    """Unverified numbers cost agents calls: at most 3 open requests per number and per customer."""
    references = [
        api.post("/callbacks", callback_body(f"cap-{i}", sender_id=f"web-{i}")).get_json()["reference"]
        for i in range(3)
    ]
    over = api.post("/callbacks", callback_body("cap-3", sender_id="web-new"))  # same number, another chat
    assert over.status_code == 429
    error = over.get_json()["error"]
    assert error["code"] == "too_many_callbacks" and error["details"][0]["references"] == references
    same_chat = api.post("/callbacks", callback_body("cap-4", sender_id="web-0", contact="+4940111222"))
    assert same_chat.status_code == 201  # web-0 has one open request: a new number from that chat is fine
    other = api.post("/callbacks", callback_body("cap-5", sender_id="web-9", contact="+4940333444"))
    assert other.status_code == 201
    assert api.post(f"/callbacks/{references[0]}/cancel", {}).status_code == 200
    assert api.post("/callbacks", callback_body("cap-6", sender_id="web-new")).status_code == 201
    assert session.query(CallbackRequest).count() == 6
