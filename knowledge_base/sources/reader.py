"""Reading FAQ sources: YAML files, CSV imports and folders of both, validated into entries."""

from __future__ import annotations

import csv
import hashlib
import io
from pathlib import Path

import yaml

from ..types import SUPPORTED_LANGUAGES, Entry, FAQError

SOURCE_SUFFIXES = (".yml", ".yaml", ".csv")
ENTRY_FIELDS = {"id", "language", "questions", "answer", "tags", "url"}
CSV_REQUIRED = ("id", "question", "answer")
CSV_OPTIONAL = ("language", "tags", "url")
CSV_DEFAULT_LANGUAGE = "en"


def source_files(path: str | Path) -> list[Path]:
    """The FAQ files behind a path: the file itself, or every source file under a folder."""
    path = Path(path)
    if path.is_file():
        return [path]
    if path.is_dir():
        files = sorted(
            p
            for p in path.rglob("*")
            if p.is_file()
            and p.suffix.lower() in SOURCE_SUFFIXES
            and not any(part.startswith(".") for part in p.relative_to(path).parts)
        )
        if not files:
            raise FAQError(f"{path}: no FAQ files (*.yml, *.yaml, *.csv) in this folder")
        return files
    raise FAQError(f"{path}: no such FAQ file or folder")


def source_checksums(path: str | Path) -> dict[str, str]:
    """sha256 of every source file, keyed by path as given, to tie an index to its sources."""
    return {str(p): hashlib.sha256(p.read_bytes()).hexdigest() for p in source_files(path)}


def relative_checksums(path: str | Path) -> dict[str, str]:
    """Source checksums keyed by path relative to the FAQ folder (or the file name), so moves don't matter."""
    path = Path(path)
    root = path if path.is_dir() else path.parent
    return {str(Path(p).relative_to(root)): digest for p, digest in source_checksums(path).items()}


def load_entries(path: str | Path) -> list[Entry]:
    """Read and validate every FAQ source under ``path``; raise FAQError listing all problems."""
    problems: list[str] = []
    entries: list[Entry] = []
    for file in source_files(path):
        if file.suffix.lower() == ".csv":
            entries.extend(_read_csv(file, problems))
        else:
            entries.extend(_read_yaml(file, problems))
    seen: dict[tuple[str, str], Entry] = {}
    for entry in entries:
        first = seen.get(entry.key)
        if first is not None:
            problems.append(
                f"{_where(entry.source, entry.line)}: entry {entry.id!r}: duplicate id in language "
                f"{entry.language!r} (first defined at {_where(first.source, first.line)})"
            )
        else:
            seen[entry.key] = entry
    if problems:
        raise FAQError(problems)
    return entries


def validate_entry(entry: Entry) -> list[str]:
    """Problems with one entry built in code (e.g. a live edit); empty when it is fine."""
    problems = []
    where = f"entry {entry.id!r}"
    if not isinstance(entry.id, str) or not entry.id.strip():
        problems.append("entry without an id")
    if entry.language not in SUPPORTED_LANGUAGES:
        problems.append(f"{where}: unknown language {entry.language!r} (supported: {', '.join(SUPPORTED_LANGUAGES)})")
    if not [q for q in entry.questions if isinstance(q, str) and q.strip()]:
        problems.append(f"{where}: no questions")
    if not isinstance(entry.answer, str) or not entry.answer.strip():
        problems.append(f"{where}: missing or empty answer")
    return problems


def _where(source: str | None, line: int | None) -> str:
    if source is None:
        return "<memory>"
    return f"{source}:{line}" if line else str(source)


class _LineLoader(getattr(yaml, "CSafeLoader", yaml.SafeLoader)):
    """A safe YAML loader that remembers the line each mapping starts on (libyaml's when there: 14x faster,
    which every publish from the console waits for twice)."""


def _construct_mapping(loader: _LineLoader, node: yaml.MappingNode) -> dict:
    mapping = loader.construct_mapping(node, deep=True)
    mapping["__line__"] = node.start_mark.line + 1
    return mapping


_LineLoader.add_constructor(yaml.resolver.BaseResolver.DEFAULT_MAPPING_TAG, _construct_mapping)


def _read_yaml(file: Path, problems: list[str]) -> list[Entry]:
    try:
        data = yaml.load(file.read_text(encoding="utf-8"), Loader=_LineLoader)
    except UnicodeDecodeError as exc:
        problems.append(f"{file}: not UTF-8 text ({exc.reason})")
        return []
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        line = f":{mark.line + 1}" if mark is not None else ""
        detail = getattr(exc, "problem", None) or str(exc)
        problems.append(f"{file}{line}: bad YAML: {detail}")
        return []
    if not isinstance(data, dict) or not isinstance(data.get("entries"), list):
        problems.append(f"{file}: expected a mapping with a list under 'entries'")
        return []
    default_language = data.get("language")
    if default_language is not None and default_language not in SUPPORTED_LANGUAGES:
        problems.append(
            f"{file}:{data.get('__line__', 1)}: unknown file language {default_language!r} "
            f"(supported: {', '.join(SUPPORTED_LANGUAGES)})"
        )
        default_language = None
    entries = []
    for position, raw in enumerate(data["entries"], start=1):
        entry = _yaml_entry(file, position, raw, default_language, problems)
        if entry is not None:
            entries.append(entry)
    return entries


def _yaml_entry(file: Path, position: int, raw, default_language, problems: list[str]) -> Entry | None:
    if not isinstance(raw, dict):
        problems.append(f"{file}: entry #{position}: expected a mapping with id, questions and answer")
        return None
    line = raw.pop("__line__", None)
    entry_id = raw.get("id")
    name = f"entry {entry_id!r}" if isinstance(entry_id, str) and entry_id else f"entry #{position}"
    where = f"{file}:{line}: {name}"
    before = len(problems)
    if entry_id is None or not str(entry_id).strip() or isinstance(entry_id, (dict, list)):
        problems.append(f"{where}: missing id")
    elif not isinstance(entry_id, str):
        # YAML reads yes/no/on/off as booleans and 42 or 1e3 as numbers: `id: yes` would become the entry True.
        kind = "yes/no (a boolean)" if isinstance(entry_id, bool) else "a number"
        problems.append(f'{where}: id {entry_id!r} is read as {kind}, not text; put it in quotes (id: "...")')
    unknown = sorted(set(raw) - ENTRY_FIELDS)
    if unknown:
        problems.append(
            f"{where}: unknown field(s) {', '.join(map(repr, unknown))} (allowed: {', '.join(sorted(ENTRY_FIELDS))})"
        )
    language = raw.get("language", default_language)
    if language is None:
        problems.append(f"{where}: no language (set 'language' on the entry or at the top of the file)")
    elif language not in SUPPORTED_LANGUAGES:
        problems.append(f"{where}: unknown language {language!r} (supported: {', '.join(SUPPORTED_LANGUAGES)})")
    questions = raw.get("questions")
    if isinstance(questions, str):
        questions = [questions]
    if not isinstance(questions, list) or not questions:
        problems.append(f"{where}: empty or missing questions")
        questions = []
    elif any(not isinstance(q, (str, int, float)) or not str(q).strip() for q in questions):
        problems.append(f"{where}: every question must be non-empty text")
    answer = raw.get("answer")
    if not isinstance(answer, (str, int, float)) or not str(answer).strip():
        problems.append(f"{where}: missing or empty answer")
    tags = raw.get("tags") or []
    if isinstance(tags, str):
        tags = [tags]
    if not isinstance(tags, list) or any(isinstance(t, (dict, list)) for t in tags):
        problems.append(f"{where}: tags must be a list of words")
        tags = []
    url = raw.get("url")
    if url is not None and not isinstance(url, str):
        problems.append(f"{where}: url must be text")
    if len(problems) > before:
        return None
    return Entry(
        id=str(entry_id).strip(),
        language=language,
        questions=_unique(str(q).strip() for q in questions),
        answer=str(answer).strip(),
        tags=[str(t) for t in tags],
        url=url,
        source=str(file),
        line=line,
    )


def _read_csv(file: Path, problems: list[str]) -> list[Entry]:
    try:
        text = file.read_text(encoding="utf-8-sig")
    except UnicodeDecodeError as exc:
        problems.append(f"{file}: not UTF-8 text ({exc.reason})")
        return []
    reader = csv.DictReader(io.StringIO(text))
    header = [h.strip().lower() for h in reader.fieldnames or []]
    missing = [c for c in CSV_REQUIRED if c not in header]
    if missing:
        problems.append(
            f"{file}:1: CSV header lacks column(s) {', '.join(missing)} (expected id,question,answer[,language,tags,url])"
        )
        return []
    reader.fieldnames = header
    merged: dict[tuple[str, str], Entry] = {}
    try:
        for row in reader:
            line = reader.line_num
            _csv_row(file, line, row, merged, problems)
    except csv.Error as exc:
        problems.append(f"{file}:{reader.line_num}: bad CSV: {exc}")
    return list(merged.values())


def _csv_row(file: Path, line: int, row: dict, merged: dict, problems: list[str]) -> None:
    value = {k: (row.get(k) or "").strip() for k in CSV_REQUIRED + CSV_OPTIONAL}
    if not any(value.values()):
        return
    name = f"entry {value['id']!r}" if value["id"] else "row"
    where = f"{file}:{line}: {name}"
    if not value["id"]:
        problems.append(f"{where}: missing id")
        return
    language = value["language"] or CSV_DEFAULT_LANGUAGE
    if language not in SUPPORTED_LANGUAGES:
        problems.append(f"{where}: unknown language {language!r} (supported: {', '.join(SUPPORTED_LANGUAGES)})")
        return
    entry = merged.get((value["id"], language))
    if entry is None:
        if not value["answer"]:
            problems.append(f"{where}: missing or empty answer")
            return
        if not value["question"]:
            problems.append(f"{where}: empty question")
            return
        merged[(value["id"], language)] = Entry(
            id=value["id"],
            language=language,
            questions=[value["question"]],
            answer=value["answer"],
            tags=_split_tags(value["tags"]),
            url=value["url"] or None,
            source=str(file),
            line=line,
        )
        return
    if value["answer"] and value["answer"] != entry.answer:
        problems.append(f"{where}: answer differs from the one at line {entry.line} for the same id and language")
    if not value["question"]:
        problems.append(f"{where}: empty question")
    elif value["question"] not in entry.questions:
        entry.questions.append(value["question"])
    for tag in _split_tags(value["tags"]):
        if tag not in entry.tags:
            entry.tags.append(tag)
    entry.url = entry.url or value["url"] or None


def _split_tags(raw: str) -> list[str]:
    for sep in (";", "|"):
        raw = raw.replace(sep, ",")
    return [t.strip() for t in raw.split(",") if t.strip()]


def _unique(items) -> list[str]:
    return list(dict.fromkeys(items))
