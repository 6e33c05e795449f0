"""Publishing FAQ entries from the console: validated like the CLI, written to the FAQ sources, applied live.

The FAQ files under ``FAQ_PATH`` stay the single truth. A published entry replaces the entry with the
same id and language in the file that holds it, or is appended to ``<FAQ_PATH>/<language>.yml``
(created if missing); the other entries and their text are left as they are. The change is
checked by loading the whole FAQ folder with the changed file in a scratch copy
(``knowledge_base.load_entries``: the rules of ``python -m knowledge_base validate``), applied to this
process's index with ``kb.upsert(..., persist=True)`` / ``kb.remove(...)`` (journalled in its index
directory, so the index stays valid for the changed files), audited in ``faq_changes`` and stored as a
versioned change in ``faq_revisions`` (:mod:`handoff.services.faq_feed`). Every action server, on any
machine, follows those changes through ``GET /api/faq/changes`` and answers the entry within seconds.
"""
from __future__ import annotations

import re
import shutil
import tempfile
import threading
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any, Callable

import yaml
from sqlalchemy.orm import Session

from handoff.models import Agent, FaqChange, utcnow

from . import faq_feed
from .errors import Invalid, NotFound, ServiceError

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
        data: dict[str, Any] = {"id": self.id, "language": self.language, "questions": self.questions,
                                "answer": self.answer}
        if self.tags:
            data["tags"] = self.tags
        if self.url:
            data["url"] = self.url
        return data


def _entry_dict(entry: Any) -> dict[str, Any]:
    return {"id": entry.id, "language": entry.language, "questions": list(entry.questions), "answer": entry.answer,
            "tags": list(entry.tags), "url": entry.url}


def faq_root(faq_path: Path) -> Path:
    return faq_path if faq_path.is_dir() else faq_path.parent


def current_entries(faq_path: Path) -> list[Any]:
    from knowledge_base import load_entries

    return load_entries(faq_path)


def find_entry(faq_path: Path, entry_id: str, language: str) -> Any | None:
    return next((e for e in current_entries(faq_path) if e.id == entry_id and e.language == language), None)


class _Dumper(yaml.SafeDumper):
    """Block style, multi-line answers as literal blocks, like the hand-written sources."""


def _text(dumper: yaml.SafeDumper, value: str):
    style = "|" if "\n" in value else None
    return dumper.represent_scalar("tag:yaml.org,2002:str", value, style=style)


_Dumper.add_representer(str, _text)


def _block(data: dict[str, Any], indent: str) -> list[str]:
    text = yaml.dump([data], Dumper=_Dumper, allow_unicode=True, sort_keys=False, width=10_000,
                     default_flow_style=False, indent=2)
    lines = text.splitlines()
    return [indent + line if line else line for line in lines]


def _entry_spans(text: str, file: Path, entries: list[Any]) -> list[tuple[Any, int, int]]:
    """(entry, first line, end line) of every entry of ``file``, 0-based, end exclusive."""
    lines = text.splitlines()
    mine = sorted((e for e in entries if e.source == str(file) and e.line), key=lambda e: e.line)
    spans = []
    for position, entry in enumerate(mine):
        start = entry.line - 1
        end = mine[position + 1].line - 1 if position + 1 < len(mine) else len(lines)
        while end > start + 1 and not lines[end - 1].strip():
            end -= 1
        spans.append((entry, start, end))
    return spans


def _changed_text(faq_path: Path, entries: list[Any], draft: Draft | None, target: Any | None) -> tuple[Path, str]:
    """The file to write and its new text: ``target`` replaced by (or removed for) ``draft``."""
    if target is not None:
        file = Path(target.source)
        text = file.read_text(encoding="utf-8")
        lines = text.splitlines()
        span = next(s for s in _entry_spans(text, file, entries) if s[0].key == target.key)
        indent = re.match(r"\s*", lines[span[1]]).group(0)
        new = _block(draft.to_source(), indent) if draft else []
        lines[span[1]:span[2]] = new
        return file, "\n".join(lines) + "\n"
    if faq_path.is_file():
        file = faq_path
    else:
        file = faq_path / f"{draft.language}.yml"
    if not file.exists():
        return file, yaml.dump({"language": draft.language}, Dumper=_Dumper, sort_keys=False) + "entries:\n" + \
            "\n".join(_block(draft.to_source(), "  ")) + "\n"
    text = file.read_text(encoding="utf-8")
    spans = _entry_spans(text, file, entries)
    indent = "  "
    if spans:
        last = text.splitlines()[spans[-1][1]]
        indent = re.match(r"\s*", last).group(0)
    return file, text.rstrip("\n") + "\n" + "\n".join(_block(draft.to_source(), indent)) + "\n"


def _validate(faq_path: Path, file: Path, text: str) -> list[Any]:
    """Load the whole FAQ with ``file`` changed, in a scratch copy; FAQError lists every problem."""
    from knowledge_base import load_entries

    root = faq_root(faq_path)
    with tempfile.TemporaryDirectory(prefix="faq-check-") as scratch:
        copy = Path(scratch) / "faq"
        if faq_path.is_dir():
            shutil.copytree(root, copy, ignore=shutil.ignore_patterns(".*"))
            target = copy / file.relative_to(root)
            checked = copy
        else:
            copy.mkdir()
            target = copy / file.name
            checked = target
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_text(text, encoding="utf-8")
        return load_entries(checked)


def _check_draft(draft: Draft, languages: tuple[str, ...]) -> None:
    problems = []
    if not ID_PATTERN.match(draft.id):
        problems.append({"field": "id", "message": "must be lower-case letters, digits, - or _ (e.g. change-address)"})
    if draft.language not in languages:
        problems.append({"field": "language", "message": f"must be one of {', '.join(languages)}"})
    if not draft.questions:
        problems.append({"field": "questions", "message": "needs at least one question, one per line"})
    if not draft.answer:
        problems.append({"field": "answer", "message": "must not be empty"})
    if draft.url and not re.match(r"^https?://\S+$", draft.url):
        problems.append({"field": "url", "message": "must be an http(s) address"})
    if problems:
        raise Invalid("; ".join(f"{p['field']} {p['message']}" for p in problems), details=problems)


def _sources_after(faq_path: Path, file: Path, text: str) -> dict[str, str]:
    """The FAQ checksums once ``text`` is written to ``file``: the live index is valid for exactly those."""
    import hashlib

    from knowledge_base.sources import relative_checksums

    root = faq_path if faq_path.is_dir() else faq_path.parent
    sources = relative_checksums(faq_path) if faq_path.exists() else {}
    sources[str(Path(file).relative_to(root))] = hashlib.sha256(text.encode("utf-8")).hexdigest()
    return sources


def _write(file: Path, text: str) -> None:
    file.parent.mkdir(parents=True, exist_ok=True)
    staging = file.with_name(f".{file.name}.tmp")
    staging.write_text(text, encoding="utf-8")
    staging.replace(file)


def publish(session: Session, kb_provider: Callable[[], Any], faq_path: Path, draft: Draft, agent: Agent,
            languages: tuple[str, ...], origin: str | None = None, expect_new: bool = False) -> FaqChange:
    """Create or replace one entry: validate, apply to the live index, write the source, audit."""
    from knowledge_base import Entry, FAQError

    _check_draft(draft, languages)
    with _write_lock:
        entries = current_entries(faq_path)
        target = next((e for e in entries if e.key == (draft.id, draft.language)), None)
        if expect_new and target is not None:
            raise Invalid(f"an entry {draft.id!r} in {draft.language} exists already; edit it instead",
                          details=[{"field": "id", "message": "exists already"}])
        file, text = _changed_text(faq_path, entries, draft, target)
        try:
            _validate(faq_path, file, text)
        except FAQError as exc:
            raise Invalid(f"The FAQ would not load: {exc}", details=[{"field": "faq", "message": p}
                                                                     for p in exc.problems]) from None
        kb = _knowledge_base(kb_provider)
        live = "applied"
        try:
            # Live first: a reload in another process must not see the changed sources before the journal.
            kb.upsert(Entry(draft.id, draft.language, draft.questions, draft.answer, draft.tags, draft.url,
                            str(file)), persist=True, sources=_sources_after(faq_path, file, text))
        except FAQError as exc:
            raise Invalid(f"The knowledge base refused the entry: {exc}") from None
        _write(file, text)
        published = _entry_dict(draft)
        return faq_feed.commit_change(session, lambda: FaqChange(
            agent_id=agent.id, agent_email=agent.email, action="update" if target else "create", entry_id=draft.id,
            language=draft.language, source=str(file), origin=origin, live=live,
            before=_entry_dict(target) if target else None, after=asdict(draft), created_at=utcnow(),
        ), "upsert", published, draft.id, draft.language)


def retire(session: Session, kb_provider: Callable[[], Any], faq_path: Path, entry_id: str, language: str,
           agent: Agent) -> FaqChange:
    """Remove one entry (one language) from its source file and from the live index."""
    from knowledge_base import FAQError

    with _write_lock:
        entries = current_entries(faq_path)
        target = next((e for e in entries if e.key == (entry_id, language)), None)
        if target is None:
            raise NotFound(f"no FAQ entry {entry_id!r} in {language}")
        file, text = _changed_text(faq_path, entries, None, target)
        try:
            _validate(faq_path, file, text)
        except FAQError as exc:
            raise Invalid(f"The FAQ would not load without this entry: {exc}") from None
        _knowledge_base(kb_provider).remove(entry_id, language, persist=True,
                                            sources=_sources_after(faq_path, file, text))
        _write(file, text)
        return faq_feed.commit_change(session, lambda: FaqChange(
            agent_id=agent.id, agent_email=agent.email, action="retire", entry_id=entry_id, language=language,
            source=str(file), before=_entry_dict(target), after=None, created_at=utcnow(),
        ), "remove", None, entry_id, language)


def _knowledge_base(kb_provider: Callable[[], Any]) -> Any:
    try:
        kb = kb_provider()
    except Exception as exc:  # noqa: BLE001 - no index, no model: nothing is written
        raise KnowledgeBaseUnavailable(f"The live knowledge base is not available ({exc}); nothing was changed.") from None
    if kb is None:
        raise KnowledgeBaseUnavailable("The live knowledge base is not available; nothing was changed.")
    try:
        kb.reload_if_changed()
    except Exception as exc:  # noqa: BLE001
        raise KnowledgeBaseUnavailable(f"The live knowledge base could not be reloaded ({exc}); nothing was changed.") from None
    return kb
