"""Issue 20 through the real bot: what a customer clicked reaches the agent's transcript as the words they saw."""

from __future__ import annotations

import re

import pytest

from tests.e2e.conftest import AgentConsole, Customer

pytestmark = pytest.mark.e2e


def buttons(messages) -> dict[str, str]:
    """payload -> title of every button in the bot's replies."""
    return {b["payload"]: b["title"] for m in messages for b in m.get("buttons") or []}


def conversation_page(console: AgentConsole, sender: str) -> str:
    """The console page of the customer's conversation (the newest that names their sender id)."""
    listing = console.http.get(f"{console.base_url}/agent/conversations", timeout=30).text
    for conversation_id in re.findall(r'href="/agent/conversations/(\d+)"', listing):
        page = console.http.get(
            f"{console.base_url}/agent/conversations/{conversation_id}", headers={"Accept-Language": "de"}, timeout=30
        ).text
        if f"<code>{sender}</code>" in page:
            return page
    raise AssertionError(f"no conversation for {sender}")


def test_clicks_reach_the_console_in_the_customers_words(stack, customer: Customer):
    customer.say("/greet")  # what the widget sends when it opens
    answered = customer.say("Wie ändere ich meine Lieferadresse?")
    shown = buttons(answered)
    assert "/feedback_not_helpful" in shown, answered  # the bot answered and asked whether it helped
    customer.say("/feedback_not_helpful")
    customer.say("Mensch bitte")  # nobody is online in these tests: the hand-off is stored, a callback offered

    console = AgentConsole(stack.handoff_url).login("admin@nordnet.example", "admin-demo")
    try:
        page = conversation_page(console, customer.sender)
    finally:  # logging in put the admin on duty; the shared stack's other tests expect nobody online
        console.post("/agent/presence", presence="offline")
    said = [
        re.sub(r"\s+", " ", text).strip()
        for text in re.findall(r'class="msg incoming from-contact[^"]*">.*?<div class="text">(.*?)</div>', page, re.S)
    ]
    assert said[0] == "Hallo", said
    assert shown["/feedback_not_helpful"] in said  # "👎 Nein", as the customer saw it
    assert not [text for text in said if text.startswith(("[", "/"))], said
