"""Fixtures for knowledge-base tests: the real model, loaded once, and FAQ files written per test."""

from pathlib import Path

import pytest

EN_FAQ = """\
language: en
entries:
  - id: change-delivery-address
    questions:
      - How do I change my delivery address?
      - I moved, where do I update my address?
    answer: You can change it under Account → Addresses until the order ships.
    tags: [orders]
    url: https://example.com/help/address
  - id: track-order
    questions: ["Where is my order?", "How can I track my parcel?"]
    answer: Use the tracking link in your shipping confirmation e-mail.
  - id: reset-password
    questions: ["I forgot my password", "How do I reset my password?"]
    answer: Click "Forgot password" on the login page and follow the e-mail we send you.
  - id: cancel-subscription
    questions: ["How do I cancel my subscription?", "I want to end my contract"]
    answer: You can cancel any time under Account → Subscription → Cancel.
"""

DE_FAQ = """\
language: de
entries:
  - id: change-delivery-address
    questions:
      - Wie ändere ich meine Lieferadresse?
      - Ich bin umgezogen, wo aktualisiere ich meine Adresse?
    answer: Unter Konto → Adressen, solange die Bestellung noch nicht versandt ist.
  - id: track-order
    questions: ["Wo ist meine Bestellung?", "Wie kann ich mein Paket verfolgen?"]
    answer: Nutzen Sie den Sendungslink in der Versandbestätigung.
  - id: reset-password
    questions: ["Ich habe mein Passwort vergessen", "Wie setze ich mein Passwort zurück?"]
    answer: Klicken Sie auf der Anmeldeseite auf „Passwort vergessen“.
"""


@pytest.fixture(scope="session")
def encode():
    """The real packaged MiniLM encoder, loaded once per test session."""
    from knowledge_base.encoder import make_encoder

    fn = make_encoder()
    fn(["warm up"])
    return fn


@pytest.fixture
def faq_dir(tmp_path: Path) -> Path:
    folder = tmp_path / "faq"
    folder.mkdir()
    (folder / "en.yml").write_text(EN_FAQ, encoding="utf-8")
    (folder / "de.yml").write_text(DE_FAQ, encoding="utf-8")
    return folder


@pytest.fixture
def built(faq_dir: Path, tmp_path: Path, encode):
    """Settings of an index built from the two demo FAQ files."""
    from knowledge_base import Settings, build_index, load_entries
    from knowledge_base.sources import relative_checksums

    settings = Settings(faq_path=faq_dir, index_dir=tmp_path / "index")
    build_index(
        load_entries(faq_dir), settings.index_dir, encode=encode, progress=False, sources=relative_checksums(faq_dir)
    )
    return settings


@pytest.fixture
def kb(built, encode):
    from knowledge_base import load_knowledge_base

    return load_knowledge_base(built, encode=encode)
