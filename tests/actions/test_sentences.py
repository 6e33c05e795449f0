"""Which parts of a long message are asked on their own (actions/sentences.py)."""

from actions.sentences import sentences


def test_a_message_is_split_into_its_sentences_of_three_words_or_more():
    text = "Ich bin nächsten Monat in Zürich. Was kostet dort mobiles Internet? Danke!"
    assert sentences(text) == ["Ich bin nächsten Monat in Zürich.", "Was kostet dort mobiles Internet?"]


def test_lines_and_semicolons_end_a_sentence_too():
    assert sentences("new router arrived today\nhow do I set it up; the manual is missing") == [
        "new router arrived today",
        "how do I set it up",
        "the manual is missing",
    ]


def test_one_sentence_or_a_whole_letter_is_not_split():
    assert sentences("How do I change my delivery address?") == []
    assert sentences("Danke. Wo ist mein Paket?") == []  # one part of three words or more
    letter = " ".join(f"This is sentence number {n}." for n in range(6))
    assert sentences(letter) == []
