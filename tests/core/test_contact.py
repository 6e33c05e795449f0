"""A question about reaching the company is no request for a person, on either side (core/contact.py)."""

import pytest

from core.contact import ABOUT_CONTACT


@pytest.mark.parametrize(
    "text",
    [
        "What is your hotline number?",
        "Wann seid ihr erreichbar?",
        "Wie ist eure Rufnummer?",
        "What are your opening hours?",
        "Eure Adresse bitte",
    ],
)
def test_questions_about_reaching_us_are_recognised(text):
    assert ABOUT_CONTACT.search(text)


@pytest.mark.parametrize(
    "text",
    [
        "I want to talk to a person",
        "Ich möchte mit einem Mitarbeiter sprechen",
        "call me back please",
        "numbers are hard",
    ],
)
def test_requests_are_not(text):
    assert not ABOUT_CONTACT.search(text)
