"""Changing one entry in the FAQ sources: the YAML text of the file with that entry replaced, added or removed.

Only the entry's own lines change: the other entries, their wording and the comments stay as written.
A change is checked by loading the whole FAQ with the changed file in a scratch copy (the rules of
:func:`~knowledge_base.sources.reader.load_entries`, duplicates included) before it is written.
"""

from __future__ import annotations

import hashlib
import re
import shutil
import tempfile
from pathlib import Path
from typing import Any

import yaml

from ..types import Entry
from .reader import load_entries, relative_checksums


class _Dumper(yaml.SafeDumper):
    """Block style, multi-line answers as literal blocks, like the hand-written sources."""


def _text(dumper: yaml.SafeDumper, value: str):
    style = "|" if "\n" in value else None
    return dumper.represent_scalar("tag:yaml.org,2002:str", value, style=style)


_Dumper.add_representer(str, _text)


def entry_yaml(data: dict[str, Any]) -> str:
    """One entry (``id``, ``language``, ``questions``, ``answer``[, ``tags``, ``url``]) as a YAML list item."""
    return yaml.dump(
        [data], Dumper=_Dumper, allow_unicode=True, sort_keys=False, width=10_000, default_flow_style=False, indent=2
    )


def faq_root(faq_path: Path) -> Path:
    """The folder of the FAQ sources (``faq_path`` itself, or the folder of a single FAQ file)."""
    return faq_path if faq_path.is_dir() else faq_path.parent


def changed_text(
    faq_path: Path, entries: list[Entry], new: dict[str, Any] | None, target: Entry | None
) -> tuple[Path, str]:
    """The file to write and its new text: ``target`` (an entry of ``entries``, read from ``faq_path``) replaced
    by ``new`` (an entry as :func:`entry_yaml` takes it) or removed (``new`` None); without a ``target``,
    ``new`` appended to ``<faq_path>/<language>.yml`` (created if missing) or to the single FAQ file."""
    if target is not None:
        file = Path(target.source)
        text = file.read_text(encoding="utf-8")
        lines = text.splitlines()
        span = next(s for s in _entry_spans(text, file, entries) if s[0].key == target.key)
        indent = re.match(r"\s*", lines[span[1]]).group(0)
        lines[span[1] : span[2]] = _block(new, indent) if new else []
        return file, "\n".join(lines) + "\n"
    file = faq_path if faq_path.is_file() else faq_path / f"{new['language']}.yml"
    if not file.exists():
        return file, yaml.dump(
            {"language": new["language"]}, Dumper=_Dumper, sort_keys=False
        ) + "entries:\n" + "\n".join(_block(new, "  ")) + "\n"
    text = file.read_text(encoding="utf-8")
    spans = _entry_spans(text, file, entries)
    indent = "  "
    if spans:
        last = text.splitlines()[spans[-1][1]]
        indent = re.match(r"\s*", last).group(0)
    return file, text.rstrip("\n") + "\n" + "\n".join(_block(new, indent)) + "\n"


def check_changed(faq_path: Path, file: Path, text: str) -> list[Entry]:
    """Load the whole FAQ with ``file`` changed to ``text``, in a scratch copy; FAQError lists every problem."""
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


def checksums_after(faq_path: Path, file: Path, text: str) -> dict[str, str]:
    """The FAQ checksums (:func:`relative_checksums`) once ``text`` is written to ``file``."""
    sources = relative_checksums(faq_path) if faq_path.exists() else {}
    sources[str(Path(file).relative_to(faq_root(faq_path)))] = hashlib.sha256(text.encode("utf-8")).hexdigest()
    return sources


def write_file(file: Path, text: str) -> None:
    """Replace ``file`` by ``text`` at once (a reader sees the old or the new file, never half of one)."""
    file.parent.mkdir(parents=True, exist_ok=True)
    staging = file.with_name(f".{file.name}.tmp")
    staging.write_text(text, encoding="utf-8")
    staging.replace(file)


def _block(data: dict[str, Any], indent: str) -> list[str]:
    return [indent + line if line else line for line in entry_yaml(data).splitlines()]


def _entry_spans(text: str, file: Path, entries: list[Entry]) -> list[tuple[Entry, int, int]]:
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
