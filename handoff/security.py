"""Console security: who is logged in (with session expiry), CSRF tokens, admin-only pages, safe redirects."""

from __future__ import annotations

import functools
import hmac
import secrets
import time

from flask import abort, flash, g, request, session
from flask_babel import gettext as _

from handoff.extensions import db, state
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


SEEN_EVERY = 30  # seconds: how often the idle clock in the cookie is moved on


def _is_activity() -> bool:
    """A person did something; the event stream and the console's background refreshes do not count."""
    if request.endpoint == "agents.events":
        return False
    return not (request.method == "GET" and request.headers.get("X-Requested-With") == "fetch")


def _expired(now: int) -> bool:
    settings = state().settings
    login_at, seen_at = session.get("login_at"), session.get("seen_at")
    if not isinstance(login_at, int) or not isinstance(seen_at, int):
        return True
    return now - login_at > settings.session_max_hours * 3600 or now - seen_at > settings.session_idle_minutes * 60


def _log_out_here() -> None:
    csrf = session.get("csrf")
    session.clear()
    if csrf:
        session["csrf"] = csrf  # the login form on the next page still works


def load_agent() -> Agent | None:
    """The logged-in agent, if the session is valid, not expired (absolute and idle limits from the
    settings), and the account still active and unchanged."""
    agent_id = session.get("agent_id")
    if not isinstance(agent_id, int):
        return None
    now = int(time.time())
    if _expired(now):
        _log_out_here()
        flash(_("Your session expired; please log in again."), "info")
        return None
    agent = db().get(Agent, agent_id)
    if agent is None or not agent.active or session.get("ver") != agent.session_version:
        _log_out_here()
        return None
    if _is_activity() and now - session["seen_at"] >= SEEN_EVERY:
        session["seen_at"] = now
    return agent


def log_in(agent: Agent) -> None:
    session.clear()  # a fresh session on login: no fixation
    session.permanent = True
    session["agent_id"] = agent.id
    session["ver"] = agent.session_version
    session["csrf"] = secrets.token_urlsafe(32)
    session["login_at"] = session["seen_at"] = int(time.time())


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
