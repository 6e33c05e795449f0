"""Shared by the insight tests: the real embedding model (loaded once) and a small FAQ with its index."""

from __future__ import annotations

import functools
from pathlib import Path

import pytest

SMALL_FAQ = {
    "en.yml": """language: en
entries:
  # hand-written comment that must survive edits
  - id: router-leds
    questions:
      - What do the router lights mean?
      - My router blinks red
    answer: Red means no line; restart the router.
    tags: [internet]
  - id: line-fault
    questions:
      - My internet is down
    answer: |
      Check the cable first.
      Then report the fault online.
  - id: invoice-wrong
    questions:
      - My invoice is wrong
    answer: Tell us what is wrong and we correct it.
""",
    "de.yml": """language: de
entries:
  - id: router-leds
    questions:
      - Was bedeuten die Lampen am Router?
    answer: Rot heißt keine Leitung; starten Sie den Router neu.
  - id: line-fault
    questions:
      - Mein Internet geht nicht
    answer: Prüfen Sie zuerst das Kabel.
""",
}


@functools.lru_cache(maxsize=1)
def encoder():
    """The default encoder (packaged MiniLM + multilingual-e5-small), as the knowledge base uses it."""
    from knowledge_base.encoder import make_encoder

    return make_encoder(None)


def make_faq(folder: Path) -> Path:
    faq = folder / "faq"
    faq.mkdir(parents=True)
    for name, text in SMALL_FAQ.items():
        (faq / name).write_text(text, encoding="utf-8")
    return faq


def build(faq: Path, index_dir: Path) -> None:
    from knowledge_base import build_index, load_entries
    from knowledge_base.sources import relative_checksums

    build_index(load_entries(faq), index_dir, encode=encoder(), progress=False, sources=relative_checksums(faq))


def kb_settings(faq: Path, index_dir: Path, check_sources: bool = True):
    from knowledge_base import Settings

    return Settings(faq_path=faq, index_dir=index_dir, check_sources=check_sources)


# --- fixtures shared by the publishing tests (import them into the test module) ---------------------
@pytest.fixture
def backend():
    return "sqlite"


@pytest.fixture
def faq(tmp_path):
    folder = make_faq(tmp_path)
    build(folder, tmp_path / "index")
    return folder


@pytest.fixture
def live(app, faq, tmp_path):
    """The knowledge base the service publishes to, as the action server loads it."""
    from knowledge_base import load_knowledge_base

    from handoff.insights import InsightsState

    kb = load_knowledge_base(kb_settings(faq, tmp_path / "index"), encode=encoder())
    app.extensions["insights"] = InsightsState(kb_loader=lambda: kb, faq_path_loader=lambda: faq, encode=encoder())
    return kb


@pytest.fixture
def admin(client, make_agent):
    from tests.handoff.support import login

    agent = make_agent("Alex", role="admin", email="alex@example.com")
    login(client, "alex@example.com")
    return agent
