"""Log in and out, presence, and changing one's own password."""

from __future__ import annotations

from flask import flash, g, redirect, render_template, request, session, url_for
from flask_babel import gettext as _
from flask_babel import ngettext, refresh

from handoff.agents import back, bp
from handoff.security import log_in, safe_next
from handoff.extensions import db, state
from handoff.i18n import CONSOLE_LANGUAGES
from handoff.limits import client_address  # the peer, or the trusted proxies' X-Forwarded-For
from handoff.services import agents as agent_service
from handoff.services.agents import AccountLocked, Lockout, TooManyAttempts


@bp.route("/login", methods=["GET", "POST"])
def login():
    next_url = safe_next(request.values.get("next"), url_for("agents.queue"))
    if request.method == "GET":
        return render_template("agents/login.html", next=next_url, email="")
    email = request.form.get("email", "")
    settings = state().settings
    lockout = Lockout(settings.lockout_failures, settings.lockout_minutes)
    try:
        agent = agent_service.authenticate(
            db(), email, request.form.get("password", ""), client_address(), lockout=lockout, queue=state().queue_config
        )
    except TooManyAttempts as exc:
        minutes = max(1, round(exc.retry_after / 60))
        if isinstance(exc, AccountLocked) and exc.retry_after:
            message = ngettext(
                "Too many failed attempts: this account is locked. An admin can unlock it, or try "
                "again in %(num)d minute.",
                "Too many failed attempts: this account is locked. An admin "
                "can unlock it, or try again in %(num)d minutes.",
                minutes,
            )
        elif isinstance(exc, AccountLocked):
            message = _("Too many failed attempts: this account is locked. An admin can unlock it.")
        else:
            message = ngettext(
                "Too many failed attempts from this address. Try again in %(num)d minute.",
                "Too many failed attempts from this address. Try again in %(num)d minutes.",
                minutes,
            )
        flash(message, "error")
        response = render_template("agents/login.html", next=next_url, email=email)
        return response, 429, ({"Retry-After": str(exc.retry_after)} if exc.retry_after else {})
    if agent is None:
        flash(_("Wrong e-mail or password."), "error")
        return render_template("agents/login.html", next=next_url, email=email), 401
    log_in(agent)
    return redirect(next_url)


@bp.post("/logout")
def logout():
    agent_service.log_out(
        db(), g.agent, queue=state().queue_config
    )  # ends the session server-side, not only in this browser
    session.clear()
    flash(_("You are logged out."), "info")
    return redirect(url_for("agents.login"))


@bp.post("/presence")
def presence():
    agent_service.set_presence(db(), g.agent, request.form.get("presence", ""), queue=state().queue_config)
    return back()


@bp.route("/profile", methods=["GET", "POST"])
def profile():
    if request.method == "POST":
        if not agent_service.password_matches(g.agent, request.form.get("current_password", "")):
            flash(_("The current password is wrong."), "error")
        elif request.form.get("new_password") != request.form.get("repeat_password"):
            flash(_("The new passwords differ."), "error")
        else:
            agent_service.set_password(db(), g.agent, request.form.get("new_password", ""))
            log_in(g.agent)  # keep this browser logged in; other sessions end
            flash(_("Password changed; other sessions are logged out."), "info")
            return redirect(url_for("agents.profile"))
    return render_template("agents/profile.html")


@bp.post("/profile/language")
def profile_language():
    """The console's language for this agent, on every device; empty: follow the browser."""
    choice = request.form.get("language", "")
    if choice and choice not in CONSOLE_LANGUAGES:
        flash(_("Choose Deutsch, English or the browser's language."), "error")
        return redirect(url_for("agents.profile"))
    g.agent.ui_language = choice or None
    db().commit()
    refresh()  # this response already speaks the new language
    flash(_("Language saved."), "info")
    return redirect(url_for("agents.profile"))
