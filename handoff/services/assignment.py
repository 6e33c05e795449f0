"""The agents' side of a hand-off: claim, transfer, reply, note, resolve, return_to_bot, auto-assign."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from core.vocabulary import AGENT_JOINED, AGENT_MESSAGE, HANDOFF_ENDED, RETURNED_FROM_QUEUE
from handoff.models import Agent, Conversation, Message, utcnow

from .availability import online_agents, open_counts
from .errors import Conflict, Forbidden, Invalid, NotFound, Term, translatable
from .escalations import QueueConfig, announce_queue, get_conversation
from .events import console_event, send_to_customer
from .hours import get_service_settings
from .state import activity, transition


def _changed(session: Session, conversation: Conversation, *kinds: str) -> None:
    for kind in kinds or ("conversation",):
        console_event(session, kind, conversation.id)


# What an agent cannot do to a conversation that is not open, or not theirs: one whole sentence per action,
# so each translates as a sentence.
_NOT_OPEN = {
    "transfer": translatable("Cannot transfer: the conversation is %(status)s."),
    "resolve": translatable("Cannot resolve: the conversation is %(status)s."),
    "return": translatable("Cannot return it to the bot: the conversation is %(status)s."),
}
_NOT_YOURS = {
    "transfer": translatable("Cannot transfer: the conversation belongs to %(name)s."),
    "resolve": translatable("Cannot resolve: the conversation belongs to %(name)s."),
    "return": translatable("Cannot return it to the bot: the conversation belongs to %(name)s."),
}


def _status(conversation: Conversation) -> Term:
    return Term(conversation.status, "status")


def _require_owner(conversation: Conversation, actor: Agent, action: str) -> None:
    if conversation.status != "open":
        raise Conflict(_NOT_OPEN[action], code="wrong_status", status=_status(conversation))
    if conversation.assignee_id != actor.id and not actor.is_admin:
        raise Forbidden(_NOT_YOURS[action], name=_assignee_name(conversation))


def _assignee_name(conversation: Conversation) -> str:
    return conversation.assignee.display_name if conversation.assignee else "nobody"


def _require_pending(conversation: Conversation) -> None:
    """Refuse a claim on a conversation that is not waiting (taken by someone else, or closed)."""
    if conversation.status != "pending":
        if conversation.status == "open":
            raise Conflict(
                translatable("%(name)s already took this conversation."),
                code="already_claimed",
                name=_assignee_name(conversation),
            )
        raise Conflict(
            translatable("The conversation is %(status)s; nothing to claim."),
            code="wrong_status",
            status=_status(conversation),
        )


def _lock_agent_under_capacity(session: Session, agent: Agent) -> None:
    """Lock the agent's row for this transaction; refuse an inactive agent or one at capacity (rolled back)."""
    # Lock the agent row (PostgreSQL) so two claims by one agent cannot both slip under capacity.
    locked = session.scalar(select(Agent).where(Agent.id == agent.id).with_for_update())
    if locked is None or not locked.active:
        raise Forbidden(translatable("This agent account is not active."))
    if open_counts(session, [agent.id])[agent.id] >= locked.capacity:
        session.rollback()
        raise Conflict(
            translatable("You already have %(n)s open conversations (your capacity); resolve one first."),
            code="at_capacity",
            n=locked.capacity,
        )


def claim(
    session: Session,
    conversation_id: int,
    agent: Agent,
    now: datetime | None = None,
    auto: bool = False,
    queue: QueueConfig | None = None,
) -> Conversation:
    """Take a waiting conversation; of two agents claiming at once exactly one succeeds."""
    now = now or utcnow()
    conversation = get_conversation(session, conversation_id)
    if conversation.status == "open" and conversation.assignee_id == agent.id:
        return conversation
    _require_pending(conversation)
    _lock_agent_under_capacity(session, agent)
    won = transition(
        session,
        conversation,
        ["pending"],
        status="open",
        assignee_id=agent.id,
        assigned_at=now,
        first_claimed_at=func.coalesce(Conversation.first_claimed_at, now),
    )
    if not won:
        session.rollback()
        conversation = get_conversation(session, conversation_id)
        raise Conflict(
            translatable("%(name)s already took this conversation."),
            code="already_claimed",
            name=_assignee_name(conversation),
        )
    activity(conversation, "auto_assigned" if auto else "claimed", now, agent.id, name=agent.display_name)
    send_to_customer(
        session,
        conversation.sender_id,
        AGENT_JOINED,
        {"agent_name": agent.display_name},
        conversation_id=conversation.id,
        now=now,
    )
    _changed(session, conversation, "queue", "conversation")
    session.commit()
    announce_queue(session, queue, now)  # everyone behind moves up one place
    return conversation


def transfer(
    session: Session,
    conversation_id: int,
    actor: Agent,
    target_id: int | None,
    now: datetime | None = None,
    queue: QueueConfig | None = None,
) -> Conversation:
    """Hand an open conversation to another agent, or back to the queue when ``target_id`` is None."""
    now = now or utcnow()
    conversation = get_conversation(session, conversation_id)
    _require_owner(conversation, actor, "transfer")
    current = conversation.assignee_id
    same_owner = [Conversation.assignee_id == current]
    if target_id is None:
        if not transition(
            session,
            conversation,
            ["open"],
            same_owner,
            status="pending",
            assignee_id=None,
            assigned_at=None,
            queue_told=None,
        ):
            raise Conflict(translatable("The conversation changed meanwhile; reload."), code="wrong_status")
        activity(conversation, "requeued", now, actor.id, name=actor.display_name)
        # It keeps its original place: the customer learns it (announced below), everyone behind moves back one.
    else:
        target = session.get(Agent, target_id)
        if target is None or not target.active:
            raise NotFound(translatable("That agent does not exist or is deactivated."))
        if target.id == current:
            raise Invalid(translatable("%(name)s already has this conversation."), name=target.display_name)
        if not transition(session, conversation, ["open"], same_owner, assignee_id=target.id, assigned_at=now):
            raise Conflict(translatable("The conversation changed meanwhile; reload."), code="wrong_status")
        activity(conversation, "transferred", now, actor.id, name=actor.display_name, target=target.display_name)
        send_to_customer(
            session,
            conversation.sender_id,
            AGENT_JOINED,
            {"agent_name": target.display_name},
            conversation_id=conversation.id,
            now=now,
        )
    _changed(session, conversation, "queue", "conversation")
    session.commit()
    announce_queue(session, queue, now)
    return conversation


def _end(
    session: Session,
    conversation: Conversation,
    actor: Agent,
    outcome: str,
    from_statuses,
    extra,
    now,
    queue: QueueConfig | None = None,
) -> None:
    status = "resolved" if outcome == "resolved" else "returned"
    was_waiting = conversation.status == "pending"
    # Nobody had talked with a customer taken out of the queue: the bot must not ask them to rate the help.
    told = RETURNED_FROM_QUEUE if was_waiting and conversation.first_claimed_at is None else outcome
    if not transition(session, conversation, from_statuses, extra, status=status, ended_at=now, end_reason=outcome):
        session.rollback()
        raise Conflict(translatable("The conversation changed meanwhile; reload."), code="wrong_status")
    activity(conversation, status, now, actor.id, name=actor.display_name)
    send_to_customer(
        session,
        conversation.sender_id,
        HANDOFF_ENDED,
        {"handoff_outcome": told},
        conversation_id=conversation.id,
        now=now,
    )
    _changed(session, conversation, "queue", "conversation")
    session.commit()
    announce_queue(session, queue, now)  # those behind move up; a freed agent shortens everyone's wait


def resolve(
    session: Session, conversation_id: int, actor: Agent, now: datetime | None = None, queue: QueueConfig | None = None
) -> Conversation:
    """Close an open conversation as solved; the bot then asks the customer for a rating."""
    conversation = get_conversation(session, conversation_id)
    _require_owner(conversation, actor, "resolve")
    _end(
        session,
        conversation,
        actor,
        "resolved",
        ["open"],
        [Conversation.assignee_id == conversation.assignee_id],
        now or utcnow(),
        queue,
    )
    return conversation


def return_to_bot(
    session: Session, conversation_id: int, actor: Agent, now: datetime | None = None, queue: QueueConfig | None = None
) -> Conversation:
    """Give the conversation back to the bot, from the queue or from the agent who has it."""
    conversation = get_conversation(session, conversation_id)
    if conversation.status == "open":
        _require_owner(conversation, actor, "return")
        extra = [Conversation.assignee_id == conversation.assignee_id]
    elif conversation.status == "pending":
        extra = []
    else:
        raise Conflict(
            translatable("The conversation is already %(status)s."), code="wrong_status", status=_status(conversation)
        )
    _end(session, conversation, actor, "returned", ["pending", "open"], extra, now or utcnow(), queue)
    return conversation


def _check_text(text: str, limit: int) -> str:
    text = (text or "").strip()
    if not text:
        raise Invalid(translatable("Write something first."))
    if len(text) > limit:
        raise Invalid(translatable("Too long: %(n)s characters, at most %(limit)s."), n=len(text), limit=limit)
    return text


def reply(
    session: Session, conversation_id: int, actor: Agent, text: str, limit: int = 4000, now: datetime | None = None
) -> Message:
    """Send the customer a message on their channel (through the outbox to Rasa)."""
    now = now or utcnow()
    text = _check_text(text, limit)
    conversation = get_conversation(session, conversation_id)
    if conversation.status != "open":
        raise Conflict(
            translatable("Cannot reply: the conversation is %(status)s. Claim it first."),
            code="wrong_status",
            status=_status(conversation),
        )
    if conversation.assignee_id != actor.id:
        raise Forbidden(
            translatable("Cannot reply: %(name)s has this conversation."), name=_assignee_name(conversation)
        )
    message = Message(message_type="outgoing", sender_type="agent", agent_id=actor.id, content=text, created_at=now)
    conversation.messages.append(message)
    session.flush()
    send_to_customer(
        session,
        conversation.sender_id,
        AGENT_MESSAGE,
        {"agent_text": text, "agent_name": actor.display_name, "message_id": message.id},
        conversation_id=conversation.id,
        message_id=message.id,
        now=now,
    )
    _changed(session, conversation)
    session.commit()
    return message


def add_note(
    session: Session, conversation_id: int, actor: Agent, text: str, limit: int = 4000, now: datetime | None = None
) -> Message:
    """A private note for colleagues; never sent to the customer."""
    now = now or utcnow()
    text = _check_text(text, limit)
    conversation = get_conversation(session, conversation_id)
    message = Message(
        message_type="outgoing", sender_type="agent", agent_id=actor.id, content=text, private=True, created_at=now
    )
    conversation.messages.append(message)
    session.flush()
    _changed(session, conversation)
    session.commit()
    return message


def auto_assign(session: Session, presence_timeout: int, now: datetime | None = None) -> int:
    """When enabled, give waiting conversations (oldest first) to the least busy online agent."""
    now = now or utcnow()
    if not get_service_settings(session).auto_assign:
        session.rollback()
        return 0
    waiting = session.scalars(
        select(Conversation).where(Conversation.status == "pending").order_by(Conversation.created_at, Conversation.id)
    ).all()
    agents = online_agents(session, now, presence_timeout)
    counts = open_counts(session, [agent.id for agent in agents])
    assigned = 0
    for conversation in waiting:
        free = [a for a in agents if a.speaks(conversation.language) and counts[a.id] < a.capacity]
        if not free:
            continue
        agent = min(free, key=lambda a: (counts[a.id] / a.capacity, counts[a.id], a.id))
        try:
            claim(session, conversation.id, agent, now, auto=True, queue=QueueConfig(presence_timeout))
        except (Conflict, Forbidden):
            session.rollback()
            continue
        counts[agent.id] += 1
        assigned += 1
    session.rollback()
    return assigned
