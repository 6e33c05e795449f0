"""The published FAQ changes every replica follows, in the order of their version."""
from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import CheckConstraint, ForeignKey, String
from sqlalchemy.orm import Mapped, mapped_column

from .base import Base, utcnow

REVISION_OPS = ("upsert", "remove")


class FaqRevision(Base):
    """One published change of one FAQ entry (one language); ``version`` only grows, without gaps in commit order.

    Action servers and the console's suggestions poll ``GET /api/faq/changes?since=N`` (or read this table)
    and lay the changes over their own index, so a change reaches every replica without a rebuild.
    """

    __tablename__ = "faq_revisions"
    __table_args__ = (CheckConstraint("op IN ('upsert', 'remove')", name="op"),)

    version: Mapped[int] = mapped_column(primary_key=True, autoincrement=False)
    op: Mapped[str] = mapped_column(String(8))
    entry_id: Mapped[str] = mapped_column(String(200), index=True)
    language: Mapped[str] = mapped_column(String(8))
    entry: Mapped[dict[str, Any] | None]  # id, language, questions, answer, tags, url; None when removed
    change_id: Mapped[int | None] = mapped_column(ForeignKey("faq_changes.id", ondelete="SET NULL"), index=True)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
