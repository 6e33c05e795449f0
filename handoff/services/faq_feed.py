"""The published FAQ changes as a feed: recorded with a growing version, read back from any version on.

Every publish or retire from the console adds one :class:`FaqRevision`. Versions are handed out as
``max + 1`` one transaction at a time (SQLite: its single writer; PostgreSQL: a transaction-scoped
advisory lock; the primary key refuses a duplicate on any other engine, and the publisher retries), so
two publishers at once (two workers, two hosts) never take the same version, and a version becomes
visible only after every smaller one has committed: a reader that has seen N never misses a change below N.
"""

from __future__ import annotations

import shutil
from pathlib import Path
from typing import Any, Callable

from sqlalchemy import func, select, text
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session, sessionmaker

from handoff.models import FaqChange, FaqRevision

from .errors import Invalid

PAGE = 200
ATTEMPTS = 5
VERSION_LOCK = 0x4641_5152  # the advisory lock that hands out versions on PostgreSQL ("FAQR")


def commit_change(
    session: Session,
    change: Callable[[], FaqChange],
    op: str,
    entry: dict[str, Any] | None,
    entry_id: str,
    language: str,
) -> FaqChange:
    """Commit the audit row ``change()`` and its revision; retried when another publisher took the version."""
    for attempt in range(ATTEMPTS):
        audit = change()
        session.add(audit)
        session.flush()
        if session.get_bind().dialect.name == "postgresql":
            session.execute(text("SELECT pg_advisory_xact_lock(:key)"), {"key": VERSION_LOCK})
        version = (session.scalar(select(func.max(FaqRevision.version))) or 0) + 1
        session.add(
            FaqRevision(
                version=version,
                op=op,
                entry_id=entry_id,
                language=language,
                entry=entry,
                change_id=audit.id,
                created_at=audit.created_at,
            )
        )
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
    return {
        "version": rows[-1].version if rows else head(session),
        "more": more,
        "changes": [_change(row) for row in rows],
    }


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


def latest(session: Session) -> dict[tuple[str, str], dict[str, Any] | None]:
    """The last published state of every entry ever changed: (id, language) -> entry, or None when retired."""
    state: dict[tuple[str, str], dict[str, Any] | None] = {}
    for row in session.scalars(select(FaqRevision).order_by(FaqRevision.version)):
        state[(row.entry_id, row.language)] = row.entry if row.op == "upsert" else None
    return state


def export_faq(session: Session, faq_path: Path, out: Path) -> int:
    """The FAQ files under ``faq_path`` with every published change applied, written to the folder ``out``
    (the files to commit and build the next image from); returns how many entries changed."""
    from knowledge_base.sources import writer

    from .faq_publish import Draft, current_entries

    if out.exists() and any(out.iterdir()):
        raise Invalid(f"{out} is not empty; export into a new folder")
    shutil.copytree(writer.faq_root(faq_path), out, ignore=shutil.ignore_patterns(".*"), dirs_exist_ok=True)
    target_path = out / faq_path.name if faq_path.is_file() else out
    changed = 0
    for (entry_id, language), entry in latest(session).items():
        entries = current_entries(target_path)
        existing = next((e for e in entries if e.key == (entry_id, language)), None)
        draft = (
            Draft(
                entry["id"],
                entry["language"],
                list(entry["questions"]),
                entry["answer"],
                entry.get("url"),
                list(entry.get("tags") or []),
            )
            if entry
            else None
        )
        if (draft is None and existing is None) or (
            draft is not None and existing is not None and _same(existing, draft)
        ):
            continue
        file, text = writer.changed_text(target_path, entries, draft.to_source() if draft else None, existing)
        writer.write_file(file, text)
        changed += 1
    return changed


def import_faq(session: Session, faq_path: Path, agent_email: str, retire_missing: bool = False) -> list[FaqChange]:
    """Publish every entry of the FAQ files that differs from its last published state (a hand edit, a new
    entry), so every replica answers it; with ``retire_missing``, retire published entries the files lack."""
    from handoff.models import utcnow

    from .faq_publish import Draft, current_entries

    published = latest(session)
    changes = []
    entries = current_entries(faq_path)
    for entry in entries:
        draft = Draft(entry.id, entry.language, list(entry.questions), entry.answer, entry.url, list(entry.tags))
        before = published.get(entry.key)
        if entry.key in published and before is not None and _same_dict(before, draft):
            continue
        data = _draft_dict(draft)
        changes.append(
            commit_change(
                session,
                lambda: FaqChange(
                    agent_email=agent_email,
                    action="update" if before else "create",
                    entry_id=entry.id,
                    language=entry.language,
                    source=str(entry.source),
                    origin="import",
                    before=before,
                    after=data,
                    created_at=utcnow(),
                ),
                "upsert",
                data,
                entry.id,
                entry.language,
            )
        )
    if retire_missing:
        changes.extend(_retire_missing(session, published, {e.key for e in entries}, faq_path, agent_email))
    return changes


def _retire_missing(
    session: Session,
    published: dict[tuple[str, str], Any],
    present: set[tuple[str, str]],
    faq_path: Path,
    agent_email: str,
) -> list[FaqChange]:
    """Retire (one commit each) the published entries that are not ``present`` in the FAQ files."""
    from handoff.models import utcnow

    changes = []
    for (entry_id, language), before in published.items():
        if before is not None and (entry_id, language) not in present:
            changes.append(
                commit_change(
                    session,
                    lambda: FaqChange(
                        agent_email=agent_email,
                        action="retire",
                        entry_id=entry_id,
                        language=language,
                        source=str(faq_path),
                        origin="import",
                        before=before,
                        after=None,
                        created_at=utcnow(),
                    ),
                    "remove",
                    None,
                    entry_id,
                    language,
                )
            )
    return changes


def _draft_dict(draft: Any) -> dict[str, Any]:
    return {
        "id": draft.id,
        "language": draft.language,
        "questions": list(draft.questions),
        "answer": draft.answer,
        "tags": list(draft.tags),
        "url": draft.url,
    }


def _same(entry: Any, draft: Any) -> bool:
    return (list(entry.questions), entry.answer, list(entry.tags), entry.url) == (
        list(draft.questions),
        draft.answer,
        list(draft.tags),
        draft.url,
    )


def _same_dict(data: dict[str, Any], draft: Any) -> bool:
    return (list(data["questions"]), data["answer"], list(data.get("tags") or []), data.get("url")) == (
        list(draft.questions),
        draft.answer,
        list(draft.tags),
        draft.url,
    )
