"""Admin pages: the insight report with charts and CSV links, and the FAQ editor (create, edit, retire)."""

from __future__ import annotations

from flask import abort, flash, g, redirect, render_template, request, url_for
from flask_babel import gettext as _
from markupsafe import Markup
from sqlalchemy import select

from handoff.extensions import db, state
from handoff.insights import build_report, csv_response, insights, pages, period_from_args
from handoff.models import Conversation, FaqChange
from handoff.services import analytics, faq_publish
from handoff.services.errors import Invalid, ServiceError
from handoff.services.faq_publish import Draft


@pages.get("/")
def report():
    try:
        period = period_from_args(request.args)
    except Invalid as exc:
        flash(exc.translated(_), "error")
        period = period_from_args({})
    data = build_report(period)
    resolved = (
        db()
        .scalars(
            select(Conversation)
            .where(Conversation.status == "resolved")
            .order_by(Conversation.ended_at.desc())
            .limit(20)
        )
        .all()
    )
    return render_template(
        "insights/report.html",
        data=data,
        args=request.args,
        tables=analytics.TABLES,
        resolved=resolved,
        languages=state().settings.languages,
    )


@pages.get("/export/<table>.csv")
def export(table: str):
    if table not in analytics.TABLES:
        abort(404)
    data = build_report(period_from_args(request.args), clusters=table == "clusters")
    return csv_response(analytics.table_rows(data, table), f"insights-{table}")


def _draft_from_conversation(conversation_id: int) -> tuple[Draft, str]:
    conversation = db().get(Conversation, conversation_id)
    if conversation is None:
        abort(404)
    replies = [
        m.content
        for m in conversation.messages
        if m.sender_type == "agent" and m.message_type == "outgoing" and not m.private and m.content.strip()
    ]
    questions = [conversation.question.strip()] if conversation.question.strip() else []
    return Draft(
        id="", language=conversation.language, questions=questions, answer=replies[-1].strip() if replies else ""
    ), f"conversation:{conversation.id}"


def _draft_from_cluster(number: int) -> tuple[Draft, str]:
    """A draft that starts from the cluster's most typical question (its medoid), in the medoid's language."""
    data = build_report(period_from_args(request.args))
    cluster = next((c for c in data["clusters"] if c["cluster"] == number), None)
    if cluster is None:
        abort(404)
    return (
        Draft(id="", language=cluster["medoid_language"], questions=cluster["examples"][:5], answer=""),
        f"cluster:{cluster['medoid'][:80]}",
    )


@pages.get("/faq/new")
def new_entry():
    origin = None
    if request.args.get("conversation", type=int):
        draft, origin = _draft_from_conversation(request.args.get("conversation", type=int))
    elif request.args.get("cluster", type=int):
        draft, origin = _draft_from_cluster(request.args.get("cluster", type=int))
    else:
        draft = Draft(id="", language="", questions=[], answer="")
    return _editor(draft, origin=origin, is_new=True)


@pages.get("/faq/edit")
def edit_entry():
    entry = faq_publish.find_entry(insights().faq_path(), request.args.get("id", ""), request.args.get("language", ""))
    if entry is None:
        abort(404)
    draft = Draft(entry.id, entry.language, list(entry.questions), entry.answer, entry.url, list(entry.tags))
    return _editor(draft, is_new=False, source=entry.source)


def _problems(exc: ServiceError) -> list[dict]:
    """Why a draft was not published, each sentence in the admin's language; the form field it is about as code."""
    problems = []
    for template, values in exc.parts:
        if "field" in values:
            values = {**values, "field": Markup("<code>%s</code>") % values["field"]}
        problems.append({"field": "", "message": Markup(_(template)) % values if values else _(template)})
    return problems


def _editor(
    draft: Draft,
    origin: str | None = None,
    is_new: bool = True,
    source: str | None = None,
    problems: list | None = None,
    preview: str | None = None,
    status: int = 200,
):
    return render_template(
        "insights/faq_edit.html",
        draft=draft,
        origin=origin,
        is_new=is_new,
        source=source,
        problems=problems or [],
        preview=preview,
        languages=state().settings.languages,
    ), status


@pages.post("/faq")
def save_entry():
    draft = Draft.from_form(request.form)
    origin = request.form.get("origin") or None
    is_new = request.form.get("is_new") == "1"
    holder = insights()
    if request.form.get("action") == "preview":
        try:
            faq_publish._check_draft(draft, state().settings.languages)
        except Invalid as exc:
            return _editor(draft, origin, is_new, problems=_problems(exc), status=422)
        from knowledge_base.sources.writer import entry_yaml

        return _editor(draft, origin, is_new, preview=entry_yaml(draft.to_source()))
    if request.form.get("confirm") != "yes":
        # Publishing changes what every customer reads from the next message: never on a stray click.
        return _editor(
            draft,
            origin,
            is_new,
            status=422,
            problems=[
                {
                    "field": "confirm",
                    "message": _("Tick “Publish to customers now” to publish; Review shows what goes out."),
                }
            ],
        )
    try:
        change = faq_publish.publish(
            db(),
            holder.kb,
            holder.faq_path(),
            draft,
            g.agent,
            state().settings.languages,
            origin=origin,
            expect_new=is_new,
        )
    except ServiceError as exc:
        db().rollback()
        return _editor(draft, origin, is_new, problems=_problems(exc), status=exc.status)
    flash(
        _(
            "Published %(entry)s (%(language)s) to %(source)s; the bot answers it from the next message.",
            entry=change.entry_id,
            language=change.language,
            source=change.source,
        ),
        "info",
    )
    return redirect(url_for("insights.entries"))


@pages.get("/faq")
def entries():
    language = request.args.get("language") or None
    listed = [e for e in faq_publish.current_entries(insights().faq_path()) if language in (None, e.language)]
    changes = db().scalars(select(FaqChange).order_by(FaqChange.id.desc()).limit(50)).all()
    return render_template(
        "insights/faq_list.html",
        entries=listed,
        changes=changes,
        languages=state().settings.languages,
        language=language,
    )


@pages.post("/faq/retire")
def retire_entry():
    holder = insights()
    change = faq_publish.retire(
        db(), holder.kb, holder.faq_path(), request.form.get("id", ""), request.form.get("language", ""), g.agent
    )
    flash(_("Retired %(entry)s (%(language)s).", entry=change.entry_id, language=change.language), "info")
    return redirect(url_for("insights.entries"))


@pages.errorhandler(ServiceError)
def _service_error(exc: ServiceError):
    db().rollback()
    flash(exc.translated(_), "error")
    return redirect(url_for("insights.entries"))
