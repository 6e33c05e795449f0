"""Requests for a person or a call must name one; questions that merely sound like it go to the KB."""
from __future__ import annotations

from pathlib import Path

import pytest

from bot.routing import keeps_intent

CASES = Path(__file__).resolve().parents[1] / "nlu_cases"


def phrases(name: str) -> list[str]:
    lines = (CASES / name).read_text(encoding="utf-8").splitlines()
    return [line.strip() for line in lines if line.strip() and not line.startswith("#")]


@pytest.mark.parametrize("name", ["request_human_en.txt", "request_human_de.txt"])
def test_every_written_request_for_a_person_is_kept(name):
    assert [p for p in phrases(name) if not keeps_intent("request_human", p)] == []


@pytest.mark.parametrize("name", ["request_callback_en.txt", "request_callback_de.txt"])
def test_every_written_request_for_a_callback_is_kept(name):
    assert [p for p in phrases(name) if not keeps_intent("request_callback", p)] == []


@pytest.mark.parametrize("text", [
    "Can someone help me unblock my pin?",
    "I can't get the ATM to give me any cash",
    "My card is broken",
    "talk to me in a speedier manner from here on out",
    "who is your supervisor",
    "are you one of my employees",
    "bitte meinen vertrag beenden",
])
def test_questions_without_a_person_are_not_requests_for_one(text):
    assert not keeps_intent("request_human", text)


@pytest.mark.parametrize("text", [
    "please call me tom", "from now on, refer to me as chuck", "call contact aj", "call back my mom please",
    "sync phone", "i want to call up jan",
])
def test_names_and_other_peoples_calls_are_not_callback_requests(text):
    assert not keeps_intent("request_callback", text)


def test_other_intents_pass_untouched():
    assert keeps_intent("greet", "hello") and keeps_intent("ask_question", "agent")
