"""Rate limits on the console, its login form and the bot API, and the address behind a proxy."""

from __future__ import annotations

import dataclasses

import pytest

from handoff.app import create_app

from tests.handoff.conftest import FakeSuggestions
from tests.handoff.support import API_TOKEN, PASSWORD, login


def make_client(settings, **limits):
    app = create_app(dataclasses.replace(settings, **limits), suggestions=FakeSuggestions())
    app.config["TESTING"] = True
    return app, app.test_client()


@pytest.fixture
def limited(settings):
    apps = []

    def build(**limits):
        app, client = make_client(settings, **limits)
        apps.append(app)
        return client

    yield build
    for app in apps:
        app.extensions["handoff"].shutdown()


def test_login_form_is_limited_per_address_with_a_polite_page(limited, make_agent):
    make_agent(email="sam@example.com")
    client = limited(login_limit="3 per minute")
    for _ in range(3):
        assert login(client, "sam@example.com", "wrong-password").status_code == 401
    blocked = login(client, "sam@example.com", PASSWORD)  # even the right password waits
    assert blocked.status_code == 429
    assert "Too many requests from your address" in blocked.get_data(as_text=True)
    assert 1 <= int(blocked.headers["Retry-After"]) <= 61
    # Showing the form is not a login attempt.
    assert client.get("/agent/login").status_code == 200


def test_console_pages_are_limited_per_address(limited, make_agent):
    make_agent(email="sam@example.com")
    client = limited(console_limit="5 per minute", login_limit="100 per minute")
    assert login(client, "sam@example.com", PASSWORD).status_code == 302
    statuses = [client.get("/agent/").status_code for _ in range(6)]
    assert statuses[-1] == 429 and 200 in statuses
    assert client.get("/health").status_code in (200, 503)  # health and static files are never limited


def test_bot_api_answers_json_when_flooded(limited):
    client = limited(api_limit="3 per minute")
    headers = {"Authorization": f"Bearer {API_TOKEN}"}
    statuses = [client.get("/api/escalations/1", headers=headers).status_code for _ in range(3)]
    assert statuses == [404, 404, 404]
    for _ in range(2):
        flooded = client.get("/api/escalations/1", headers=headers)
        assert flooded.status_code == 429 and flooded.get_json()["error"]["code"] == "rate_limited"
        assert int(flooded.headers["Retry-After"]) >= 1


def test_forwarded_address_is_believed_only_from_trusted_hops(limited):
    direct = limited(api_limit="2 per minute")
    spoofed = [
        direct.get("/api/escalations/1", headers={"X-Forwarded-For": f"10.0.0.{i}"}).status_code for i in range(3)
    ]
    assert spoofed[-1] == 429  # without a trusted proxy the header changes nothing

    behind_nginx = limited(api_limit="2 per minute", trusted_proxies=1)
    per_client = [
        behind_nginx.get("/api/escalations/1", headers={"X-Forwarded-For": f"10.0.0.{i}"}).status_code for i in range(3)
    ]
    assert 429 not in per_client  # three clients behind the proxy, each under its limit
    same = [
        behind_nginx.get("/api/escalations/1", headers={"X-Forwarded-For": "10.0.0.9"}).status_code for _ in range(3)
    ]
    assert same[-1] == 429
