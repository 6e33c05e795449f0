"""Requests for a person recognised by meaning (actions/requests.py), with the real encoder on the test FAQ."""

from __future__ import annotations

import pytest

from actions.requests import request_by_meaning


def faq_score(kb, text: str) -> float:
    result = kb.search(text)
    return result.hits[0].score if result.hits else 0.0


@pytest.mark.parametrize(
    "text, intent",
    [
        ("Ich hätte das gern mit jemandem vom Fach besprochen", "request_human"),
        ("would rather sort this out with an actual human being", "request_human"),
    ],
)
def test_requests_nobody_foresaw_are_recognised_by_meaning(kb, text, intent):
    assert request_by_meaning(kb, text, faq_score(kb, text)) == intent


@pytest.mark.parametrize(
    "text",
    [
        "Wer war der erste Mensch auf dem Mond?",  # about a person, asks for no one
        # near "lass mich mit jemandem sprechen", nearer still to questions any assistant hears
        "Erzähl mir bitte einen Witz über Programmierer",
        "How do I set up voicemail on my phone?",
        "Wie ändere ich meine Lieferadresse?",  # the FAQ's
    ],
)
def test_questions_are_not_taken_for_requests(kb, text):
    assert request_by_meaning(kb, text, faq_score(kb, text)) is None


def test_a_broken_list_of_other_companies_costs_that_check_and_no_answer(kb, tmp_path, monkeypatch, caplog):
    from actions import requests as module

    broken = tmp_path / "other_companies.yml"
    broken.write_text("other_companies: [netflix, spotify\n", encoding="utf-8")  # unclosed list
    monkeypatch.setattr(module, "OTHER_COMPANIES_FILE", broken)
    monkeypatch.setattr(module, "_other_companies", None)
    assert module.other_company(kb, "Wie kündige ich mein Netflix-Abo?") is None
    assert "cannot read" in caplog.text and "other_companies.yml" in caplog.text
    monkeypatch.setattr(module, "_other_companies", None)  # the next start reads the mended file
    broken.write_text("other_companies: [netflix, spotify]\n", encoding="utf-8")
    assert module.other_company(kb, "Wie kündige ich mein Netflix-Abo?") == "Netflix"
