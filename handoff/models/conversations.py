"""Conversations handed over by the bot, their messages, and the customer's satisfaction answer."""
from __future__ import annotations

from datetime import datetime
from typing import TYPE_CHECKING, Any

from sqlalchemy import CheckConstraint, ForeignKey, Index, String, Text
from sqlalchemy.orm import Mapped, mapped_column, relationship

from core.vocabulary import ACTIVE_STATUSES, STATUSES
from core.vocabulary import HANDOFF_REASONS as REASONS

from .base import Base, utcnow

if TYPE_CHECKING:
    from .operations import OutboxItem
    from .people import Agent, Contact

__all__ = ["ACTIVE_STATUSES", "REASONS", "STATUSES", "Conversation", "Message", "SatisfactionRating"]


class Conversation(Base):
    """An escalation (docs/architecture.md): pending (waiting in the queue) -> open (an agent has it) ->
    resolved / returned (to the bot) / cancelled. Chatwoot's status names; its "pending" means "with the bot"."""

    __tablename__ = "conversations"
    __table_args__ = (
        CheckConstraint(
            "status IN ('pending', 'open', 'resolved', 'cancelled', 'returned')", name="status"
        ),
        CheckConstraint("status != 'open' OR assignee_id IS NOT NULL", name="open_has_assignee"),
        Index("ix_conversations_status_created", "status", "created_at"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    contact_id: Mapped[int] = mapped_column(ForeignKey("contacts.id", ondelete="CASCADE"), index=True)
    channel: Mapped[str] = mapped_column(String(64))
    sender_id: Mapped[str] = mapped_column(String(255))
    language: Mapped[str] = mapped_column(String(8))
    reason: Mapped[str] = mapped_column(String(32))
    question: Mapped[str] = mapped_column(Text, default="")
    status: Mapped[str] = mapped_column(String(16), default="pending")
    assignee_id: Mapped[int | None] = mapped_column(
        ForeignKey("agents.id", ondelete="SET NULL"), index=True
    )
    accepting: Mapped[bool] = mapped_column(default=True)
    reason_not_accepting: Mapped[str | None] = mapped_column(String(32))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    first_claimed_at: Mapped[datetime | None]
    assigned_at: Mapped[datetime | None]
    ended_at: Mapped[datetime | None]
    end_reason: Mapped[str | None] = mapped_column(String(32))
    # What the waiting customer was last told about their place and wait (escalations.announce_queue).
    queue_told: Mapped[str | None] = mapped_column(String(255))

    contact: Mapped["Contact"] = relationship(back_populates="conversations")
    assignee: Mapped["Agent | None"] = relationship(back_populates="conversations")
    messages: Mapped[list["Message"]] = relationship(
        back_populates="conversation", order_by="Message.id", cascade="all, delete-orphan"
    )
    satisfaction: Mapped["SatisfactionRating | None"] = relationship(
        back_populates="conversation", cascade="all, delete-orphan"
    )

    @property
    def active(self) -> bool:
        return self.status in ACTIVE_STATUSES


class Message(Base):
    """incoming (customer), outgoing (bot or agent) or activity (what happened); notes are private."""

    __tablename__ = "messages"
    __table_args__ = (
        CheckConstraint("message_type IN ('incoming', 'outgoing', 'activity')", name="message_type"),
        CheckConstraint("sender_type IN ('contact', 'bot', 'agent', 'system')", name="sender_type"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    conversation_id: Mapped[int] = mapped_column(
        ForeignKey("conversations.id", ondelete="CASCADE"), index=True
    )
    message_type: Mapped[str] = mapped_column(String(16))
    sender_type: Mapped[str] = mapped_column(String(16))
    agent_id: Mapped[int | None] = mapped_column(ForeignKey("agents.id", ondelete="SET NULL"))
    content: Mapped[str] = mapped_column(Text, default="")
    private: Mapped[bool] = mapped_column(default=False)
    kb: Mapped[dict[str, Any] | None]
    # An activity line's key and parameters ({"key": "claimed", "name": "Sam"}: services/state.py), which the
    # console shows in the agent's language; content keeps the English sentence.
    activity: Mapped[dict[str, Any] | None]
    sent_at: Mapped[datetime | None]
    # An agent's reply shown in the customer's widget (the widget confirms it; Messenger does not).
    seen_at: Mapped[datetime | None]
    created_at: Mapped[datetime] = mapped_column(default=utcnow)

    conversation: Mapped[Conversation] = relationship(back_populates="messages")
    agent: Mapped["Agent | None"] = relationship()
    delivery: Mapped["OutboxItem | None"] = relationship(back_populates="message")

    @property
    def when(self) -> datetime:
        return self.sent_at or self.created_at


class SatisfactionRating(Base):
    """The customer's 1-5 answer to the survey after a hand-off ended."""

    __tablename__ = "satisfaction_ratings"
    __table_args__ = (CheckConstraint("score BETWEEN 1 AND 5", name="score"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    conversation_id: Mapped[int] = mapped_column(
        ForeignKey("conversations.id", ondelete="CASCADE"), unique=True
    )
    score: Mapped[int]
    created_at: Mapped[datetime] = mapped_column(default=utcnow)

    conversation: Mapped[Conversation] = relationship(back_populates="satisfaction")
