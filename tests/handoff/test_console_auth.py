"""Console access: login with hashed passwords, CSRF, rate limit, roles, logout; every page needs login."""

from __future__ import annotations

import pytest

from handoff.models import Agent
from tests.handoff.support import PASSWORD, csrf, login


@pytest.fixture
def backend():
    return "sqlite"


def test_passwords_are_hashed(session, make_agent):
    agent = session.get(Agent, make_agent().id)
    assert PASSWORD not in agent.password_hash
    assert agent.password_hash.startswith(("scrypt:", "pbkdf2:"))


def test_login_and_logout(client, session, make_agent):
    agent = make_agent(email="sam@example.com", online=False)
    response = login(client, "SAM@example.com ")
    assert response.status_code == 302 and response.headers["Location"].endswith("/agent/")
    assert client.get("/agent/").status_code == 200
    session.expire_all()
    assert session.get(Agent, agent.id).presence == "online"  # logging in makes you available
    cookie = client.get_cookie("handoff_session")
    assert cookie.http_only and cookie.same_site == "Lax"
    client.post("/agent/logout", data={"csrf_token": csrf(client)})
    assert client.get("/agent/").status_code == 302
    session.expire_all()
    assert session.get(Agent, agent.id).presence == "offline"


def test_a_cookie_copied_before_logout_is_worthless_after_it(client, make_agent):
    make_agent(email="sam@example.com")
    login(client, "sam@example.com")
    stolen = client.get_cookie("handoff_session").value
    client.post("/agent/logout", data={"csrf_token": csrf(client)})
    client.set_cookie("handoff_session", stolen)  # replayed by whoever copied it
    assert client.get("/agent/").status_code == 302


def test_wrong_password_and_unknown_user(client, make_agent):
    make_agent(email="sam@example.com")
    wrong = login(client, "sam@example.com", "wrong-password")
    assert wrong.status_code == 401 and "Wrong e-mail or password" in wrong.get_data(as_text=True)
    assert login(client, "nobody@example.com").status_code == 401
    assert client.get("/agent/").status_code == 302


def test_deactivated_agents_cannot_log_in_and_are_logged_out(client, state, make_agent):
    agent = make_agent(email="sam@example.com")
    assert login(client, "sam@example.com").status_code == 302
    with state.session_factory() as session:
        from handoff.services.agents import AgentForm, update_agent

        admin = session.get(Agent, make_agent(role="admin").id)
        update_agent(session, agent.id, AgentForm(email="sam@example.com", display_name="Sam", active=False), admin)
    assert client.get("/agent/").status_code == 302
    assert login(client, "sam@example.com").status_code == 401


def test_login_is_rate_limited(client, make_agent):
    make_agent(email="sam@example.com")
    for _ in range(5):
        assert login(client, "sam@example.com", "wrong-password").status_code == 401
    limited = login(client, "sam@example.com")  # even the right password waits now
    assert limited.status_code == 429
    assert int(limited.headers["Retry-After"]) > 0
    assert "Too many failed attempts" in limited.get_data(as_text=True)


def test_posts_need_the_csrf_token(client, make_agent):
    make_agent(email="sam@example.com")
    client.get("/agent/login")
    response = client.post("/agent/login", data={"email": "sam@example.com", "password": PASSWORD})
    assert response.status_code == 400
    login(client, "sam@example.com")
    assert client.post("/agent/presence", data={"presence": "away"}).status_code == 400
    assert client.post("/agent/presence", data={"presence": "away", "csrf_token": "forged"}).status_code == 400
    assert client.post("/agent/presence", data={"presence": "away", "csrf_token": csrf(client)}).status_code == 302


def test_open_redirects_are_refused(client, make_agent):
    make_agent(email="sam@example.com")
    client.get("/agent/login")
    response = client.post(
        "/agent/login",
        data={
            "email": "sam@example.com",
            "password": PASSWORD,
            "csrf_token": csrf(client),
            "next": "https://evil.example/",
        },
    )
    assert response.headers["Location"].endswith("/agent/")
    client.get("/agent/login")
    response = client.post(
        "/agent/login",
        data={
            "email": "sam@example.com",
            "password": PASSWORD,
            "csrf_token": csrf(client),
            "next": "//evil.example/agent/",
        },
    )
    assert "evil" not in response.headers["Location"]


def test_every_console_route_requires_login(app, client):
    client.get("/agent/login")  # a session with a CSRF token, but nobody logged in
    token = csrf(client)
    checked = 0
    for rule in app.url_map.iter_rules():
        if not rule.rule.startswith("/agent/") or rule.endpoint in ("agents.login", "agents.static"):
            continue
        url = rule.rule
        for argument in rule.arguments:
            url = url.replace(f"<int:{argument}>", "1").replace(f"<{argument}>", "x")
        for method in rule.methods - {"HEAD", "OPTIONS"}:
            if method == "GET":
                response = client.get(url)
            else:
                response = client.open(url, method=method, data={"csrf_token": token})
            assert response.status_code in (302, 401), (method, url, response.status_code)
            if response.status_code == 302:
                assert "/agent/login" in response.headers["Location"]
            checked += 1
    assert checked > 30


def test_agents_cannot_open_admin_pages(client, make_agent):
    make_agent(email="sam@example.com")
    login(client, "sam@example.com")
    for path in ("/agent/admin/agents", "/agent/admin/hours", "/agent/admin/canned"):
        assert client.get(path).status_code == 403
    response = client.post(
        "/agent/admin/agents",
        data={"csrf_token": csrf(client), "email": "x@example.com", "display_name": "X", "password": "long-enough-1"},
    )
    assert response.status_code == 403


def test_security_headers(client, make_agent):
    make_agent(email="sam@example.com")
    login(client, "sam@example.com")
    response = client.get("/agent/")
    assert "script-src 'self'" in response.headers["Content-Security-Policy"]
    assert response.headers["X-Frame-Options"] == "DENY"
    assert response.headers["Cache-Control"] == "no-store"


def test_password_change_logs_out_other_sessions(app, make_agent):
    make_agent(email="sam@example.com")
    first, second = app.test_client(), app.test_client()
    login(first, "sam@example.com")
    login(second, "sam@example.com")
    response = first.post(
        "/agent/profile",
        data={
            "csrf_token": csrf(first),
            "current_password": PASSWORD,
            "new_password": "new-password-2",
            "repeat_password": "new-password-2",
        },
    )
    assert response.status_code == 302
    assert first.get("/agent/").status_code == 200
    assert second.get("/agent/").status_code == 302
    assert login(app.test_client(), "sam@example.com", "new-password-2").status_code == 302
