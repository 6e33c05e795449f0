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


def activity(conversation: Conversation, text: str, now: datetime, agent_id: int | None = None) -> Message:
    """An activity line in the conversation: what happened, by whom."""
    message = Message(
        message_type="activity", sender_type="system", agent_id=agent_id, content=text, created_at=now
    )
    conversation.messages.append(message)
    return message
