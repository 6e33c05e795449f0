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


@pytest.mark.parametrize(
    "text, language",
    [
        # lingua alone reads these as German (a German company's name) or as nothing
        ("How do I sign up for Telekom's MagentaTV?", "en"),
        ("what does kündigung mean in english", "en"),
        ("Is the Pixel 9 better than the iPhone 16?", "en"),
        ("wo ist mein handy", "de"),
        # a German place name; "what's" is English's own
        ("What's the 5G like out in Mecklenburg-Vorpommern?", "en"),
    ],
)
def test_the_small_words_of_a_sentence_overrule_names_lingua_takes_for_the_other_language(text, language):
    assert detect(text)[0] == language


def test_a_sentence_of_one_language_quoting_a_word_of_the_other_keeps_its_language():
    assert detect("Was heißt eigentlich Roaming auf Deutsch?")[0] == "de"
    assert detect("My contract says Kündigungsfrist, what is that?")[0] == "en"


@pytest.mark.parametrize(
    "text, language", [("live agent pls", "en"), ("no its fine", "en"), ("Mitarbeiter bitte jetzt", "de")]
)
def test_three_word_chat_messages_lingua_is_unsure_of_go_by_their_chat_words(text, language):
    assert detect(text)[0] == language


def test_three_word_messages_lingua_is_sure_of_keep_lingua_s_language():
    assert detect("weiterleiten an agent")[0] == "de"
