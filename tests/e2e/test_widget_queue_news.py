"""The widget in headless Chromium while agents come and go (issue 20): a waiting German and English customer read
"nobody on duty" (no made-up wait) with the callback one click away when the last agent leaves, a real wait again
when one comes back, each news once; the callback button takes them out of the queue into the callback form."""

from __future__ import annotations

import re

import pytest

from scripts.stack import Stack
from tests.e2e.conftest import AgentConsole, escalation_id
from tests.e2e.test_handoff_live import WORDS
from tests.e2e.test_widget import WAIT_MS, ask, browser, wait_for_bot_text  # noqa: F401 - `browser` is a fixture
from tests.e2e.test_widget_handoff import SCREENSHOTS, open_chat, sender_of

pytestmark = pytest.mark.e2e

NEWS = {
    "de": {
        "nobody": "Gerade ist leider niemand aus unserem Service-Team im Dienst",
        "hint_nobody": r"Platz \d+ in der Warteschlange · gerade niemand im Dienst",
        "hint_wait": r"Platz \d+ in der Warteschlange · etwa \d+ Min\.",
        "back": r"Sie sind jetzt auf Platz \d+ der Warteschlange, voraussichtliche Wartezeit etwa \d+ Min\.",
        "callback": "Lieber Rückruf",
        "contact": "Unter welcher Telefonnummer",
    },
    "en": {
        "nobody": "Nobody from our service team is on duty right now",
        "hint_nobody": r"Number \d+ in the queue · nobody on duty right now",
        "hint_wait": r"Number \d+ in the queue · about \d+ min\.",
        "back": r"You are now number \d+ in the queue, expected wait about \d+ min\.",
        "callback": "Call me back instead",
        "contact": "Which phone number",
    },
}


def hint(tab, pattern: str) -> None:
    tab.locator(".nn-chat-hint", has_text=re.compile(pattern)).wait_for(timeout=WAIT_MS)


def count(tab, text: str) -> int:
    return sum(text in reply for reply in tab.locator(".rw-response").all_inner_texts())


def test_waiting_customers_learn_that_nobody_is_on_duty_and_when_someone_is_back(
    browser,
    channels_stack: Stack,
    online_agent: AgentConsole,
    open_for_handoffs: AgentConsole,
):
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    open_for_handoffs.post("/agent/presence", presence="offline")  # only our agent is on duty
    languages = ("de", "en")
    contexts = {
        lang: browser.new_context(locale=f"{lang}-DE", viewport={"width": 1280, "height": 900}) for lang in languages
    }
    tabs = {}
    try:
        for lang in languages:
            tabs[lang] = open_chat(contexts[lang], channels_stack, lang)
            ask(tabs[lang], WORDS[lang]["ask"])
            wait_for_bot_text(tabs[lang], WORDS[lang]["queued"])
            hint(tabs[lang], NEWS[lang]["hint_wait"])

        online_agent.post("/agent/presence", presence="away")  # the last agent on duty steps away
        for lang, tab in tabs.items():
            wait_for_bot_text(tab, NEWS[lang]["nobody"])
            hint(tab, NEWS[lang]["hint_nobody"])
            tab.locator(".rw-reply", has_text=NEWS[lang]["callback"]).last.wait_for(timeout=WAIT_MS)
            tab.screenshot(path=str(SCREENSHOTS / f"widget-queue-nobody-on-duty-{lang}.png"))

        online_agent.post("/agent/presence", presence="online")  # back: a real estimate again
        for lang, tab in tabs.items():
            wait_for_bot_text(tab, NEWS[lang]["back"])
            hint(tab, NEWS[lang]["hint_wait"])
            tab.screenshot(path=str(SCREENSHOTS / f"widget-queue-agent-back-{lang}.png"))
        tabs["de"].wait_for_timeout(11_000)  # a full round of the worker's queue check: nothing is said twice
        for lang, tab in tabs.items():
            assert count(tab, NEWS[lang]["nobody"]) == 1
            assert (
                len([t for t in tab.locator(".rw-response").all_inner_texts() if re.search(NEWS[lang]["back"], t)]) == 1
            )

        online_agent.post("/agent/presence", presence="offline")
        english = tabs["en"]
        wait_for_bot_text(english, NEWS["en"]["nobody"])
        english.locator(".rw-reply", has_text=NEWS["en"]["callback"]).last.click()  # takes the offer
        wait_for_bot_text(english, NEWS["en"]["contact"])
        english.locator(".nn-chat-hint").wait_for(state="detached", timeout=WAIT_MS)
        conversation = escalation_id(channels_stack, sender_of(english, channels_stack))
        refused = online_agent.http.post(
            f"{channels_stack.handoff_url}/agent/conversations/{conversation}/claim",
            data={"csrf_token": online_agent.csrf},
            headers={"X-Requested-With": "fetch"},
            timeout=30,
        )
        assert refused.status_code == 409  # switched to a callback: out of the live queue
        english.screenshot(path=str(SCREENSHOTS / "widget-queue-nobody-callback-en.png"))
        ask(english, WORDS["en"]["cancel"])
        ask(tabs["de"], WORDS["de"]["cancel"])
        wait_for_bot_text(tabs["de"], WORDS["de"]["left"])
    finally:
        for context in contexts.values():
            context.close()
