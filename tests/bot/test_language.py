"""Language detection on short customer messages (bot/language.py is dependency-free)."""

import pytest

from bot.language import detect


@pytest.mark.parametrize(
    "text, language",
    [
        ("Wie ändere ich meine Lieferadresse?", "de"),
        ("Mein Internet geht nicht", "de"),
        ("danke", "de"),
        ("Mensch bitte", "de"),
        ("How do I change my delivery address?", "en"),
        ("my internet is not working", "en"),
        ("thanks", "en"),
        ("I want to speak to someone", "en"),
    ],
)
def test_clear_messages_are_recognised(text, language):
    assert detect(text)[0] == language


@pytest.mark.parametrize("text", ["ok", "DSL 100", "Router", "123456", ""])
def test_messages_without_evidence_do_not_switch_the_language(text):
    assert detect(text) == (None, 0.0)
