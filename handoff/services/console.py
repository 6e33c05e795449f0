"""Read-side queries for the console: the queue, someone's conversations, counts, history."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import func, select
from sqlalchemy.orm import Session, selectinload

from handoff.models import (
    OPEN_CALLBACK_STATUSES,
    Agent,
    CallbackRequest,
    Conversation,
    Message,
    OutboxItem,
    utcnow,
)

from .availability import online_agents, open_counts
from .callbacks import urgency


CHANNEL_NAMES = {"socketio": "Widget", "facebook": "Messenger", "rest": "REST"}
MIN_SUGGESTION_WORDS = 2  # "Hallo?" or "Danke" make poor knowledge-base queries


def channel_name(channel: str | None) -> str:
    return CHANNEL_NAMES.get(channel or "", (channel or "").capitalize())


def customer_label(item, word: str = "Customer", short: bool = False) -> str:
    """How the console names a customer: their name if they gave one, else "Customer 1042 · Widget · de"
    ("Customer 1042" when ``short``, e.g. beside each of their messages).

    ``item`` is a conversation or callback (anything with ``contact``, ``channel`` and ``language``);
    the number is the contact's id: short, stable for the customer on that channel, and no secret.
    """
    contact = item.contact
    if contact is not None and (contact.name or "").strip():
        return contact.name.strip()
    number = contact.id if contact is not None else "?"
    if short:
        return f"{word} {number}"
    parts = [f"{word} {number}", channel_name(item.channel), item.language or ""]
    return " · ".join(part for part in parts if part)


@dataclass(frozen=True)
class Counts:
    waiting: int
    mine: int
    callbacks_due: int
    agents_online: int


def waiting(session: Session) -> list[Conversation]:
    """The queue, oldest first."""
    return list(
        session.scalars(
            select(Conversation)
            .where(Conversation.status == "pending")
            .options(selectinload(Conversation.contact))
            .order_by(Conversation.created_at, Conversation.id)
        )
    )


def waiting_ids(session: Session) -> list[int]:
    """Who is in the queue right now, as ids: what a console page knew when it was drawn."""
    return list(
        session.scalars(select(Conversation.id).where(Conversation.status == "pending").order_by(Conversation.id))
    )


def open_conversations(
    session: Session, agent: Agent | None = None, others_of: Agent | None = None
) -> list[Conversation]:
    query = (
        select(Conversation)
        .where(Conversation.status == "open")
        .options(selectinload(Conversation.contact), selectinload(Conversation.assignee))
        .order_by(Conversation.assigned_at)
    )
    if agent is not None:
        query = query.where(Conversation.assignee_id == agent.id)
    if others_of is not None:
        query = query.where(Conversation.assignee_id != others_of.id)
    return list(session.scalars(query))


def last_customer_message(session: Session, conversation_ids: list[int]) -> dict[int, Message]:
    if not conversation_ids:
        return {}
    newest = (
        select(func.max(Message.id))
        .where(Message.conversation_id.in_(conversation_ids), Message.sender_type == "contact")
        .group_by(Message.conversation_id)
    )
    messages = session.scalars(select(Message).where(Message.id.in_(newest)))
    return {message.conversation_id: message for message in messages}


def counts(session: Session, agent: Agent, presence_timeout: int, now: datetime | None = None) -> Counts:
    now = now or utcnow()
    waiting_count = session.scalar(
        select(func.count()).select_from(Conversation).where(Conversation.status == "pending")
    )
    mine = session.scalar(
        select(func.count())
        .select_from(Conversation)
        .where(Conversation.status == "open", Conversation.assignee_id == agent.id)
    )
    open_callbacks = session.scalars(
        select(CallbackRequest).where(CallbackRequest.status.in_(OPEN_CALLBACK_STATUSES))
    ).all()
    due = sum(1 for callback in open_callbacks if urgency(callback, now) in ("due", "overdue"))
    return Counts(int(waiting_count or 0), int(mine or 0), due, len(online_agents(session, now, presence_timeout)))


def team(session: Session, presence_timeout: int, now: datetime | None = None) -> list[tuple[Agent, bool, int]]:
    """Every active agent with whether they count as online and how many conversations they have."""
    now = now or utcnow()
    agents = list(session.scalars(select(Agent).where(Agent.active.is_(True)).order_by(Agent.display_name)))
    online = {agent.id for agent in online_agents(session, now, presence_timeout)}
    loads = open_counts(session, [agent.id for agent in agents])
    return [(agent, agent.id in online, loads[agent.id]) for agent in agents]


def history(session: Session, status: str | None = None, limit: int = 200) -> list[Conversation]:
    query = (
        select(Conversation)
        .options(selectinload(Conversation.contact), selectinload(Conversation.assignee))
        .order_by(Conversation.id.desc())
        .limit(limit)
    )
    if status:
        query = query.where(Conversation.status == status)
    return list(session.scalars(query))


def earlier_conversations(session: Session, conversation: Conversation) -> list[Conversation]:
    return list(
        session.scalars(
            select(Conversation)
            .where(Conversation.contact_id == conversation.contact_id, Conversation.id != conversation.id)
            .order_by(Conversation.id.desc())
            .limit(20)
        )
    )


def messages_after(session: Session, conversation_id: int, after_id: int) -> list[Message]:
    return list(
        session.scalars(
            select(Message)
            .where(Message.conversation_id == conversation_id, Message.id > after_id)
            .options(selectinload(Message.agent), selectinload(Message.delivery))
            .order_by(Message.id)
        )
    )


def deliveries(session: Session, conversation_id: int) -> list[OutboxItem]:
    return list(
        session.scalars(select(OutboxItem).where(OutboxItem.conversation_id == conversation_id).order_by(OutboxItem.id))
    )


def callbacks_for_conversation(session: Session, conversation_id: int) -> list[CallbackRequest]:
    return list(session.scalars(select(CallbackRequest).where(CallbackRequest.conversation_id == conversation_id)))


def suggestion_query(session: Session, conversation: Conversation) -> str:
    """What to suggest answers for: the customer's newest message, else the question the bot handed over.

    Newest among what the customer wrote since the hand-off and the questions the knowledge base saw
    before it (button clicks in the bot's transcript carry no verdict and are skipped), so suggestions
    follow the conversation instead of staying on its first question.
    """
    handed_over_at = session.scalar(
        select(func.min(Message.id)).where(Message.conversation_id == conversation.id, Message.sender_type == "system")
    )
    candidates = session.scalars(
        select(Message)
        .where(Message.conversation_id == conversation.id, Message.sender_type == "contact")
        .order_by(Message.id.desc())
        .limit(50)
    )
    for message in candidates:
        typed_later = handed_over_at is not None and message.id > handed_over_at
        if (typed_later or message.kb) and len(message.content.split()) >= MIN_SUGGESTION_WORDS:
            return message.content.strip()[:500]
    return (conversation.question or "").strip()[:500]
