"""One conversation: transcript, live updates, claim, reply, notes, transfer, resolve, return to bot."""

from __future__ import annotations

from flask import flash, g, jsonify, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_babel import ngettext

from handoff.agents import back, bp
from handoff.security import wants_json
from handoff.extensions import db, state
from handoff.models import utcnow
from handoff.outbox import retry_now
from handoff.services import assignment, console
from handoff.services.canned import list_canned
from handoff.services.errors import Invalid
from handoff.services.escalations import get_conversation


def delivery_state(message) -> dict | None:
    """How far an agent's reply got: sending, retrying (Rasa unreachable), delivered or failed."""
    item = message.delivery
    if message.sender_type != "agent" or message.private or item is None:
        return None
    if item.status == "sent":
        # "sent": the customer's conversation has it (a closed widget gets it when reopened); "seen": the
        # widget confirmed it showed it. Messenger confirms nothing: Facebook keeps and delivers.
        if message.seen_at is not None:
            return {"state": "sent", "label": _("seen"), "error": ""}
        return {"state": "sent", "label": _("sent"), "error": ""}
    if item.status == "failed":
        return {"state": "failed", "label": _("not delivered"), "item_id": item.id, "error": item.last_error or ""}
    if item.attempts == 0:
        if (utcnow() - item.created_at).total_seconds() < 5:
            return {"state": "pending", "label": _("sending…"), "item_id": item.id, "error": ""}
        # Not tried yet: an earlier message to this customer has to get through first.
        return {
            "state": "pending",
            "label": _("pending: not delivered yet"),
            "item_id": item.id,
            "error": _("Waiting for earlier messages to this customer to be delivered"),
        }
    return {
        "state": "pending",
        "label": ngettext(
            "pending: retrying (%(num)d failed attempt)", "pending: retrying (%(num)d failed attempts)", item.attempts
        ),
        "item_id": item.id,
        "error": item.last_error or "",
    }


@bp.get("/conversations/<int:conversation_id>")
def conversation(conversation_id: int):
    session = db()
    conversation = get_conversation(session, conversation_id)
    messages = console.messages_after(session, conversation_id, 0)
    team = [
        entry
        for entry in console.team(session, state().settings.presence_timeout_seconds)
        if entry[0].id != conversation.assignee_id
    ]
    state().suggestions.warm_up()
    return render_template(
        "agents/conversation.html",
        conversation=conversation,
        messages=messages,
        delivery_state=delivery_state,
        earlier=console.earlier_conversations(session, conversation),
        callbacks=console.callbacks_for_conversation(session, conversation_id),
        canned=list_canned(session, conversation.language),
        team=team,
        suggest_query=console.suggestion_query(session, conversation),
        can_act=conversation.status == "open" and (conversation.assignee_id == g.agent.id or g.agent.is_admin),
        can_reply=conversation.status == "open" and conversation.assignee_id == g.agent.id,
        max_text=state().settings.max_text_chars,
    )


@bp.get("/conversations/<int:conversation_id>/live")
def conversation_live(conversation_id: int):
    """New messages after ``after`` as HTML, plus status and delivery states for the page to update."""
    session = db()
    conversation = get_conversation(session, conversation_id)
    after = request.args.get("after", type=int) or 0
    new = console.messages_after(session, conversation_id, after)
    html = render_template("agents/_messages.html", messages=new, delivery_state=delivery_state)
    states = {}
    for message in console.messages_after(session, conversation_id, 0):
        info = delivery_state(message)
        if info:
            states[str(message.id)] = info
    return jsonify(
        status=conversation.status,
        assignee_id=conversation.assignee_id,
        last_id=new[-1].id if new else after,
        html=html,
        deliveries=states,
        suggest_query=console.suggestion_query(session, conversation),
    )


@bp.get("/conversations/<int:conversation_id>/suggestions")
def suggestions(conversation_id: int):
    session = db()
    conversation = get_conversation(session, conversation_id)
    query = (request.args.get("q") or console.suggestion_query(session, conversation)).strip()[:500]
    result = state().suggestions.search(query, language=conversation.language, k=3)
    return jsonify(
        status=result.status,
        message=result.message,
        query=query,
        items=[
            {
                "entry_id": s.entry_id,
                "question": s.question,
                "answer": s.answer,
                "confidence": round(s.confidence, 3),
                "url": s.url,
            }
            for s in result.items
        ],
    )


@bp.post("/conversations/<int:conversation_id>/claim")
def claim(conversation_id: int):
    assignment.claim(db(), conversation_id, g.agent, queue=state().queue_config)
    if wants_json():
        return jsonify(ok=True, conversation_id=conversation_id)
    return redirect(url_for("agents.conversation", conversation_id=conversation_id))


@bp.post("/conversations/<int:conversation_id>/reply")
def reply(conversation_id: int):
    text = request.form.get("text", "")
    limit = state().settings.max_text_chars
    if request.form.get("kind") == "note":
        message = assignment.add_note(db(), conversation_id, g.agent, text, limit)
    else:
        message = assignment.reply(db(), conversation_id, g.agent, text, limit)
    if wants_json():
        return jsonify(ok=True, message_id=message.id)
    return redirect(url_for("agents.conversation", conversation_id=conversation_id) + f"#m{message.id}")


@bp.post("/conversations/<int:conversation_id>/transfer")
def transfer(conversation_id: int):
    raw = request.form.get("target", "")
    if raw not in ("", "queue") and not raw.isdigit():
        raise Invalid(_("Pick an agent or the queue."))
    target = int(raw) if raw.isdigit() else None
    conversation = assignment.transfer(db(), conversation_id, g.agent, target, queue=state().queue_config)
    if conversation.assignee:
        flash(
            _("Conversation #%(id)s went to %(who)s.", id=conversation_id, who=conversation.assignee.display_name),
            "info",
        )
    else:
        flash(_("Conversation #%(id)s is back in the queue.", id=conversation_id), "info")
    return redirect(url_for("agents.queue"))


@bp.post("/conversations/<int:conversation_id>/resolve")
def resolve(conversation_id: int):
    assignment.resolve(db(), conversation_id, g.agent, queue=state().queue_config)
    flash(_("Conversation #%(id)s resolved; the customer is asked for a rating.", id=conversation_id), "info")
    return back("agents.conversation", conversation_id=conversation_id)


@bp.post("/conversations/<int:conversation_id>/return")
def return_to_bot(conversation_id: int):
    assignment.return_to_bot(db(), conversation_id, g.agent, queue=state().queue_config)
    flash(_("Conversation #%(id)s is back with the bot.", id=conversation_id), "info")
    return back("agents.conversation", conversation_id=conversation_id)


@bp.post("/deliveries/<int:item_id>/retry")
def retry_delivery(item_id: int):
    retry_now(db(), item_id)
    if wants_json():
        return jsonify(ok=True)
    return back()
