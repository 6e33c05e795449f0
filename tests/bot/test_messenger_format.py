"""Messenger's limits: long texts split cleanly, buttons become at most 13 short quick replies."""

from __future__ import annotations

from bot.messenger_format import (
    QUICK_REPLY_LIMIT,
    QUICK_REPLY_TITLE_LIMIT,
    TEXT_LIMIT,
    generic_template,
    is_send_api_message,
    split_text,
    text_with_buttons,
)


def test_short_text_with_paragraphs_stays_one_message():
    assert split_text("First paragraph.\n\nSecond one.") == ["First paragraph.\n\nSecond one."]


def test_empty_text_sends_nothing():
    assert split_text("  ") == [] and split_text(None) == []


def test_long_text_splits_between_paragraphs_first():
    paragraph = "Sentence number one is here. " * 40  # ~1160 characters
    chunks = split_text(f"{paragraph}\n\n{paragraph}\n\n{paragraph}")
    assert len(chunks) == 3
    assert all(len(chunk) <= TEXT_LIMIT for chunk in chunks)
    assert all(chunk.endswith("here.") for chunk in chunks)


def test_one_huge_paragraph_splits_at_sentences_then_words_then_hard():
    sentences = split_text("Kurzer Satz. " * 400)
    assert all(len(c) <= TEXT_LIMIT and c.endswith(".") for c in sentences)
    words = split_text("wort " * 1000)
    assert all(len(c) <= TEXT_LIMIT and not c.startswith(" ") and not c.endswith(" ") for c in words)
    assert " ".join(words).split() == ["wort"] * 1000
    hard = split_text("x" * 4500)
    assert [len(c) for c in hard] == [2000, 2000, 500]


def test_nothing_is_lost_when_splitting():
    text = "\n\n".join(f"Absatz {i}: " + "Inhalt mit Wörtern. " * 30 for i in range(10))
    assert "".join(split_text(text)).replace("\n", "").replace(" ", "") == text.replace("\n", "").replace(" ", "")


def test_markdown_links_become_plain_text_for_messenger():
    assert split_text("See [the help page](https://www.nordnet.example/help).") == [
        "See the help page: https://www.nordnet.example/help."
    ]


def test_buttons_become_quick_replies_on_the_last_message():
    messages = text_with_buttons(
        "Hat Ihnen das geholfen?",
        [
            {"title": "👍 Ja", "payload": "/feedback_helpful"},
            {"title": "👎 Nein", "payload": "/feedback_not_helpful"},
        ],
    )
    assert messages == [
        {
            "text": "Hat Ihnen das geholfen?",
            "quick_replies": [
                {"content_type": "text", "title": "👍 Ja", "payload": "/feedback_helpful"},
                {"content_type": "text", "title": "👎 Nein", "payload": "/feedback_not_helpful"},
            ],
        }
    ]


def test_more_than_13_buttons_are_trimmed_and_long_titles_numbered_and_listed_in_full():
    buttons = [
        {
            "title": f"Wie ändere ich meine Lieferadresse Variante {i}?",
            "payload": f'/choose_entry{{"entry_id": "e{i}"}}',
        }
        for i in range(1, 21)
    ]
    [message] = text_with_buttons("Meinten Sie eines davon?", buttons)
    replies = message["quick_replies"]
    assert len(replies) == QUICK_REPLY_LIMIT
    assert all(len(r["title"]) <= QUICK_REPLY_TITLE_LIMIT for r in replies)
    assert replies[0]["title"].startswith("1. ") and replies[0]["title"].endswith("…")
    assert replies[12]["payload"] == '/choose_entry{"entry_id": "e13"}'
    assert "13. Wie ändere ich meine Lieferadresse Variante 13?" in message["text"]
    assert "Variante 14" not in message["text"]


def test_url_buttons_become_links_in_the_text_and_bad_payloads_are_dropped():
    [message] = text_with_buttons(
        "Hilfe",
        [
            {"title": "Hilfeseite", "url": "https://www.nordnet.example/help", "type": "web_url"},
            {"title": "Zu lang", "payload": "/x" + "y" * 1000},
            {"title": "OK", "payload": "/affirm"},
        ],
    )
    assert message["text"] == "Hilfe\n\nHilfeseite: https://www.nordnet.example/help"
    assert [r["title"] for r in message["quick_replies"]] == ["OK"]


def test_buttons_without_text_still_have_text_to_hang_on():
    [message] = text_with_buttons(None, [{"title": "Ja", "payload": "/affirm"}])
    assert message["text"] and message["quick_replies"][0]["payload"] == "/affirm"


def test_long_text_with_buttons_puts_quick_replies_on_the_last_chunk_only():
    messages = text_with_buttons("Satz. " * 600, [{"title": "Ja", "payload": "/affirm"}])
    assert len(messages) > 1
    assert all("quick_replies" not in m for m in messages[:-1]) and messages[-1]["quick_replies"]
    assert all(len(m["text"]) <= TEXT_LIMIT for m in messages)


def test_generic_template_respects_element_and_button_limits():
    elements = [{"title": "T" * 100, "subtitle": "s", "buttons": [{"title": "b", "payload": "/p"}] * 5}] * 12
    template = generic_template(elements)
    cards = template["attachment"]["payload"]["elements"]
    assert len(cards) == 10 and len(cards[0]["title"]) == 80 and len(cards[0]["buttons"]) == 3
    assert cards[0]["buttons"][0]["type"] == "postback"
    assert generic_template([{"subtitle": "no title"}]) is None


def test_only_text_or_attachment_custom_json_goes_to_messenger():
    assert is_send_api_message({"text": "hi"}) and is_send_api_message({"attachment": {"type": "image"}})
    assert not is_send_api_message({"handoff": {"state": "agent"}}) and not is_send_api_message(["x"])
