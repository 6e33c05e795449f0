"""Rate limits (Flask-Limiter) and the client address behind a reverse proxy (ProxyFix).

Per client address: the console's login form (``HANDOFF_LOGIN_LIMIT``, on top of the account
lockout), every console page (``HANDOFF_CONSOLE_LIMIT``) and the bot API (``HANDOFF_API_LIMIT``,
a flood guard: its callers hold the API token). The counters live in ``HANDOFF_RATELIMIT_STORAGE``
(``memory://`` per process; ``redis://…`` shares them between gunicorn workers and machines).

The address is the TCP peer's unless ``HANDOFF_TRUSTED_PROXIES`` says how many reverse-proxy hops
(nginx, an ingress) stand in front: then the last that many ``X-Forwarded-For`` entries are
believed, and no more, so a client cannot pick its own address by sending the header itself.
"""

from __future__ import annotations

import time

from flask import Flask, make_response, request
from flask_limiter import Limiter, RequestLimit
from werkzeug.middleware.proxy_fix import ProxyFix

from handoff.settings import Settings

AREAS = ("/api/", "/agent/")
EXEMPT_ENDPOINTS = {"health", "agents.static"}
MESSAGE = "Too many requests from your address. Please wait a moment and try again."
MESSAGE_DE = "Zu viele Anfragen von Ihrer Adresse. Bitte warten Sie einen Moment und versuchen Sie es erneut."
# Self-contained (no console template, no login needed): it must render whatever state the session is in.
PAGE = """<!doctype html><html><head><meta charset="utf-8"><title>429</title></head><body>
<h1>Zu viele Anfragen · Too many requests</h1><p lang="de">{de}</p><p lang="en">{en}</p></body></html>"""


def client_address() -> str:
    return request.remote_addr or "unknown"


def _area() -> str:
    return next((prefix for prefix in AREAS if request.path.startswith(prefix)), "")


def install(app: Flask, settings: Settings) -> Limiter:
    """Trust the configured proxy hops, then limit the console, its login and the bot API."""
    if settings.trusted_proxies:
        hops = settings.trusted_proxies
        app.wsgi_app = ProxyFix(app.wsgi_app, x_for=hops, x_proto=hops, x_host=hops)  # type: ignore[method-assign]
    area_limits = {"/api/": settings.api_limit, "/agent/": settings.console_limit}
    limiter = Limiter(
        lambda: f"{_area()}{client_address()}",
        app=app,
        application_limits=[lambda: area_limits.get(_area()) or "1000000 per second"],
        storage_uri=settings.ratelimit_storage,
        headers_enabled=True,
        on_breach=_too_many,
        key_prefix="handoff",
    )
    limiter.request_filter(lambda: not _area() or request.endpoint in EXEMPT_ENDPOINTS)
    app.view_functions["agents.login"] = limiter.limit(
        settings.login_limit, key_func=client_address, methods=["POST"], scope="login", override_defaults=False
    )(app.view_functions["agents.login"])
    return limiter


def _too_many(limit: RequestLimit):
    """A clear, polite answer: JSON for the API, a page for the console, and when to try again."""
    if request.path.startswith("/api/"):
        from handoff.api import error

        response = error(429, "rate_limited", MESSAGE)[0]
    else:
        response = make_response(PAGE.format(de=MESSAGE_DE, en=MESSAGE))
    response.status_code = 429
    response.headers["Retry-After"] = str(max(1, int(limit.reset_at - time.time()) + 1))
    return response
