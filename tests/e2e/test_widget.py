"""The demo page's chat widget in headless Chromium: answers, buttons, reloads, a person takes over."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Iterator, List
from urllib.parse import urlparse

import pytest
import requests

from bot.sessions import sender_for
from scripts.stack import Stack
from tests.e2e.conftest import AgentConsole, escalation_id, faq_answer

pytestmark = pytest.mark.e2e

CHROMIUM = Path("/usr/bin/chromium")
CHROMIUM_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--no-first-run",
    "--disable-sync",
]
WAIT_MS = 30_000


def test_demo_page_speaks_the_visitors_language_and_serves_the_widget_itself(channels_stack: Stack):
    german = requests.get(f"{channels_stack.handoff_url}/", headers={"Accept-Language": "de-DE,de;q=0.9"}, timeout=10)
    assert german.status_code == 200 and german.headers["Content-Language"] == "de"
    assert '<html lang="de">' in german.text and "Wie können wir helfen?" in german.text
    assert f'data-socket-url="{channels_stack.rasa_url}"' in german.text and 'data-language="de"' in german.text

    english = requests.get(f"{channels_stack.handoff_url}/?lang=en", headers={"Accept-Language": "de"}, timeout=10)
    assert '<html lang="en">' in english.text and 'data-language="en"' in english.text

    scripts = re.findall(r'<script src="([^"]+)"', german.text)
    assert scripts == ["/static/web/webchat/webchat.js", "/static/web/chat.js"]  # ours, no CDN
    bundle = requests.get(f"{channels_stack.handoff_url}{scripts[0]}", timeout=10)
    assert bundle.status_code == 200 and "javascript" in bundle.headers["Content-Type"]
    assert "WebChat" in bundle.text and "fonts.googleapis.com" not in bundle.text


@pytest.fixture(scope="module")
def browser() -> Iterator[object]:
    from playwright.sync_api import sync_playwright

    assert CHROMIUM.exists(), "Chromium from Debian is needed: apt-get install -y chromium (make test does it)"
    with sync_playwright() as playwright:
        chromium = playwright.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS)
        yield chromium
        chromium.close()


@pytest.fixture
def page(browser, channels_stack: Stack):
    """A German visitor's tab; every request it makes is recorded."""
    context = browser.new_context(locale="de-DE", viewport={"width": 1280, "height": 900})
    tab = context.new_page()
    tab.requested = []  # type: ignore[attr-defined]
    tab.on("request", lambda request: tab.requested.append(request.url))
    yield tab
    context.close()


def bot_texts(page) -> List[str]:
    return [t.strip() for t in page.locator(".rw-response").all_inner_texts()]


def wait_for_bot_text(page, pattern: str) -> None:
    page.locator(".rw-response", has_text=re.compile(pattern)).last.wait_for(timeout=WAIT_MS)


def ask(page, text: str) -> None:
    page.locator(".rw-new-message").fill(text)
    page.keyboard.press("Enter")


def session_id(page) -> str:
    return page.evaluate("JSON.parse(window.localStorage.getItem('chat_session')).session_id")


def test_german_customer_gets_an_answer_clicks_a_button_and_a_person_replies(
    page, channels_stack: Stack, online_agent: AgentConsole
):
    console_lines: list[str] = []
    page.on("console", lambda message: console_lines.append(message.text))
    page.goto(f"{channels_stack.handoff_url}/")
    assert page.locator("html").get_attribute("lang") == "de"
    page.locator(".rw-launcher").click()
    wait_for_bot_text(page, r"Hallo! Ich bin der digitale Assistent von NordNet")

    ask(page, "Wie ändere ich meine Lieferadresse?")
    answer_start = faq_answer("change-delivery-address", "de").split("\n")[0][:60]
    wait_for_bot_text(page, re.escape(answer_start))
    link = page.locator('.rw-response a[href="https://www.nordnet.example/hilfe/lieferadresse"]')
    link.wait_for(timeout=WAIT_MS)
    assert link.get_attribute("target") == "_blank"

    page.locator(".rw-reply", has_text="👍 Ja").click()
    wait_for_bot_text(page, r"Das freut mich!")

    # A reload continues the same conversation: same session id, history still there.
    before = session_id(page)
    page.reload()
    page.locator(".rw-response", has_text=re.compile(re.escape(answer_start))).wait_for(timeout=WAIT_MS)
    assert session_id(page) == before
    # The session id is the key to the conversation: other scripts on the page read the console.
    assert not [line for line in console_lines if before in line]
    # The conversation's id in Rasa is derived from the signed session id one way (bot/sessions.py).
    sender = sender_for(before, channels_stack.environment()["WIDGET_SESSION_SECRET"].encode())
    assert sender != before and before not in sender
    tracker = requests.get(
        f"{channels_stack.rasa_url}/conversations/{sender}/tracker",
        params={"token": channels_stack.rasa_token},
        timeout=30,
    ).json()
    assert tracker["latest_input_channel"] == "socketio"
    assert tracker["slots"]["language"] == "de"

    ask(page, "Ich möchte mit einem Mitarbeiter sprechen")
    wait_for_bot_text(page, r"Ich verbinde Sie mit einem Mitarbeiter")
    hint = page.locator(".nn-chat-hint")
    hint.wait_for(timeout=WAIT_MS)
    assert "Sie warten auf einen Mitarbeiter" in hint.inner_text()

    # The agent works in the handoff service's console (over its HTTP API); replies are pushed.
    conversation = escalation_id(channels_stack, sender)
    online_agent.claim(conversation)
    wait_for_bot_text(page, re.escape(f"{online_agent.name} hat das Gespräch übernommen."))
    page.locator(".nn-chat-hint", has_text=f"Sie schreiben mit {online_agent.name}").wait_for(timeout=WAIT_MS)

    online_agent.reply(conversation, "Guten Tag! Ich habe die Lieferadresse Ihrer Bestellung für Sie geändert.")
    wait_for_bot_text(page, r"Ich habe die Lieferadresse Ihrer Bestellung für Sie geändert")

    online_agent.resolve(conversation)
    wait_for_bot_text(page, r"Sie sprechen jetzt wieder mit dem digitalen Assistenten")
    page.locator(".nn-chat-hint").wait_for(state="detached", timeout=WAIT_MS)
    assert page.locator(".rw-reply", has_text="😀 5").count() == 1

    # Everything came from our own services: no CDN, no web fonts, no trackers.
    hosts = {urlparse(url).hostname for url in page.requested if url.startswith("http")}
    assert hosts == {"127.0.0.1"}, hosts
