"""Callback requests: the customer asked to be called or mailed back in a time window."""
from __future__ import annotations

from datetime import datetime
from typing import TYPE_CHECKING, Any

from sqlalchemy import CheckConstraint, ForeignKey, Index, String, Text
from sqlalchemy.orm import Mapped, mapped_column, relationship

from .base import Base, utcnow

if TYPE_CHECKING:
    from .conversations import Conversation
    from .people import Agent, Contact

CALLBACK_STATUSES = ("pending", "claimed", "done", "no_answer", "cancelled")
OPEN_CALLBACK_STATUSES = ("pending", "claimed")


class CallbackRequest(Base):
    """pending -> claimed -> done | no_answer (retried until attempts run out) | cancelled."""

    __tablename__ = "callback_requests"
    __table_args__ = (
        CheckConstraint(
            "status IN ('pending', 'claimed', 'done', 'no_answer', 'cancelled')", name="status"
        ),
        CheckConstraint("contact_method IN ('phone', 'email')", name="contact_method"),
        CheckConstraint("window_end > window_start", name="window"),
        Index("ix_callback_requests_status_window", "status", "window_start"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    reference: Mapped[str] = mapped_column(String(16), unique=True)
    contact_id: Mapped[int] = mapped_column(ForeignKey("contacts.id", ondelete="CASCADE"), index=True)
    conversation_id: Mapped[int | None] = mapped_column(
        ForeignKey("conversations.id", ondelete="SET NULL"), index=True
    )
    channel: Mapped[str] = mapped_column(String(64))
    sender_id: Mapped[str] = mapped_column(String(255))
    language: Mapped[str] = mapped_column(String(8))
    contact_method: Mapped[str] = mapped_column(String(8))
    contact_value: Mapped[str] = mapped_column(String(254))
    window_start: Mapped[datetime]
    window_end: Mapped[datetime]
    window_tz: Mapped[str] = mapped_column(String(8), default="+00:00")
    consent_at: Mapped[datetime]
    status: Mapped[str] = mapped_column(String(16), default="pending")
    assignee_id: Mapped[int | None] = mapped_column(ForeignKey("agents.id", ondelete="SET NULL"))
    attempts: Mapped[int] = mapped_column(default=0)
    retry_at: Mapped[datetime | None]
    transcript: Mapped[list[Any] | None]
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(default=utcnow)
    closed_at: Mapped[datetime | None]

    contact: Mapped["Contact"] = relationship(back_populates="callbacks")
    conversation: Mapped["Conversation | None"] = relationship()
    assignee: Mapped["Agent | None"] = relationship(back_populates="callbacks")
    events: Mapped[list["CallbackEvent"]] = relationship(
        back_populates="callback", order_by="CallbackEvent.id", cascade="all, delete-orphan"
    )

    @property
    def is_open(self) -> bool:
        return self.status in OPEN_CALLBACK_STATUSES

    def due_from(self) -> datetime:
        """When the next attempt is due: the window start, or the retry time after no answer."""
        if self.retry_at and self.retry_at > self.window_start:
            return self.retry_at
        return self.window_start


class CallbackEvent(Base):
    """The history of one callback: requested, claimed, attempts and their outcome, notes."""

    __tablename__ = "callback_events"

    id: Mapped[int] = mapped_column(primary_key=True)
    callback_id: Mapped[int] = mapped_column(
        ForeignKey("callback_requests.id", ondelete="CASCADE"), index=True
    )
    agent_id: Mapped[int | None] = mapped_column(ForeignKey("agents.id", ondelete="SET NULL"))
    kind: Mapped[str] = mapped_column(String(32))
    note: Mapped[str | None] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)

    callback: Mapped[CallbackRequest] = relationship(back_populates="events")
    agent: Mapped["Agent | None"] = relationship()
