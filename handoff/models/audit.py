"""The security audit: privacy exports and deletions, retention runs, account lockouts and unlocks."""
from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import CheckConstraint, ForeignKey, String
from sqlalchemy.orm import Mapped, mapped_column

from .base import Base, utcnow

AUDIT_ACTIONS = ("privacy_export", "privacy_delete", "retention", "account_locked", "account_unlocked")


class AuditEvent(Base):
    """Who did what when; never personal content: customers appear only as a keyed hash."""

    __tablename__ = "audit_events"
    __table_args__ = (
        CheckConstraint(
            "action IN ('privacy_export', 'privacy_delete', 'retention', 'account_locked', 'account_unlocked')",
            name="action",
        ),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    action: Mapped[str] = mapped_column(String(32))
    actor: Mapped[str] = mapped_column(String(254))  # an admin's e-mail, "cli:<os user>" or "system"
    actor_agent_id: Mapped[int | None] = mapped_column(ForeignKey("agents.id", ondelete="SET NULL"))
    subject: Mapped[str | None] = mapped_column(String(254), index=True)  # customer hash or agent e-mail
    counts: Mapped[dict[str, Any] | None]
    note: Mapped[str | None] = mapped_column(String(500))
    created_at: Mapped[datetime] = mapped_column(default=utcnow, index=True)
