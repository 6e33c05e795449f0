"""The agent console under /agent/: queue, conversations, callbacks and admin pages (login required)."""

from __future__ import annotations

from datetime import datetime

from flask import Blueprint, abort, flash, g, jsonify, redirect, render_template, request, url_for
from flask_babel import gettext as _
from werkzeug.exceptions import HTTPException

from handoff.extensions import db, state
from handoff.i18n import local_time
from handoff.models import utcnow
from handoff.services.agents import touch
from handoff.services.console import waiting_ids
from handoff.services.errors import ServiceError

from handoff.security import csrf_ok, csrf_token, load_agent, safe_next, wants_json

bp = Blueprint("agents", __name__, template_folder="templates", static_folder="static", static_url_path="/static")

PUBLIC_ENDPOINTS = {"agents.login", "agents.static"}


@bp.before_request
def _guard():
    if request.method not in ("GET", "HEAD", "OPTIONS") and not csrf_ok():
        if wants_json():
            return jsonify(error={"code": "csrf", "message": _("Session expired; reload the page.")}), 400
        return render_template(
            "agents/error.html",
            title=_("Session expired"),
            message=_("The form was too old or came from elsewhere. Reload the page and try again."),
        ), 400
    g.agent = None
    if request.endpoint in PUBLIC_ENDPOINTS:
        return None
    agent = load_agent()
    if agent is None:
        if wants_json() or request.endpoint == "agents.events":
            return jsonify(error={"code": "login_required", "message": _("Log in again.")}), 401
        return redirect(
            url_for("agents.login", next=request.full_path.rstrip("?") if request.method == "GET" else None)
        )
    g.agent = agent
    touch(db(), agent)
    return None


@bp.after_request
def _headers(response):
    # Content-Security-Policy and the other security headers: handoff.headers, for the whole app.
    if request.endpoint != "agents.static":
        response.headers["Cache-Control"] = "no-store"
    return response


@bp.app_template_global("csrf_token")
def _csrf_token() -> str:
    return csrf_token()


@bp.app_context_processor
def _words() -> dict:
    return {"words": words, "customer": words.customer}


@bp.app_template_global("waiting_ids")
def _waiting_ids() -> str:
    """The queue as the page was drawn: a new-customer alert only names who came after."""
    return " ".join(str(i) for i in waiting_ids(db()))


@bp.app_template_filter("local")
def _local(value: datetime | None, fmt: str = "%a %d %b %H:%M") -> str:
    """A UTC time shown in the service's time zone."""
    if value is None:
        return ""
    from zoneinfo import ZoneInfo

    from handoff.models import ServiceSettings

    zone = g.get("zone")
    if zone is None:
        row = db().get(ServiceSettings, 1)
        zone = g.zone = ZoneInfo(row.timezone if row else state().settings.default_timezone)
    return local_time(value, zone, fmt)


@bp.app_template_filter("ago")
def _ago(value: datetime | None) -> str:
    if value is None:
        return ""
    seconds = int((utcnow() - value).total_seconds())
    if seconds < 60:
        return _("%(n)s s", n=max(seconds, 0))
    if seconds < 3600:
        return _("%(n)s min", n=seconds // 60)
    if seconds < 86400:
        return _("%(h)s h %(m)s min", h=seconds // 3600, m=seconds % 3600 // 60)
    return _("%(n)s d", n=seconds // 86400)


@bp.errorhandler(ServiceError)
def _service_error(exc: ServiceError):
    db().rollback()
    message = exc.translated(_, terms=words.TERMS)
    if wants_json():
        return jsonify(error={"code": exc.code, "message": message}), exc.status
    if request.method == "GET":
        return render_template(
            "agents/error.html", title=_("Not found") if exc.status == 404 else _("Not possible"), message=message
        ), exc.status
    flash(message, "error")
    return redirect(safe_next(request.form.get("next"), url_for("agents.queue")))


@bp.errorhandler(403)
def _forbidden(_exc: HTTPException):
    return render_template("agents/error.html", title=_("Not allowed"), message=_("This page is for admins.")), 403


@bp.errorhandler(404)
def _not_found(_exc: HTTPException):
    if wants_json():
        return jsonify(error={"code": "not_found", "message": _("Not found.")}), 404
    return render_template("agents/error.html", title=_("Not found"), message=_("There is nothing here.")), 404


def back(fallback_endpoint: str = "agents.queue", **values):
    return redirect(safe_next(request.form.get("next"), url_for(fallback_endpoint, **values)))


def not_found_unless(value):
    if value is None:
        abort(404)
    return value


from handoff.agents import admin, auth, callbacks, conversations, privacy, queue, stream, words  # noqa: E402,F401
