"""Switching provider: the words after "zu"/"to" and "von"/"from" decide between the two porting entries."""

from __future__ import annotations

from dataclasses import dataclass, field

import pytest

from actions.direction import AWAY_FROM_US, TOWARDS_US, by_direction, direction
from knowledge_base.types import Entry, Hit, SearchResult


@pytest.mark.parametrize(
    "text, expected",
    [
        ("Ich wechsle von der Telekom zu euch, kann meine Handynummer mit?", TOWARDS_US),
        ("I'm coming from Vodafone, can I keep my number with you?", TOWARDS_US),
        ("Will my old provider charge me for porting?", TOWARDS_US),
        ("Meine Rufnummernportierung ist gescheitert, was nun?", TOWARDS_US),  # we tell of a failed port to us
        ("Ich gehe zu congstar, kann ich meine Nummer mitnehmen?", AWAY_FROM_US),
        ("I'm switching to another provider next month, can I keep my number?", AWAY_FROM_US),
        ("Ich möchte weg von NordNet, meine Nummer aber behalten", AWAY_FROM_US),
        ("I want to move my number from NordNet to O2", AWAY_FROM_US),
        # no direction, or both: the encoder's ranking stands
        ("Kann ich meine Nummer behalten?", None),
        ("I want to switch to you and keep my number", TOWARDS_US),  # "to keep" names no one
        ("from Vodafone to O2", None),
    ],
)
def test_the_direction_of_a_switch(text, expected):
    assert direction(text) == expected


@dataclass
class _Kb:
    entries: dict = field(default_factory=dict)

    def get(self, entry_id, language):
        return self.entries.get((entry_id, language))


def _hit(entry_id, score):
    return Hit(entry_id, "en", f"question of {entry_id}", f"answer of {entry_id}", None, [], score, score)


def test_the_entry_going_the_customers_way_is_put_first_with_the_top_score():
    kb = _Kb({(TOWARDS_US, "en"): Entry(TOWARDS_US, "en", ["Can I bring my number to you?"], "Bring it along.")})
    result = SearchResult("answer", 0.9, "en", [_hit(AWAY_FROM_US, 0.9), _hit("esim", 0.5)])

    turned = by_direction(kb, "I'm coming from Vodafone, can I keep my number?", result, "en")

    assert [h.entry_id for h in turned.hits] == [TOWARDS_US, AWAY_FROM_US, "esim"]
    assert turned.hits[0].answer == "Bring it along." and turned.hits[0].score == 0.9
    assert turned.band == "answer"
    # the same words towards the top hit's way, or a FAQ without the other entry: unchanged
    assert by_direction(kb, "I'm switching to O2, can I keep my number?", result, "en") is result
    assert by_direction(_Kb(), "I'm coming from Vodafone, can I keep my number?", result, "en") is result
