"""Admin pages for privacy: look a customer up, download everything about them, erase them; the audit log."""

from __future__ import annotations

import json
import logging

from flask import Response, flash, g, redirect, render_template, request, url_for
from flask_babel import gettext as _

from handoff.agents import bp
from handoff.security import admin_required
from handoff.extensions import db, state
from handoff.models import utcnow
from handoff.services import audit
from handoff.services import privacy as privacy_service
from handoff.services.errors import Invalid
from handoff.tracker_store import TrackerStore

KINDS = ("sender_id", "email", "phone")
logger = logging.getLogger(__name__)


def _lookup(values) -> privacy_service.Lookup | None:
    kind, value = values.get("kind", "sender_id"), (values.get("value") or "").strip()
    if not value:
        return None
    if kind not in KINDS:
        raise Invalid(_("look customers up by sender id, e-mail or phone"))
    if len(value) > 255:
        raise Invalid(_("that is too long for a customer id, e-mail or phone number"))
    return privacy_service.Lookup(**{kind: value})


def _tracker() -> TrackerStore:
    return TrackerStore(state().settings.tracker_store_url)


@bp.route("/admin/privacy", methods=["GET", "POST"])
@admin_required
def admin_privacy():
    # Look-ups are POSTed: an e-mail address or phone number in a URL would land in access logs and history.
    form = request.form if request.method == "POST" else {}
    lookup = _lookup(form)
    preview = privacy_service.collect(db(), lookup, _tracker()) if lookup else None
    db().rollback()
    return render_template(
        "agents/admin_privacy.html",
        lookup=lookup,
        kind=form.get("kind", "sender_id"),
        value=form.get("value", ""),
        preview=preview,
        audit_log=audit.recent(db()),
        settings=state().settings,
        tracker=_tracker().describe(),
    )


@bp.post("/admin/privacy/export")
@admin_required
def admin_privacy_export():
    lookup = _lookup(request.form)
    if lookup is None:
        raise Invalid(_("name the customer to export"))
    settings = state().settings
    document = privacy_service.export_customer(db(), lookup, _tracker(), g.agent, settings.secret_key)
    filename = f"customer-export-{utcnow():%Y%m%d-%H%M%S}.json"
    return Response(
        json.dumps(document, ensure_ascii=False, indent=2, default=str),
        mimetype="application/json",
        headers={"Content-Disposition": f'attachment; filename="{filename}"'},
    )


@bp.post("/admin/privacy/delete")
@admin_required
def admin_privacy_delete():
    lookup = _lookup(request.form)
    if lookup is None:
        raise Invalid(_("name the customer to delete"))
    if request.form.get("confirm", "").strip() != lookup.value:
        raise Invalid(_("type the customer's id, e-mail or phone again to confirm the deletion"))
    report = privacy_service.erase_customer(
        db(), lookup, _tracker(), g.agent, state().settings.secret_key, classify=state().question_classifier()
    )
    flash(
        _("Deleted.") + " " + "; ".join(report.lines()) + ".", "error" if report.tracker_status == "error" else "info"
    )
    return redirect(url_for("agents.admin_privacy"))
