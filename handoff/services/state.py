"""Atomic status transitions of a conversation and the activity lines they leave."""

from __future__ import annotations

from datetime import datetime
from typing import Any, Iterable

from sqlalchemy import update
from sqlalchemy.orm import Session

from handoff.models import Conversation, Message


def transition(
    session: Session,
    conversation: Conversation,
    from_statuses: Iterable[str],
    extra_conditions: Iterable[Any] = (),
    **values: Any,
) -> bool:
    """Set ``values`` only if the row is still in one of ``from_statuses`` (and the extra conditions).

    A conditional UPDATE is atomic on SQLite and PostgreSQL alike: of two agents claiming the
    same conversation at once, exactly one update matches a row.
    """
    result = session.execute(
        update(Conversation)
        .where(Conversation.id == conversation.id, Conversation.status.in_(tuple(from_statuses)), *extra_conditions)
        .values(**values)
        .execution_options(synchronize_session=False)
    )
    session.refresh(conversation)
    return result.rowcount == 1


# What an activity line says, by key: the key and its parameters are stored (Message.activity) and the console
# shows them in the agent's language (handoff/agents/words.py); the English sentence is kept as the message's
# content for exports and anything that reads text.
ACTIVITY_SENTENCES = {
    "auto_assigned": "{name} was assigned the conversation automatically.",
    "claimed": "{name} took the conversation.",
    "requeued": "{name} put the conversation back in the queue.",
    "transferred": "{name} transferred the conversation to {target}.",
    "resolved": "{name} resolved the conversation.",
    "returned": "{name} handed the conversation back to the bot.",
    "customer_left": "The customer left the conversation.",
    "switched_to_callback": "The customer switched to a callback request.",
    "cancelled": "The customer cancelled.",
    "handed_over": "Handed over by the bot: {reason}.",
}
REASON_SENTENCES = {
    "requested": "the customer asked for a person",
    "low_confidence": "the bot was not sure of the answer",
    "repeated_failure": "the bot failed repeatedly",
    "negative_feedback": "the customer said the answers did not help",
    "frustration": "the customer seemed frustrated",
}
# handed_over's `closed`: why hand-offs were not being taken (the customer was offered a callback).
CLOSED_SENTENCES = {"outside_business_hours": "outside business hours", "no_agents_online": "nobody online"}


def activity_sentence(key: str, params: dict[str, Any]) -> str:
    """The English sentence of an activity line."""
    if key != "handed_over":
        return ACTIVITY_SENTENCES[key].format(**params)
    sentence = ACTIVITY_SENTENCES[key].format(reason=REASON_SENTENCES.get(params["reason"], params["reason"]))
    if params.get("closed"):
        sentence += (
            f" Not taking hand-offs right now ({CLOSED_SENTENCES.get(params['closed'], 'nobody online')}); "
            "the customer was offered a callback."
        )
    return ("The bot handed over again. " + sentence) if params.get("again") else sentence


def activity(
    conversation: Conversation, key: str, now: datetime, agent_id: int | None = None, **params: Any
) -> Message:
    """An activity line in the conversation: what happened (``key``, one of ACTIVITY_SENTENCES), by whom."""
    message = Message(
        message_type="activity",
        sender_type="system",
        agent_id=agent_id,
        content=activity_sentence(key, params),
        activity={"key": key, **params},
        created_at=now,
    )
    conversation.messages.append(message)
    return message
