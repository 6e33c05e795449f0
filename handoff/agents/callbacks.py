"""The callback queue: due and overdue first; claim, done, no answer (retry), release, cancel."""

from __future__ import annotations

from flask import flash, g, redirect, render_template, request, url_for
from flask_babel import gettext as _

from handoff.agents import back, bp, words
from handoff.extensions import db, state
from handoff.models import utcnow
from handoff.services import callbacks as service
from handoff.services.callbacks import CallbackPolicy


def _policy() -> CallbackPolicy:
    settings = state().settings
    return CallbackPolicy(settings.callback_retry_minutes, settings.callback_max_attempts)


def _context(show_all: bool) -> dict:
    now = utcnow()
    items = service.callback_queue(db(), now, include_closed=show_all)
    return {
        "callbacks": items,
        "urgency": lambda c: service.urgency(c, now),
        "show_all": show_all,
        "max_attempts": state().settings.callback_max_attempts,
    }


@bp.get("/callbacks")
def callbacks():
    return render_template("agents/callbacks.html", **_context(request.args.get("show") == "all"))


@bp.get("/callbacks/fragment")
def callbacks_fragment():
    return render_template("agents/_callbacks.html", **_context(request.args.get("show") == "all"))


@bp.get("/callbacks/<int:callback_id>")
def callback(callback_id: int):
    item = service.get_callback(db(), callback_id)
    return render_template(
        "agents/callback.html",
        callback=item,
        urgency=service.urgency(item, utcnow()),
        max_attempts=state().settings.callback_max_attempts,
    )


@bp.post("/callbacks/<int:callback_id>/claim")
def claim_callback(callback_id: int):
    service.claim_callback(db(), callback_id, g.agent)
    return redirect(url_for("agents.callback", callback_id=callback_id))


@bp.post("/callbacks/<int:callback_id>/release")
def release_callback(callback_id: int):
    service.release_callback(db(), callback_id, g.agent)
    return back("agents.callbacks")


@bp.post("/callbacks/<int:callback_id>/outcome")
def callback_outcome(callback_id: int):
    outcome = request.form.get("outcome", "")
    item = service.record_outcome(db(), callback_id, g.agent, outcome, _policy(), request.form.get("note", "")[:2000])
    if item.status == "pending":
        flash(
            _(
                "%(ref)s: no answer; retry scheduled (%(n)s of %(max)s attempts).",
                ref=item.reference,
                n=item.attempts,
                max=_policy().max_attempts,
            ),
            "info",
        )
    else:
        flash(
            _(
                "%(ref)s is %(status)s; the customer is told.",
                ref=item.reference,
                status=words.callback_status(item.status),
            ),
            "info",
        )
    return redirect(url_for("agents.callbacks"))


@bp.post("/callbacks/<int:callback_id>/cancel")
def cancel_callback(callback_id: int):
    item = service.cancel_by_agent(db(), callback_id, g.agent, request.form.get("note", "")[:2000])
    flash(_("%(ref)s cancelled; the customer is told.", ref=item.reference), "info")
    return redirect(url_for("agents.callbacks"))
