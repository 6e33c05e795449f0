"""The shared words (core/vocabulary.py) are the ones the domain, the database and the processes use."""

from pathlib import Path

import yaml

from core import vocabulary
from core.vocabulary import INTERNAL_INTENTS

ROOT = Path(__file__).resolve().parents[2]


def test_the_vocabulary_imports_nothing():
    source = (ROOT / "core" / "vocabulary.py").read_text(encoding="utf-8")
    assert [line for line in source.splitlines() if line.startswith(("import ", "from "))] == [
        "from __future__ import annotations"
    ]


def test_internal_intents_are_intents_of_the_domain_no_customer_may_send():
    from bot.inbound import CUSTOMER_PAYLOADS, customer_text

    domain = yaml.safe_load((ROOT / "domain.yml").read_text(encoding="utf-8"))
    intents = {next(iter(i)) if isinstance(i, dict) else i for i in domain["intents"]}
    assert INTERNAL_INTENTS <= intents
    assert not INTERNAL_INTENTS & set(CUSTOMER_PAYLOADS)
    for intent in INTERNAL_INTENTS:
        assert not customer_text(f"/{intent}").startswith("/")


def test_the_database_accepts_every_status():
    from handoff.models import Conversation

    checks = " ".join(str(c.sqltext) for c in Conversation.__table__.constraints if hasattr(c, "sqltext"))
    for status in vocabulary.STATUSES:
        assert f"'{status}'" in checks
    assert vocabulary.WAITING in vocabulary.ACTIVE_STATUSES
    assert vocabulary.DEFAULT_LANGUAGE in vocabulary.LANGUAGES
