"""Publishing FAQ entries from the console: validated like the CLI, written to the FAQ sources, applied live.

The FAQ files under ``FAQ_PATH`` stay the single truth. A published entry replaces the entry with the
same id and language in the file that holds it, or is appended to ``<FAQ_PATH>/<language>.yml``
(created if missing); the other entries and their text are left as they are
(:mod:`knowledge_base.sources.writer`). The change is checked by loading the whole FAQ folder with the
changed file in a scratch copy (the rules of ``python -m knowledge_base validate``), applied to this
process's index with ``kb.upsert(..., persist=True)`` / ``kb.remove(...)`` (journalled in its index
directory, so the index stays valid for the changed files), audited in ``faq_changes`` and stored as a
versioned change in ``faq_revisions`` (:mod:`handoff.services.faq_feed`). Every action server, on any
machine, follows those changes through ``GET /api/faq/changes`` and answers the entry within seconds.
"""

from __future__ import annotations

import re
import threading
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any, Callable

from sqlalchemy.orm import Session

from handoff.models import Agent, FaqChange, utcnow
from knowledge_base.sources import load_entries, writer

from . import faq_feed
from .errors import Invalid, NotFound, ServiceError, invalid_fields, translatable

ID_PATTERN = re.compile(r"^[a-z0-9][a-z0-9_\-]{0,99}$")
_write_lock = threading.Lock()


class KnowledgeBaseUnavailable(ServiceError):
    status = 503
    code = "knowledge_base_unavailable"


@dataclass
class Draft:
    """An entry as an admin fills it in."""

    id: str
    language: str
    questions: list[str]
    answer: str
    url: str | None = None
    tags: list[str] = field(default_factory=list)

    @classmethod
    def from_form(cls, form: Any) -> "Draft":
        """From a form or JSON: questions one per line (or a list), tags comma-separated (or a list)."""

        def listed(value: Any, split: str) -> list[str]:
            if isinstance(value, list):
                items = value
            else:
                items = re.split(split, str(value or ""))
            return [str(v).strip() for v in items if str(v).strip()]

        return cls(
            id=str(form.get("id") or "").strip(),
            language=str(form.get("language") or "").strip(),
            questions=list(dict.fromkeys(listed(form.get("questions"), r"\r?\n"))),
            answer=str(form.get("answer") or "").strip(),
            url=str(form.get("url") or "").strip() or None,
            tags=listed(form.get("tags"), r"[,;]"),
        )

    def to_source(self) -> dict[str, Any]:
        data: dict[str, Any] = {
            "id": self.id,
            "language": self.language,
            "questions": self.questions,
            "answer": self.answer,
        }
        if self.tags:
            data["tags"] = self.tags
        if self.url:
            data["url"] = self.url
        return data


def _entry_dict(entry: Any) -> dict[str, Any]:
    return {
        "id": entry.id,
        "language": entry.language,
        "questions": list(entry.questions),
        "answer": entry.answer,
        "tags": list(entry.tags),
        "url": entry.url,
    }


def current_entries(faq_path: Path) -> list[Any]:
    return load_entries(faq_path)


def find_entry(faq_path: Path, entry_id: str, language: str) -> Any | None:
    return next((e for e in current_entries(faq_path) if e.id == entry_id and e.language == language), None)


def _check_draft(draft: Draft, languages: tuple[str, ...]) -> None:
    problems: list[tuple[str, str, dict[str, Any]]] = []  # (field, sentence, values): errors.invalid_fields
    if not ID_PATTERN.match(draft.id):
        problems.append(
            ("id", translatable("%(field)s must be lower-case letters, digits, - or _ (e.g. change-address)"), {})
        )
    if draft.language not in languages:
        problems.append(
            ("language", translatable("%(field)s must be one of %(languages)s"), {"languages": ", ".join(languages)})
        )
    if not draft.questions:
        problems.append(("questions", translatable("%(field)s needs at least one question, one per line"), {}))
    if not draft.answer:
        problems.append(("answer", translatable("%(field)s must not be empty"), {}))
    if draft.url and not re.match(r"^https?://\S+$", draft.url):
        problems.append(("url", translatable("%(field)s must be an http(s) address"), {}))
    if problems:
        raise invalid_fields(problems)


def _checked_source(faq_path: Path, entries: list[Any], draft: Draft, target: Any) -> tuple[Path, str]:
    """The source file and its new text with ``draft`` in place of ``target``; Invalid when the FAQ would not load."""
    from knowledge_base import FAQError

    file, text = writer.changed_text(faq_path, entries, draft.to_source(), target)
    try:
        writer.check_changed(faq_path, file, text)
    except FAQError as exc:
        raise Invalid(
            translatable("The FAQ would not load: %(problems)s"),
            problems=str(exc),
            details=[{"field": "faq", "message": p} for p in exc.problems],
        ) from None
    return file, text


def _upsert_live(kb: Any, faq_path: Path, draft: Draft, file: Path, text: str) -> None:
    """Apply the entry to the live index (persisted, with the sources' checksums after the write)."""
    from knowledge_base import Entry, FAQError

    try:
        # Live first: a reload in another process must not see the changed sources before the journal.
        kb.upsert(
            Entry(draft.id, draft.language, draft.questions, draft.answer, draft.tags, draft.url, str(file)),
            persist=True,
            sources=writer.checksums_after(faq_path, file, text),
        )
    except FAQError as exc:
        raise Invalid(translatable("The knowledge base refused the entry: %(problem)s"), problem=str(exc)) from None


def publish(
    session: Session,
    kb_provider: Callable[[], Any],
    faq_path: Path,
    draft: Draft,
    agent: Agent,
    languages: tuple[str, ...],
    origin: str | None = None,
    expect_new: bool = False,
) -> FaqChange:
    """Create or replace one entry: validate, apply to the live index, write the source, audit."""
    _check_draft(draft, languages)
    with _write_lock:
        entries = current_entries(faq_path)
        target = next((e for e in entries if e.key == (draft.id, draft.language)), None)
        if expect_new and target is not None:
            raise Invalid(
                translatable("an entry %(entry)s in %(language)s exists already; edit it instead"),
                details=[{"field": "id", "message": "exists already"}],
                entry=repr(draft.id),
                language=draft.language,
            )
        file, text = _checked_source(faq_path, entries, draft, target)
        kb = _knowledge_base(kb_provider)
        live = "applied"
        _upsert_live(kb, faq_path, draft, file, text)
        writer.write_file(file, text)
        published = _entry_dict(draft)
        return faq_feed.commit_change(
            session,
            lambda: FaqChange(
                agent_id=agent.id,
                agent_email=agent.email,
                action="update" if target else "create",
                entry_id=draft.id,
                language=draft.language,
                source=str(file),
                origin=origin,
                live=live,
                before=_entry_dict(target) if target else None,
                after=asdict(draft),
                created_at=utcnow(),
            ),
            "upsert",
            published,
            draft.id,
            draft.language,
        )


def retire(
    session: Session, kb_provider: Callable[[], Any], faq_path: Path, entry_id: str, language: str, agent: Agent
) -> FaqChange:
    """Remove one entry (one language) from its source file and from the live index."""
    from knowledge_base import FAQError

    with _write_lock:
        entries = current_entries(faq_path)
        target = next((e for e in entries if e.key == (entry_id, language)), None)
        if target is None:
            raise NotFound(
                translatable("no FAQ entry %(entry)s in %(language)s"), entry=repr(entry_id), language=language
            )
        file, text = writer.changed_text(faq_path, entries, None, target)
        try:
            writer.check_changed(faq_path, file, text)
        except FAQError as exc:
            raise Invalid(
                translatable("The FAQ would not load without this entry: %(problems)s"), problems=str(exc)
            ) from None
        _knowledge_base(kb_provider).remove(
            entry_id, language, persist=True, sources=writer.checksums_after(faq_path, file, text)
        )
        writer.write_file(file, text)
        return faq_feed.commit_change(
            session,
            lambda: FaqChange(
                agent_id=agent.id,
                agent_email=agent.email,
                action="retire",
                entry_id=entry_id,
                language=language,
                source=str(file),
                before=_entry_dict(target),
                after=None,
                created_at=utcnow(),
            ),
            "remove",
            None,
            entry_id,
            language,
        )


def _knowledge_base(kb_provider: Callable[[], Any]) -> Any:
    try:
        kb = kb_provider()
    except Exception as exc:  # noqa: BLE001 - no index, no model: nothing is written
        raise KnowledgeBaseUnavailable(
            translatable("The live knowledge base is not available (%(reason)s); nothing was changed."),
            reason=str(exc),
        ) from None
    if kb is None:
        raise KnowledgeBaseUnavailable(translatable("The live knowledge base is not available; nothing was changed."))
    try:
        kb.reload_if_changed()
    except Exception as exc:  # noqa: BLE001
        raise KnowledgeBaseUnavailable(
            translatable("The live knowledge base could not be reloaded (%(reason)s); nothing was changed."),
            reason=str(exc),
        ) from None
    return kb
