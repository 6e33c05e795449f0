"""The published FAQ changes as a feed: recorded with a growing version, read back from any version on.

Every publish or retire from the console adds one :class:`FaqRevision`. Versions are handed out as
``max + 1`` one transaction at a time (SQLite: its single writer; PostgreSQL: a transaction-scoped
advisory lock; the primary key refuses a duplicate on any other engine, and the publisher retries), so
two publishers at once (two workers, two hosts) never take the same version, and a version becomes
visible only after every smaller one has committed: a reader that has seen N never misses a change below N.
"""
from __future__ import annotations

from typing import Any, Callable

from sqlalchemy import func, select, text
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session, sessionmaker

from handoff.models import FaqChange, FaqRevision

PAGE = 200
ATTEMPTS = 5
VERSION_LOCK = 0x4641_5152  # the advisory lock that hands out versions on PostgreSQL ("FAQR")


def commit_change(session: Session, change: Callable[[], FaqChange], op: str, entry: dict[str, Any] | None,
                  entry_id: str, language: str) -> FaqChange:
    """Commit the audit row ``change()`` and its revision; retried when another publisher took the version."""
    for attempt in range(ATTEMPTS):
        audit = change()
        session.add(audit)
        session.flush()
        if session.get_bind().dialect.name == "postgresql":
            session.execute(text("SELECT pg_advisory_xact_lock(:key)"), {"key": VERSION_LOCK})
        version = (session.scalar(select(func.max(FaqRevision.version))) or 0) + 1
        session.add(FaqRevision(version=version, op=op, entry_id=entry_id, language=language, entry=entry,
                                change_id=audit.id, created_at=audit.created_at))
        try:
            session.commit()
            return audit
        except IntegrityError:
            session.rollback()
            if attempt == ATTEMPTS - 1:
                raise
    raise AssertionError("unreachable")


def head(session: Session) -> int:
    return int(session.scalar(select(func.max(FaqRevision.version))) or 0)


def changes_since(session: Session, since: int, limit: int = PAGE) -> dict[str, Any]:
    """The changes after ``since`` in version order, at most ``limit`` (see knowledge_base.follow.Fetch)."""
    rows = session.scalars(
        select(FaqRevision).where(FaqRevision.version > since).order_by(FaqRevision.version).limit(limit + 1)
    ).all()
    more = len(rows) > limit
    rows = rows[:limit]
    return {"version": rows[-1].version if rows else head(session), "more": more,
            "changes": [_change(row) for row in rows]}


def reader(session_factory: sessionmaker[Session]) -> Callable[[int], dict[str, Any]]:
    """``fetch(since)`` straight from the database, for a follower inside the handoff service."""

    def fetch(since: int) -> dict[str, Any]:
        with session_factory() as session:
            return changes_since(session, since)

    return fetch


def _change(row: FaqRevision) -> dict[str, Any]:
    data: dict[str, Any] = {"version": row.version, "op": row.op, "published_at": row.created_at.isoformat()}
    if row.op == "upsert":
        data["entry"] = row.entry
    else:
        data.update(id=row.entry_id, language=row.language)
    return data
