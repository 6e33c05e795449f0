"""The widget in headless Chromium while people have the conversation (issue 20): the place in the queue under
the header, moving up live; a reply written while the tab was closed shown when it is reopened, and "seen"."""

from __future__ import annotations

import re

import pytest

from bot.sessions import sender_for
from scripts.stack import ROOT, Stack
from tests.e2e.conftest import AgentConsole, escalation_id
from tests.e2e.test_handoff_live import WORDS, eventually, reply_row
from tests.e2e.test_widget import WAIT_MS, ask, browser, wait_for_bot_text  # noqa: F401 - `browser` is a fixture

pytestmark = pytest.mark.e2e

SCREENSHOTS = ROOT / "var" / "screenshots"
PLACE = {
    "de": r"Platz (\d+) in der Warteschlange · etwa \d+ Min\.",
    "en": r"Number (\d+) in the queue · about \d+ min\.",
}


def open_chat(context, stack: Stack, language: str):
    tab = context.new_page()
    tab.goto(f"{stack.handoff_url}/?lang={language}")
    if not tab.locator(".rw-conversation-container").count():
        tab.locator(".rw-launcher").click()
    tab.locator(".rw-response").first.wait_for(timeout=WAIT_MS)
    return tab


def sender_of(tab, stack: Stack) -> str:
    session = tab.evaluate("JSON.parse(window.localStorage.getItem('chat_session')).session_id")
    return sender_for(session, stack.environment()["WIDGET_SESSION_SECRET"].encode())


def place_in_hint(tab, language: str) -> int:
    hint = tab.locator(".nn-chat-hint")
    hint.wait_for(timeout=WAIT_MS)
    match = re.search(PLACE[language], hint.inner_text())
    assert match, hint.inner_text()
    return int(match.group(1))


HINT = {
    "de": {"place": "Platz {n} in der Warteschlange", "agent": "Sie schreiben mit {name}"},
    "en": {"place": "Number {n} in the queue", "agent": "You are chatting with {name}"},
}


@pytest.mark.parametrize("ahead,behind", [("de", "en"), ("en", "de")])
def test_the_place_under_the_header_moves_up_when_the_customer_ahead_is_picked_up(
    browser,
    channels_stack: Stack,
    online_agent: AgentConsole,
    ahead: str,
    behind: str,
):
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    contexts = [
        browser.new_context(locale=f"{lang}-DE", viewport={"width": 1280, "height": 900}) for lang in (ahead, behind)
    ]
    try:
        first, second = open_chat(contexts[0], channels_stack, ahead), open_chat(contexts[1], channels_stack, behind)
        ask(first, WORDS[ahead]["ask"])
        wait_for_bot_text(first, WORDS[ahead]["queued"])
        ask(second, WORDS[behind]["ask"])
        wait_for_bot_text(second, WORDS[behind]["queued"])
        before = place_in_hint(second, behind)
        assert place_in_hint(first, ahead) < before

        online_agent.claim(escalation_id(channels_stack, sender_of(first, channels_stack)))
        wait_for_bot_text(second, re.escape(f"{WORDS[behind]['moved']} {before - 1}"))
        second.locator(".nn-chat-hint", has_text=HINT[behind]["place"].format(n=before - 1)).wait_for(timeout=WAIT_MS)
        second.screenshot(path=str(SCREENSHOTS / f"widget-queue-moved-{behind}.png"))
        wait_for_bot_text(first, re.escape(f"{online_agent.name} {WORDS[ahead]['joined']}"))
        first.locator(".nn-chat-hint", has_text=HINT[ahead]["agent"].format(name=online_agent.name)).wait_for(
            timeout=WAIT_MS
        )

        ask(second, WORDS[behind]["cancel"])  # leaves the queue at once; the hint goes
        wait_for_bot_text(second, WORDS[behind]["left"])
        second.locator(".nn-chat-hint").wait_for(state="detached", timeout=WAIT_MS)
        online_agent.resolve(escalation_id(channels_stack, sender_of(first, channels_stack)))
    finally:
        for context in contexts:
            context.close()


@pytest.mark.parametrize("language", ["de", "en"])
def test_a_reply_written_while_the_tab_was_closed_is_shown_when_it_is_reopened(
    browser,
    channels_stack: Stack,
    online_agent: AgentConsole,
    language: str,
):
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    words = WORDS[language]
    context = browser.new_context(locale=f"{language}-DE", viewport={"width": 1280, "height": 900})
    try:
        tab = open_chat(context, channels_stack, language)
        ask(tab, words["ask"])
        wait_for_bot_text(tab, words["queued"])
        sender = sender_of(tab, channels_stack)
        conversation = escalation_id(channels_stack, sender)
        online_agent.claim(conversation)
        wait_for_bot_text(tab, words["joined"])
        tab.close()  # the customer closes the tab; the browser keeps the conversation

        online_agent.reply(conversation, words["reply"])
        eventually(lambda: reply_row(channels_stack, conversation, words["reply"])["delivery"] == "sent")
        assert reply_row(channels_stack, conversation, words["reply"])["seen_at"] is None

        again = open_chat(context, channels_stack, language)
        assert sender_of(again, channels_stack) == sender
        wait_for_bot_text(again, re.escape(words["reply"]))
        assert [t.strip() for t in again.locator(".rw-response").all_inner_texts()].count(words["reply"]) == 1
        eventually(lambda: reply_row(channels_stack, conversation, words["reply"])["seen_at"] is not None)
        again.screenshot(path=str(SCREENSHOTS / f"widget-reopened-reply-{language}.png"))
        online_agent.resolve(conversation)
    finally:
        context.close()


REASON_SHOWN = {"de": "der Kunde wollte mit einem Menschen sprechen", "en": "the customer asked for a person"}


@pytest.mark.parametrize("language", ["de", "en"])
def test_asking_for_a_person_reads_as_requested_and_cancelling_leaves_the_queue_at_once(
    browser,
    channels_stack: Stack,
    online_agent: AgentConsole,
    language: str,
):
    """On a phone-sized screen: the console names the reason the customer gave; "abbrechen"/"cancel" takes
    them out of the queue (the hint goes), no agent can claim them afterwards, and nobody 'joins' later."""
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    words = WORDS[language]
    context = browser.new_context(locale=f"{language}-DE", viewport={"width": 390, "height": 844})
    try:
        tab = open_chat(context, channels_stack, language)
        wait_for_bot_text(tab, r"Hallo! Ich bin|Hi! I'm NordNet")  # the greeting first (not just its typing dots)
        ask(tab, words["ask"])
        wait_for_bot_text(tab, words["queued"])
        place_in_hint(tab, language)
        conversation = escalation_id(channels_stack, sender_of(tab, channels_stack))
        page = online_agent.http.get(
            f"{channels_stack.handoff_url}/agent/conversations/{conversation}",
            headers={"Accept-Language": language},
            timeout=30,
        ).text
        assert REASON_SHOWN[language] in page

        ask(tab, words["cancel"])
        wait_for_bot_text(tab, words["left"])
        tab.locator(".nn-chat-hint").wait_for(state="detached", timeout=WAIT_MS)
        refused = online_agent.http.post(
            f"{channels_stack.handoff_url}/agent/conversations/{conversation}/claim",
            data={"csrf_token": online_agent.csrf},
            headers={"X-Requested-With": "fetch"},
            timeout=30,
        )
        assert refused.status_code == 409
        tab.wait_for_timeout(1500)
        assert not [text for text in tab.locator(".rw-response").all_inner_texts() if words["joined"] in text]
        tab.screenshot(path=str(SCREENSHOTS / f"widget-cancelled-{language}-phone.png"))
    finally:
        context.close()
