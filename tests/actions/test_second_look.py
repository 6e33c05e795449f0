"""Which parts of a long message are asked on their own (actions/second_look.py)."""

from actions.second_look import clear_favourite, second_look, sentences
from knowledge_base.types import Hit, SearchResult


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


def _declined(*confidences: float) -> SearchResult:
    hits = [
        Hit(f"entry-{n}", "en", "?", "!", None, [], score=0.5, confidence=confidence)
        for n, confidence in enumerate(confidences)
    ]
    return SearchResult("decline", confidences[0] if confidences else 0.0, "en", hits)


def test_a_clear_favourite_holds_enough_confidence_and_several_times_the_next_ones():
    assert clear_favourite(_declined(0.32, 0.03, 0.01))
    assert clear_favourite(_declined(0.2))  # nothing else in the running
    assert not clear_favourite(_declined(0.32, 0.1, 0.05))  # a rival at a third of it
    assert not clear_favourite(_declined(0.1, 0.01))  # on one entry, but too little of it


def test_a_clear_favourite_becomes_a_list_unless_the_checks_decline_it():
    favourite = _declined(0.32, 0.03)
    assert second_look(None, "one sentence only", favourite, "en", lambda text, result: False).band == "clarify"
    assert second_look(None, "one sentence only", favourite, "en", lambda text, result: True).band == "decline"
    spread = _declined(0.1, 0.09, 0.08)
    assert second_look(None, "one sentence only", spread, "en", lambda text, result: False) is spread
