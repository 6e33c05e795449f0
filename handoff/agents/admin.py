"""Admin pages: agents (and unlocking them), business hours and holidays, canned responses."""

from __future__ import annotations

from flask import flash, g, redirect, render_template, request, url_for
from flask_babel import gettext as _
from sqlalchemy import select

from handoff.agents import bp, not_found_unless
from handoff.security import admin_required
from handoff.extensions import db, state
from handoff.models import Agent, BusinessHours, CannedResponse, Holiday, utcnow
from handoff.services import agents as agent_service
from handoff.services import canned as canned_service
from handoff.services import hours as hours_service
from handoff.services.agents import AgentForm, Lockout
from handoff.services.errors import Invalid


def _agent_form() -> AgentForm:
    try:
        capacity = int(request.form.get("capacity", "3"))
    except ValueError:
        raise Invalid(_("capacity must be a whole number")) from None
    return AgentForm(
        email=request.form.get("email", ""),
        display_name=request.form.get("display_name", ""),
        role=request.form.get("role", "agent"),
        languages=tuple(request.form.getlist("languages")),
        capacity=capacity,
        active=request.form.get("active") == "on",
    )


@bp.get("/admin/agents")
@admin_required
def admin_agents():
    agents = db().scalars(select(Agent).order_by(Agent.active.desc(), Agent.display_name)).all()
    settings = state().settings
    lockout, now = Lockout(settings.lockout_failures, settings.lockout_minutes), utcnow()
    locked = {a.id for a in agents if lockout.remaining(a, now) is not None}
    return render_template("agents/admin_agents.html", agents=agents, languages=settings.languages, locked=locked)


@bp.post("/admin/agents/<int:agent_id>/unlock")
@admin_required
def admin_unlock_agent(agent_id: int):
    agent = agent_service.unlock(db(), agent_id, g.agent)
    flash(_("%(name)s can log in again.", name=agent.display_name), "info")
    return redirect(url_for("agents.admin_agents"))


@bp.post("/admin/agents")
@admin_required
def admin_create_agent():
    agent = agent_service.create_agent(
        db(), _agent_form(), request.form.get("password", ""), state().settings.languages
    )
    flash(_("%(name)s can log in now as %(email)s.", name=agent.display_name, email=agent.email), "info")
    return redirect(url_for("agents.admin_agents"))


@bp.route("/admin/agents/<int:agent_id>", methods=["GET", "POST"])
@admin_required
def admin_edit_agent(agent_id: int):
    agent = not_found_unless(db().get(Agent, agent_id))
    if request.method == "POST":
        agent_service.update_agent(
            db(), agent_id, _agent_form(), g.agent, state().settings.languages, queue=state().queue_config
        )
        if request.form.get("password"):
            agent_service.set_password(db(), agent, request.form["password"])
        flash(_("Saved %(name)s.", name=agent.display_name), "info")
        return redirect(url_for("agents.admin_agents"))
    return render_template("agents/admin_agent.html", agent=agent, languages=state().settings.languages)


@bp.get("/admin/hours")
@admin_required
def admin_hours():
    session = db()
    settings = hours_service.get_service_settings(session, state().settings.default_timezone)
    session.commit()
    intervals = session.scalars(select(BusinessHours).order_by(BusinessHours.weekday, BusinessHours.opens_minute)).all()
    holidays = session.scalars(select(Holiday).order_by(Holiday.day)).all()
    schedule = hours_service.load_schedule(session, state().settings.default_timezone)
    return render_template(
        "agents/admin_hours.html",
        settings=settings,
        intervals=intervals,
        holidays=holidays,
        weekdays=hours_service.WEEKDAYS,
        clock=hours_service.format_clock,
        open_now=schedule.is_open(utcnow()),
    )


@bp.post("/admin/hours/settings")
@admin_required
def admin_hours_settings():
    hours_service.set_timezone(db(), request.form.get("timezone", "").strip(), request.form.get("auto_assign") == "on")
    flash(_("Settings saved."), "info")
    return redirect(url_for("agents.admin_hours"))


@bp.post("/admin/hours/intervals")
@admin_required
def admin_add_interval():
    try:
        weekday = int(request.form.get("weekday", ""))
    except ValueError:
        raise Invalid(_("pick a weekday")) from None
    hours_service.add_interval(db(), weekday, request.form.get("opens", ""), request.form.get("closes", ""))
    return redirect(url_for("agents.admin_hours"))


@bp.post("/admin/hours/intervals/<int:interval_id>/delete")
@admin_required
def admin_delete_interval(interval_id: int):
    hours_service.remove_interval(db(), interval_id)
    return redirect(url_for("agents.admin_hours"))


@bp.post("/admin/hours/holidays")
@admin_required
def admin_add_holiday():
    hours_service.add_holiday(db(), request.form.get("day", ""), request.form.get("name", ""))
    return redirect(url_for("agents.admin_hours"))


@bp.post("/admin/hours/holidays/<int:holiday_id>/delete")
@admin_required
def admin_delete_holiday(holiday_id: int):
    hours_service.remove_holiday(db(), holiday_id)
    return redirect(url_for("agents.admin_hours"))


@bp.get("/admin/canned")
@admin_required
def admin_canned():
    edit_id = request.args.get("edit", type=int)
    editing = db().get(CannedResponse, edit_id) if edit_id else None
    return render_template(
        "agents/admin_canned.html",
        canned=canned_service.list_canned(db()),
        editing=editing,
        languages=state().settings.languages,
    )


@bp.post("/admin/canned")
@admin_required
def admin_save_canned():
    canned_id = request.form.get("id", type=int)
    canned_service.save_canned(
        db(),
        request.form.get("short_code", ""),
        request.form.get("content", ""),
        request.form.get("language"),
        state().settings.languages,
        canned_id,
    )
    flash(_("Canned response saved."), "info")
    return redirect(url_for("agents.admin_canned"))


@bp.post("/admin/canned/<int:canned_id>/delete")
@admin_required
def admin_delete_canned(canned_id: int):
    canned_service.delete_canned(db(), canned_id)
    return redirect(url_for("agents.admin_canned"))
