"""Console security: who is logged in, CSRF tokens, admin-only pages, safe redirects."""
from __future__ import annotations

import functools
import hmac
import secrets

from flask import abort, g, request, session

from handoff.extensions import db
from handoff.models import Agent


def csrf_token() -> str:
    token = session.get("csrf")
    if not token:
        token = session["csrf"] = secrets.token_urlsafe(32)
    return token


def csrf_ok() -> bool:
    expected = session.get("csrf")
    given = request.form.get("csrf_token") or request.headers.get("X-CSRF-Token") or ""
    return bool(expected) and hmac.compare_digest(expected.encode(), given.encode())


def load_agent() -> Agent | None:
    """The logged-in agent, if the session is valid and the account still active and unchanged."""
    agent_id = session.get("agent_id")
    if not isinstance(agent_id, int):
        return None
    agent = db().get(Agent, agent_id)
    if agent is None or not agent.active or session.get("ver") != agent.session_version:
        session.pop("agent_id", None)
        return None
    return agent


def log_in(agent: Agent) -> None:
    session.clear()  # a fresh session on login: no fixation
    session.permanent = True
    session["agent_id"] = agent.id
    session["ver"] = agent.session_version
    session["csrf"] = secrets.token_urlsafe(32)


def current_agent() -> Agent:
    return g.agent


def admin_required(view):
    @functools.wraps(view)
    def wrapper(*args, **kwargs):
        if not g.agent.is_admin:
            abort(403)
        return view(*args, **kwargs)

    return wrapper


def safe_next(value: str | None, fallback: str) -> str:
    """Only paths inside the console; never another host."""
    if value and value.startswith("/agent/") and not value.startswith("//") and "\\" not in value and "\n" not in value:
        return value
    return fallback


def wants_json() -> bool:
    return request.headers.get("X-Requested-With") == "fetch" or request.accept_mimetypes.best == "application/json"
