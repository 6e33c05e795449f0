"""Operator insight: what the knowledge base did with each question, and the FAQ change audit."""
from __future__ import annotations

from datetime import datetime
from typing import TYPE_CHECKING, Any

from sqlalchemy import CheckConstraint, ForeignKey, Index, String, Text
from sqlalchemy.orm import Mapped, mapped_column, relationship

from .base import Base, utcnow

if TYPE_CHECKING:
    from .people import Agent, Contact

EVENT_TYPES = ("kb_answer", "kb_clarify", "kb_decline", "none_of_these")
FAQ_ACTIONS = ("create", "update", "retire")


class BotEvent(Base):
    """One answer, clarification, decline or "none of these" the bot reported (POST /api/events)."""

    __tablename__ = "bot_events"
    __table_args__ = (
        CheckConstraint("type IN ('kb_answer', 'kb_clarify', 'kb_decline', 'none_of_these')", name="type"),
        Index("ix_bot_events_created_type", "created_at", "type"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    contact_id: Mapped[int] = mapped_column(ForeignKey("contacts.id", ondelete="CASCADE"), index=True)
    channel: Mapped[str] = mapped_column(String(64))
    sender_id: Mapped[str] = mapped_column(String(255))
    language: Mapped[str] = mapped_column(String(8))
    type: Mapped[str] = mapped_column(String(16))
    question: Mapped[str] = mapped_column(Text, default="")
    entry_id: Mapped[str | None] = mapped_column(String(200), index=True)
    confidence: Mapped[float | None]
    created_at: Mapped[datetime] = mapped_column(default=utcnow)

    contact: Mapped["Contact"] = relationship()


class FaqChange(Base):
    """Who created, changed or retired which FAQ entry when, with the entry before and after."""

    __tablename__ = "faq_changes"
    __table_args__ = (CheckConstraint("action IN ('create', 'update', 'retire')", name="action"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    agent_id: Mapped[int | None] = mapped_column(ForeignKey("agents.id", ondelete="SET NULL"), index=True)
    agent_email: Mapped[str] = mapped_column(String(254))
    action: Mapped[str] = mapped_column(String(16))
    entry_id: Mapped[str] = mapped_column(String(200), index=True)
    language: Mapped[str] = mapped_column(String(8))
    source: Mapped[str] = mapped_column(String(500))
    origin: Mapped[str | None] = mapped_column(String(100))
    before: Mapped[dict[str, Any] | None]
    after: Mapped[dict[str, Any] | None]
    live: Mapped[str] = mapped_column(String(500), default="applied")
    created_at: Mapped[datetime] = mapped_column(default=utcnow, index=True)

    agent: Mapped["Agent | None"] = relationship()
