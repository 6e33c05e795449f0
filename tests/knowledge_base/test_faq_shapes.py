"""What the FAQ's shape decides, on the real model: the encoder an English-only FAQ is indexed with, and the
confidence of an FAQ with one question per entry (how most FAQ pages look)."""

import json
from pathlib import Path

import pytest

from knowledge_base import Settings, build_index, load_entries, load_knowledge_base
from tests.knowledge_base.conftest import DE_FAQ, EN_FAQ

ONE_QUESTION_FAQ = """\
language: en
entries:
  - id: reset-password
    questions: ["How do I reset my password?"]
    answer: Click "Forgot password" on the login page and follow the link we e-mail you.
  - id: change-email
    questions: ["How do I change the e-mail address of my account?"]
    answer: Under Settings, Account, E-mail; we send a confirmation link to the new address.
  - id: delete-account
    questions: ["How can I delete my account?"]
    answer: Under Settings, Account, Delete account. Your data is erased within 30 days.
  - id: export-data
    questions: ["Can I download all my data?"]
    answer: Under Settings, Privacy, Export you get a ZIP file of everything we store about you.
  - id: two-factor
    questions: ["How do I turn on two-factor authentication?"]
    answer: Under Settings, Security, Two-factor; scan the QR code with an authenticator app.
  - id: change-username
    questions: ["Can I change my username?"]
    answer: Once every 30 days, under Settings, Profile, Username.
"""


def _build(tmp_path: Path, files: dict, encode) -> Settings:
    folder = tmp_path / "faq"
    folder.mkdir(parents=True, exist_ok=True)
    for name, text in files.items():
        (folder / name).write_text(text, encoding="utf-8")
    settings = Settings(faq_path=folder, index_dir=tmp_path / "index")
    build_index(load_entries(folder), settings.index_dir, encode=encode, progress=False)
    return settings


def test_an_english_faq_is_indexed_with_minilm_alone_and_a_bilingual_one_with_both(tmp_path, encode):
    english = _build(tmp_path / "en", {"en.yml": EN_FAQ}, encode)
    manifest = json.loads((english.index_dir / "manifest.json").read_text())
    assert manifest["dims"] == 384 and manifest["model"] == encode.monolingual.model_name
    bilingual = _build(tmp_path / "both", {"en.yml": EN_FAQ, "de.yml": DE_FAQ}, encode)
    assert json.loads((bilingual.index_dir / "manifest.json").read_text())["dims"] == 768
    # Loaded with the default encoder handed in (eval, tests) or from the manifest alone (the action server).
    for kb in (load_knowledge_base(english, encode=encode), load_knowledge_base(english)):
        result = kb.search("where is my package", k=3)
        assert result.hits[0].entry_id == "track-order" and result.band == "answer"


def test_a_running_knowledge_base_follows_its_faq_from_english_only_to_bilingual(tmp_path, encode):
    settings = _build(tmp_path, {"en.yml": EN_FAQ}, encode)
    kb = load_knowledge_base(settings, encode=encode)
    assert kb.search("where is my package").hits[0].entry_id == "track-order"
    _build(tmp_path, {"en.yml": EN_FAQ, "de.yml": DE_FAQ}, encode)  # German entries added, index rebuilt
    assert kb.reload_if_changed() is True
    result = kb.search("Wo bleibt mein Paket?")
    assert result.hits[0].entry_id == "track-order" and result.hits[0].language == "de"


@pytest.fixture(scope="module")
def one_question(tmp_path_factory, encode):
    settings = _build(tmp_path_factory.mktemp("one"), {"en.yml": ONE_QUESTION_FAQ}, encode)
    return load_knowledge_base(settings, encode=encode)


@pytest.mark.parametrize(
    "text, expected",
    [
        ("I forgot my password, how can I get a new one?", "reset-password"),
        ("how do i switch on 2FA", "two-factor"),
        ("I want to get rid of my account for good", "delete-account"),
    ],
)
def test_one_question_per_entry_a_clear_rewording_is_answered(one_question, text, expected):
    result = one_question.search(text)
    assert result.hits[0].entry_id == expected
    assert result.band == "answer", result.confidence


def test_one_question_per_entry_a_question_two_entries_fit_is_asked_back(one_question):
    # The e-mail address and the username are both login details.
    result = one_question.search("how do I change my login details")
    assert result.band == "clarify", result.confidence
    assert {"change-email", "change-username"} <= {h.entry_id for h in result.hits[:3]}


def test_one_question_per_entry_an_unrelated_question_is_declined(one_question):
    assert one_question.search("What is the capital of Mongolia?").band == "decline"
