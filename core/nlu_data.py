"""The bot's NLU training data (``data/nlu/*.yml``) as the services read it: the examples per intent.

The action server compares customers' messages with the examples (requests for a person, questions the FAQ does
not cover); Insights sorts unanswered messages by them. Both read the files the same way, here: an example is its
words, entity annotations (``[Hamburg](city)``, ``[Hamburg]{"entity": "city"}``) reduced to the annotated text.
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import Iterator

import yaml

NLU_DIR = Path(__file__).resolve().parents[1] / "data" / "nlu"
_ANNOTATION = re.compile(r"\[([^\]]*)\]\([^)]*\)|\[([^\]]*)\]\{[^}]*\}")


def _blocks(path: Path) -> list:
    data = yaml.safe_load(path.read_text(encoding="utf-8")) if path.exists() else None
    return [block for block in (data or {}).get("nlu") or [] if isinstance(block, dict)]


def _lines(block: dict) -> Iterator[str]:
    for line in str(block.get("examples") or "").splitlines():
        text = line.strip().removeprefix("- ").strip()
        if text:
            yield text


def intent_examples(path: Path) -> Iterator[tuple[str, str]]:
    """(intent, example) for every example of one NLU file, in file order."""
    for block in _blocks(path):
        if "intent" in block:
            intent = str(block["intent"])
            for line in _lines(block):
                text = _ANNOTATION.sub(lambda m: m.group(1) or m.group(2) or "", line).strip()
                if text:
                    yield intent, text
