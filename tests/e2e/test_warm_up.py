"""`make run`'s warm-up loads the action server's model without inventing a customer for the insight figures."""

from __future__ import annotations

import sqlite3

import pytest
import requests

pytestmark = pytest.mark.e2e


def test_the_warm_up_leaves_no_customer_and_needs_the_token(stack):
    database = stack.environment()["DATABASE_URL"].removeprefix("sqlite:///")
    with sqlite3.connect(database) as db:
        warm_contacts = db.execute("SELECT count(*) FROM contacts WHERE sender_id LIKE '%warm%'").fetchone()[0]
        warm_events = db.execute("SELECT count(*) FROM bot_events WHERE question = 'warm up'").fetchone()[0]
    assert (warm_contacts, warm_events) == (0, 0)
    # the warm-up is an action-server route like the others: Rasa's token or nothing
    assert requests.post(f"{stack.actions_url}/warmup", timeout=10).status_code == 401
    token = stack.environment()["ACTION_SERVER_TOKEN"]
    warmed = requests.post(f"{stack.actions_url}/warmup", headers={"X-Action-Token": token}, timeout=120)
    assert warmed.status_code == 200 and warmed.json() == {"ok": True}
    # Warm: the readiness probe's route says so, without the token (Kubernetes has none).
    ready = requests.get(f"{stack.actions_url}/ready", timeout=10)
    assert ready.status_code == 200 and ready.json() == {"ready": True}
