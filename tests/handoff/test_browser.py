"""In a real browser: an agent logs in, sees a conversation arrive live, claims it, replies, returns it.

Headless Chromium from Debian, driven by Playwright (no browser download); the Rasa side is the
local stand-in, which records the trigger_intent calls the customer's channel would get.
"""

from __future__ import annotations

import shutil
import threading
import time

import pytest
import requests
from werkzeug.serving import make_server

from handoff.app import create_app
from handoff.models import BusinessHours
from handoff.services.hours import get_service_settings
from tests.handoff.support import API_TOKEN, PASSWORD, escalation_body, free_port

CHROMIUM = shutil.which("chromium") or "/usr/bin/chromium"
CHROMIUM_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--no-first-run",
    "--disable-sync",
]

pytestmark = pytest.mark.browser


@pytest.fixture
def backend():
    return "sqlite"


@pytest.fixture
def live_server(settings, fake_rasa, make_agent):
    from dataclasses import replace

    app = create_app(replace(settings, rasa_url=fake_rasa.url))
    state = app.extensions["handoff"]
    with state.session_factory() as session:
        get_service_settings(session)
        session.query(BusinessHours).delete()
        session.add_all(BusinessHours(weekday=d, opens_minute=0, closes_minute=1440) for d in range(7))
        session.commit()
    state.start_worker(poll=0.2)
    server = make_server("127.0.0.1", free_port(), app, threaded=True)
    server.daemon_threads = True
    thread = threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.1}, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_port}", app
    state.signals.stop()
    server.shutdown()
    server.server_close()
    state.shutdown()


@pytest.fixture
def browser():
    try:
        from playwright.sync_api import sync_playwright
    except ImportError as exc:
        pytest.skip(f"BROWSER TEST SKIPPED: playwright is not installed ({exc})")
    if not shutil.which(CHROMIUM) and not shutil.os.path.exists(CHROMIUM):
        pytest.skip("BROWSER TEST SKIPPED: Debian's chromium is not installed (apt-get install chromium)")
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        yield browser
        browser.close()


def test_agent_takes_over_live_replies_and_returns_to_the_bot(live_server, browser, fake_rasa, make_agent):
    base, app = live_server
    make_agent("Sam", email="sam@example.com", online=False)
    api = requests.Session()
    api.headers["Authorization"] = f"Bearer {API_TOKEN}"
    dialogs: list[str] = []
    page = browser.new_page()
    page.set_default_timeout(20_000)
    page.on("dialog", lambda dialog: (dialogs.append(dialog.message), dialog.accept()))

    page.goto(f"{base}/agent/")
    page.fill("input[name=email]", "sam@example.com")
    page.fill("input[name=password]", PASSWORD)
    page.click("button[type=submit]")
    page.wait_for_url(f"{base}/agent/")
    page.wait_for_selector("body[data-live=on]")  # the event stream is connected
    page.evaluate("window.__stillTheSamePage = true")

    body = escalation_body(
        "browser-1", sender_id="web-customer-1", question='<script>alert("pwned")</script> My internet is down'
    )
    created = api.post(f"{base}/api/escalations", json=body, timeout=10)
    assert created.status_code == 201 and created.json()["accepting"] is True
    conversation_id = created.json()["conversation_id"]
    row = page.wait_for_selector(f'#waiting tr[data-conversation-id="{conversation_id}"]')
    assert '<script>alert("pwned")</script>' in row.inner_text()  # shown as text, not run
    assert page.evaluate("window.__stillTheSamePage") is True  # it arrived without a reload

    page.click(f'[data-testid="claim-{conversation_id}"]')
    page.wait_for_url(f"{base}/agent/conversations/{conversation_id}")
    assert page.inner_text('[data-testid="status"]') == "open"
    assert page.locator(".bot-mark").count() == 1
    assert "router-leds" in page.inner_text("#messages")
    fake_rasa.wait_for(lambda calls: any(c["name"] == "agent_joined" for c in calls))
    page.wait_for_selector("body[data-live=on]")

    api.post(
        f"{base}/api/escalations/{conversation_id}/messages",
        json={"idempotency_key": "live-1", "text": "Hello? Anyone there?", "timestamp": time.time()},
        timeout=10,
    )
    page.wait_for_selector("#messages >> text=Hello? Anyone there?")

    page.fill("#reply-text", "Hi, I am Sam. Let us check your line together.")
    page.click('[data-testid="send-reply"]')
    calls = fake_rasa.wait_for(lambda calls: any(c["name"] == "agent_message" for c in calls))
    reply = next(c for c in calls if c["name"] == "agent_message")
    assert reply["sender_id"] == "web-customer-1"
    assert reply["entities"] == {
        "agent_text": "Hi, I am Sam. Let us check your line together.",
        "agent_name": "Sam",
        "message_id": reply["entities"]["message_id"],
    }  # the widget's "seen" receipt names it
    assert isinstance(reply["entities"]["message_id"], int)
    page.wait_for_selector(".delivery.sent")
    assert page.input_value("#reply-text") == ""

    page.click('[data-testid="return-to-bot"]')
    calls = fake_rasa.wait_for(lambda calls: any(c["name"] == "handoff_ended" for c in calls))
    assert next(c for c in calls if c["name"] == "handoff_ended")["entities"] == {"handoff_outcome": "returned"}
    page.wait_for_selector('[data-testid="status"]:has-text("back with the bot")')
    assert dialogs == ["Hand this conversation back to the bot?"]  # the only dialog: no injected alert
    status = api.get(f"{base}/api/escalations/{conversation_id}", timeout=10).json()
    assert status["status"] == "returned" and status["agent_name"] == "Sam"
