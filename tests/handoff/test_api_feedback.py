"""Bot API: FAQ feedback, satisfaction ratings and availability."""

from __future__ import annotations

from handoff.models import Feedback, SatisfactionRating


def feedback_body(key: str = "fb-1", **overrides) -> dict:
    body = {
        "idempotency_key": key,
        "sender_id": "s-1",
        "channel": "socketio",
        "language": "en",
        "entry_id": "change-delivery-address",
        "helpful": False,
        "question": "how do I change my address",
    }
    body.update(overrides)
    return body


def test_feedback_is_stored_once(api, session):
    first = api.post("/feedback", feedback_body())
    again = api.post("/feedback", feedback_body())
    assert first.status_code == 201 and again.status_code == 200
    assert again.get_json() == first.get_json()
    rows = session.query(Feedback).all()
    assert len(rows) == 1 and rows[0].helpful is False and rows[0].entry_id == "change-delivery-address"


def test_feedback_needs_a_real_boolean(api):
    response = api.post("/feedback", feedback_body(helpful="no"))
    assert response.status_code == 422
    assert response.get_json()["error"]["details"][0]["field"] == "helpful"


def test_satisfaction_once_per_conversation(api, session, open_hours):
    conversation_id = api.escalate()["conversation_id"]
    first = api.post("/satisfaction", {"idempotency_key": "s1", "conversation_id": conversation_id, "score": 4})
    replay = api.post("/satisfaction", {"idempotency_key": "s1", "conversation_id": conversation_id, "score": 4})
    other = api.post("/satisfaction", {"idempotency_key": "s2", "conversation_id": conversation_id, "score": 1})
    assert first.status_code == 201 and replay.status_code == 200
    assert other.status_code == 409 and other.get_json()["error"]["code"] == "already_rated"
    assert [r.score for r in session.query(SatisfactionRating).all()] == [4]


def test_satisfaction_validation(api, open_hours):
    conversation_id = api.escalate()["conversation_id"]
    for score in (0, 6, 3.5, True, "5", None):
        response = api.post(
            "/satisfaction", {"idempotency_key": f"k{score}", "conversation_id": conversation_id, "score": score}
        )
        assert response.status_code == 422, score
    missing = api.post("/satisfaction", {"idempotency_key": "k", "conversation_id": 4242, "score": 3})
    assert missing.status_code == 404


def test_availability(api, open_hours, make_agent):
    closed = api.get("/availability?language=de").get_json()
    assert closed["accepting"] is False and closed["agents_online"] == 0
    assert closed["business_hours_open"] is True
    make_agent(languages=("de",))
    open_de = api.get("/availability?language=de").get_json()
    assert open_de["accepting"] is True and open_de["agents_online"] == 1
    assert isinstance(open_de["expected_wait_seconds"], int)
    assert api.get("/availability?language=en").get_json()["accepting"] is False
    assert api.get("/availability").get_json()["agents_online"] == 1
    assert api.get("/availability?language=xx").status_code == 422
