"""Console hardening: security headers, secure cookies, session expiry, account lockout and unlock."""

from __future__ import annotations

import os
import subprocess
import sys
import time
from dataclasses import replace
from datetime import timedelta
from pathlib import Path

import pytest
from sqlalchemy import select

from handoff.models import Agent, AuditEvent, utcnow
from tests.handoff.support import API_TOKEN, PASSWORD, csrf, login

ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture
def backend():
    return "sqlite"


@pytest.fixture
def settings(settings):
    return replace(
        settings,
        rasa_public_url="https://bot.nordnet.example",
        lockout_failures=3,
        lockout_minutes=30,
        session_idle_minutes=20,
        session_max_hours=8,
    )


def test_every_response_carries_security_headers(client, make_agent):
    make_agent(email="sam@example.com")
    login(client, "sam@example.com")
    for path in (
        "/agent/",
        "/agent/login",
        "/agent/admin/insights/",
        "/api/escalations",
        "/",
        "/health",
        "/static/web/chat.js",
    ):
        headers = client.get(path, headers={"Authorization": f"Bearer {API_TOKEN}"}).headers
        assert headers["X-Content-Type-Options"] == "nosniff", path
        assert headers["Referrer-Policy"] == "same-origin", path
        assert "frame-ancestors" in headers["Content-Security-Policy"], path
        assert headers["X-Frame-Options"] in ("DENY", "SAMEORIGIN"), path
        assert "Strict-Transport-Security" not in headers, path  # not served over HTTPS in this test
    console = client.get("/agent/").headers["Content-Security-Policy"]
    assert "script-src 'self';" in console and "unsafe-inline" not in console and "frame-ancestors 'none'" in console
    page = client.get("/").headers["Content-Security-Policy"]
    # The widget on the demo page talks to Rasa's socket.io: polling over HTTPS and a WebSocket.
    assert "connect-src 'self' https://bot.nordnet.example wss://bot.nordnet.example;" in page
    assert "script-src 'self';" in page


def test_templates_have_no_inline_code():
    """The console's CSP forbids inline scripts, styles and event handlers; keep the templates free of them."""
    for template in (ROOT / "handoff").rglob("*.html"):
        source = template.read_text()
        assert "<script>" not in source and "<style" not in source, template
        assert " style=" not in source and " onclick=" not in source and "javascript:" not in source, template


def test_production_cookies_are_secure_and_strict_transport_is_on(app_factory):
    client = app_factory(secure_cookies=True).test_client()
    response = client.get("/agent/login")
    assert response.headers["Strict-Transport-Security"].startswith("max-age=")
    cookie = client.get_cookie("handoff_session")
    assert cookie.secure and cookie.http_only and cookie.same_site == "Lax"


@pytest.fixture
def app_factory(settings):
    from handoff.app import create_app
    from tests.handoff.conftest import FakeSuggestions

    apps = []

    def factory(**changes):
        app = create_app(replace(settings, **changes), suggestions=FakeSuggestions())
        app.config["TESTING"] = True
        apps.append(app)
        return app

    yield factory
    for app in apps:
        app.extensions["handoff"].shutdown()


def test_idle_and_absolute_session_expiry(client, make_agent):
    make_agent(email="sam@example.com")
    login(client, "sam@example.com")
    with client.session_transaction() as sess:
        sess["seen_at"] = int(time.time()) - 100
    client.get("/agent/counts", headers={"X-Requested-With": "fetch"})  # a background refresh is no activity
    with client.session_transaction() as sess:
        assert int(time.time()) - sess["seen_at"] >= 100
    assert client.get("/agent/").status_code == 200  # a person clicking is
    with client.session_transaction() as sess:
        assert int(time.time()) - sess["seen_at"] < 5
        sess["seen_at"] = int(time.time()) - 21 * 60  # idle longer than 20 minutes
    expired = client.get("/agent/")
    assert expired.status_code == 302 and "/agent/login" in expired.headers["Location"]
    assert "session expired" in client.get("/agent/login").get_data(as_text=True)
    login(client, "sam@example.com")
    with client.session_transaction() as sess:
        sess["login_at"] = int(time.time()) - 8 * 3600 - 1  # active all the time, but longer than 8 hours
    assert client.get("/agent/").status_code == 302
    assert client.get("/agent/counts", headers={"X-Requested-With": "fetch"}).status_code == 401


def test_account_locks_after_failed_logins_and_an_admin_unlocks_it(client, session, make_agent):
    agent = make_agent(email="sam@example.com")
    make_agent(role="admin", email="boss@example.com")
    for _ in range(3):
        assert login(client, "sam@example.com", "wrong-password").status_code == 401
    locked = login(client, "sam@example.com")  # the right password does not help now
    assert locked.status_code == 429 and "this account is locked" in locked.get_data(as_text=True)
    assert 29 * 60 < int(locked.headers["Retry-After"]) <= 30 * 60 + 1
    # An unknown address answers the same way, so the message tells nobody which accounts exist.
    for _ in range(3):
        assert login(client, "nobody@example.com", "wrong-password").status_code == 401
    unknown = login(client, "nobody@example.com")
    assert unknown.status_code == locked.status_code == 429
    assert abs(int(unknown.headers["Retry-After"]) - int(locked.headers["Retry-After"])) <= 2
    assert unknown.get_data(as_text=True).replace("nobody@example.com", "@") == locked.get_data(as_text=True).replace(
        "sam@example.com", "@"
    )

    assert login(client, "boss@example.com").status_code == 302
    agents_page = client.get("/agent/admin/agents").get_data(as_text=True)
    assert "locked" in agents_page and "Unlock" in agents_page
    response = client.post(f"/agent/admin/agents/{agent.id}/unlock", data={"csrf_token": csrf(client)})
    assert response.status_code == 302
    client.post("/agent/logout", data={"csrf_token": csrf(client)})
    assert login(client, "sam@example.com").status_code == 302
    audit = [(a.action, a.actor, a.subject) for a in session.scalars(select(AuditEvent).order_by(AuditEvent.id))]
    assert audit == [
        ("account_locked", "system", "sam@example.com"),
        ("account_unlocked", "boss@example.com", "sam@example.com"),
    ]


def test_only_admins_unlock(client, make_agent):
    agent = make_agent(email="sam@example.com")
    make_agent(email="kim@example.com")
    login(client, "kim@example.com")
    assert client.post(f"/agent/admin/agents/{agent.id}/unlock", data={"csrf_token": csrf(client)}).status_code == 403


def test_a_lock_ends_by_itself_after_the_configured_time(client, session, make_agent):
    agent = make_agent(email="sam@example.com")
    for _ in range(3):
        login(client, "sam@example.com", "wrong-password")
    session.expire_all()
    stored = session.get(Agent, agent.id)
    assert stored.locked_at is not None and stored.failed_logins == 3
    stored.locked_at = utcnow() - timedelta(minutes=31)
    session.commit()
    assert login(client, "sam@example.com", PASSWORD).status_code == 302
    session.expire_all()
    assert session.get(Agent, agent.id).failed_logins == 0 and session.get(Agent, agent.id).locked_at is None


def test_cli_unlocks_an_agent(settings, make_agent, session):
    agent = make_agent(email="sam@example.com")
    stored = session.get(Agent, agent.id)
    stored.locked_at, stored.failed_logins = utcnow(), 5
    session.commit()
    env = {k: v for k, v in os.environ.items() if not k.startswith(("HANDOFF_", "DATABASE_URL"))}
    env.update(DATABASE_URL=settings.database_url, HANDOFF_ENV="development")
    result = subprocess.run(
        [sys.executable, "-m", "handoff", "unlock-agent", "--email", "SAM@example.com"],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert result.returncode == 0, result.stderr
    session.expire_all()
    assert session.get(Agent, agent.id).locked_at is None
    assert session.scalars(select(AuditEvent)).one().actor.startswith("cli:")
