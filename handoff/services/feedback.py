"""Customer feedback on FAQ answers and the satisfaction rating after a hand-off."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy.orm import Session

from handoff.models import Feedback, SatisfactionRating, utcnow

from .contacts import upsert_contact
from .errors import Conflict
from .escalations import get_conversation
from .events import console_event
from .idempotency import Outcome, run_once


@dataclass(frozen=True)
class FeedbackInput:
    idempotency_key: str
    sender_id: str
    channel: str
    language: str
    entry_id: str
    helpful: bool
    question: str


def record_feedback(session: Session, data: FeedbackInput, now: datetime | None = None) -> Outcome:
    now = now or utcnow()

    def work(session: Session) -> tuple[int, dict[str, Any]]:
        contact = upsert_contact(session, data.channel, data.sender_id, now, data.language)
        feedback = Feedback(
            contact=contact,
            language=data.language,
            entry_id=data.entry_id,
            helpful=data.helpful,
            question=data.question,
            created_at=now,
        )
        session.add(feedback)
        session.flush()
        return 201, {"feedback_id": feedback.id}

    return run_once(session, "feedback", data.idempotency_key, data, work)


def record_satisfaction(
    session: Session, idempotency_key: str, conversation_id: int, score: int, now: datetime | None = None
) -> Outcome:
    """One rating per conversation; a second one with another key is a conflict."""
    now = now or utcnow()

    def work(session: Session) -> tuple[int, dict[str, Any]]:
        conversation = get_conversation(session, conversation_id)
        if conversation.satisfaction is not None:
            raise Conflict(f"conversation {conversation_id} was rated already", code="already_rated")
        rating = SatisfactionRating(conversation=conversation, score=score, created_at=now)
        session.add(rating)
        session.flush()
        console_event(session, "conversation", conversation.id)
        return 201, {"satisfaction_id": rating.id, "conversation_id": conversation.id, "score": score}

    return run_once(session, "satisfaction", idempotency_key, {"c": conversation_id, "s": score}, work)
