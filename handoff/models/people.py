"""People: agents who work the console, contacts who wrote to the bot, and login attempts."""
from __future__ import annotations

from datetime import datetime
from typing import TYPE_CHECKING

from sqlalchemy import CheckConstraint, Index, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from .base import Base, utcnow

if TYPE_CHECKING:
    from .callbacks import CallbackRequest
    from .conversations import Conversation

ROLES = ("agent", "admin")
PRESENCES = ("online", "away", "offline")


class Agent(Base):
    """A person in the console; admins also manage agents, hours and canned responses."""

    __tablename__ = "agents"
    __table_args__ = (
        CheckConstraint("role IN ('agent', 'admin')", name="role"),
        CheckConstraint("presence IN ('online', 'away', 'offline')", name="presence"),
        CheckConstraint("capacity >= 1", name="capacity"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    email: Mapped[str] = mapped_column(String(254), unique=True)
    display_name: Mapped[str] = mapped_column(String(100))
    password_hash: Mapped[str] = mapped_column(String(255))
    role: Mapped[str] = mapped_column(String(16), default="agent")
    languages: Mapped[str] = mapped_column(String(64), default="de,en")
    capacity: Mapped[int] = mapped_column(default=3)
    presence: Mapped[str] = mapped_column(String(16), default="offline")
    last_seen_at: Mapped[datetime | None]
    active: Mapped[bool] = mapped_column(default=True)
    session_version: Mapped[int] = mapped_column(default=1)
    failed_logins: Mapped[int] = mapped_column(default=0, server_default="0")  # in a row, reset on success
    locked_at: Mapped[datetime | None]  # set after too many failed logins; cleared by an admin or by time
    ui_language: Mapped[str | None] = mapped_column(String(8))  # the console's language; None: the browser's
    created_at: Mapped[datetime] = mapped_column(default=utcnow)

    conversations: Mapped[list["Conversation"]] = relationship(back_populates="assignee")
    callbacks: Mapped[list["CallbackRequest"]] = relationship(back_populates="assignee")

    @property
    def is_admin(self) -> bool:
        return self.role == "admin"

    @property
    def language_list(self) -> list[str]:
        return [lang for lang in self.languages.split(",") if lang]

    def speaks(self, language: str | None) -> bool:
        return language is None or language in self.language_list


class Contact(Base):
    """A customer as the bot knows them: one sender on one channel."""

    __tablename__ = "contacts"
    __table_args__ = (UniqueConstraint("channel", "sender_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    channel: Mapped[str] = mapped_column(String(64))
    sender_id: Mapped[str] = mapped_column(String(255))
    name: Mapped[str | None] = mapped_column(String(200))
    language: Mapped[str | None] = mapped_column(String(8))
    email: Mapped[str | None] = mapped_column(String(254))
    phone: Mapped[str | None] = mapped_column(String(32))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    last_seen_at: Mapped[datetime] = mapped_column(default=utcnow)

    conversations: Mapped[list["Conversation"]] = relationship(back_populates="contact")
    callbacks: Mapped[list["CallbackRequest"]] = relationship(back_populates="contact")


class LoginAttempt(Base):
    """One try to log in; failed ones in a recent window rate-limit further tries."""

    __tablename__ = "login_attempts"
    __table_args__ = (Index("ix_login_attempts_email_created", "email", "created_at"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    email: Mapped[str] = mapped_column(String(254))
    ip: Mapped[str] = mapped_column(String(64), index=True)
    success: Mapped[bool]
    created_at: Mapped[datetime] = mapped_column(default=utcnow, index=True)

