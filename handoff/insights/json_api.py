"""JSON for admins (console session; X-CSRF-Token on changes): the report, CSV tables, FAQ publishing."""

from __future__ import annotations

from flask import abort, g, jsonify, request
from sqlalchemy import select

from handoff.extensions import db, state
from handoff.insights import api, build_report, csv_response, insights, period_from_args
from handoff.models import FaqChange
from handoff.services import analytics, faq_publish
from handoff.services.faq_publish import Draft


@api.get("/report")
def report():
    data = build_report(period_from_args(request.args), clusters=request.args.get("clusters", "1") != "0")
    return jsonify(data)


@api.get("/<table>.csv")
def export(table: str):
    if table not in analytics.TABLES:
        abort(404)
    data = build_report(period_from_args(request.args), clusters=table == "clusters")
    return csv_response(analytics.table_rows(data, table), f"insights-{table}")


def _change(change: FaqChange) -> dict:
    return {
        "id": change.id,
        "action": change.action,
        "entry_id": change.entry_id,
        "language": change.language,
        "source": change.source,
        "agent": change.agent_email,
        "origin": change.origin,
        "before": change.before,
        "after": change.after,
        "created_at": change.created_at.isoformat(),
    }


@api.post("/faq")
def publish():
    body = request.get_json(silent=True)
    if not isinstance(body, dict):
        return jsonify(error={"code": "invalid_json", "message": "The body must be a JSON object."}), 400
    holder = insights()
    change = faq_publish.publish(
        db(),
        holder.kb,
        holder.faq_path(),
        Draft.from_form(body),
        g.agent,
        state().settings.languages,
        origin=body.get("origin"),
        expect_new=bool(body.get("new", False)),
    )
    return jsonify(_change(change)), 201


@api.delete("/faq/<language>/<entry_id>")
def retire(language: str, entry_id: str):
    holder = insights()
    change = faq_publish.retire(db(), holder.kb, holder.faq_path(), entry_id, language, g.agent)
    return jsonify(_change(change))


@api.get("/faq/changes")
def changes():
    rows = db().scalars(select(FaqChange).order_by(FaqChange.id.desc()).limit(200)).all()
    return jsonify(changes=[_change(c) for c in rows])
