"""In a real browser, issue 20: the console alerts an agent to a waiting customer, and speaks German or English.

Headless Chromium from Debian through Playwright. The browser's Notification and Web Audio objects are
wrapped (init script) so the test sees what the page asked the browser to show and play; the page runs
unchanged. Screenshots land in var/screenshots/console-*.png.
"""

from __future__ import annotations

import re
import threading
import time
from dataclasses import replace
from pathlib import Path

import pytest
import requests
from werkzeug.serving import make_server

from handoff.app import create_app
from handoff.models import BusinessHours
from handoff.services.hours import get_service_settings
from tests.handoff.conftest import FakeSuggestions
from tests.handoff.support import API_TOKEN, PASSWORD, escalation_body, free_port
from tests.handoff.test_browser import browser  # noqa: F401 - the Chromium fixture

SCREENSHOTS = Path(__file__).resolve().parents[2] / "var" / "screenshots"
# Records what the page hands to the browser: notifications shown, tones started. Everything else is the real API.
SPY = """
window.__shown = [];
window.__tones = 0;
const RealNotification = window.Notification;
if (RealNotification) {
  class Recorded extends RealNotification {
    constructor(title, options) { super(title, options); window.__shown.push({title, body: (options || {}).body}); }
    static get permission() { return RealNotification.permission; }
    static requestPermission() { return RealNotification.requestPermission(); }
  }
  window.Notification = Recorded;
}
const oscillator = AudioContext.prototype.createOscillator;
AudioContext.prototype.createOscillator = function () { window.__tones += 1; return oscillator.apply(this, arguments); };
"""

pytestmark = pytest.mark.browser


@pytest.fixture
def backend():
    return "sqlite"


@pytest.fixture
def console_server(settings, fake_rasa):
    app = create_app(replace(settings, rasa_url=fake_rasa.url), suggestions=FakeSuggestions())
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
    yield f"http://127.0.0.1:{server.server_port}"
    state.signals.stop()
    server.shutdown()
    server.server_close()
    state.shutdown()


@pytest.fixture
def bot_api(console_server):
    session = requests.Session()
    session.headers["Authorization"] = f"Bearer {API_TOKEN}"

    def escalate(key: str, **overrides) -> int:
        body = escalation_body(key, **overrides)
        if overrides.get("customer", True) is None:
            body.pop("customer")
        response = session.post(f"{console_server}/api/escalations", json=body, timeout=10)
        assert response.status_code == 201, response.text
        return response.json()["conversation_id"]

    def say(conversation_id: int, key: str, text: str) -> None:
        response = session.post(
            f"{console_server}/api/escalations/{conversation_id}/messages",
            json={"idempotency_key": key, "text": text, "timestamp": time.time()},
            timeout=10,
        )
        assert response.status_code == 201, response.text

    escalate.say = say
    return escalate


def open_console(browser, base: str, locale: str, email: str):
    context = browser.new_context(locale=locale, viewport={"width": 1360, "height": 900})
    context.grant_permissions(["notifications"], origin=base)
    context.add_init_script(SPY)
    page = context.new_page()
    page.set_default_timeout(20_000)
    page.goto(f"{base}/agent/")
    page.fill("input[name=email]", email)
    page.fill("input[name=password]", PASSWORD)
    page.click("button[type=submit]")
    page.wait_for_url(f"{base}/agent/")
    page.wait_for_selector("body[data-live=on]")
    return context, page


def wait_until(page, expression: str, timeout: float = 20.0) -> None:
    """Poll a JavaScript expression (the console's CSP forbids Playwright's in-page eval of wait_for_function)."""
    deadline = time.monotonic() + timeout
    while not page.evaluate(expression):
        if time.monotonic() > deadline:
            raise AssertionError(f"never true: {expression}; title {page.title()!r}")
        time.sleep(0.1)


def shoot(page, name: str) -> None:
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(SCREENSHOTS / f"console-{name}.png"), full_page=True)


def test_a_new_waiting_customer_shows_in_the_title_with_a_tone_and_a_notification(
    console_server, browser, bot_api, make_agent
):
    base = console_server
    make_agent("Sam", email="sam@example.com")
    context, page = open_console(browser, base, "de-DE", "sam@example.com")
    assert page.title() == "Warteschlange · NordNet Servicekonsole"
    assert page.evaluate("Notification.permission") == "granted"
    page.check('[data-testid="alert-sound"]')  # the click lets the page play sound
    page.check('[data-testid="alert-notify"]')
    tones = 1  # switching the tone on plays it once
    # at once: a browser that remembers no queue yet still alerts for whoever comes after the page was drawn
    first = bot_api(
        "alert-1",
        sender_id="web-alert-1",
        language="de",
        customer=None,
        question="Mein Internet ist seit heute früh weg",
    )
    wait_until(page, "document.title === '(1) Warteschlange · NordNet Servicekonsole'")
    wait_until(page, "window.__shown.length === 1")
    shown = page.evaluate("window.__shown")[0]
    assert re.fullmatch(r"Neuer Kunde wartet: Kunde \d+ · Widget · de", shown["title"]), shown
    assert shown["body"] == "Mein Internet ist seit heute früh weg"
    wait_until(page, f"window.__tones > {tones}")
    # the count is drawn from the queue fetched after the event that set the title: on a busy machine a moment later
    wait_until(page, "document.querySelector('[data-testid=\"waiting-count\"]').innerText.trim() === '1'")
    shoot(page, "alert-de")

    # one arrival alerts once, however many console pages the agent opens afterwards
    page.goto(f"{base}/agent/conversations")
    page.wait_for_selector("body[data-live=on]")
    wait_until(page, "document.title === '(1) Gespräche · NordNet Servicekonsole'")
    time.sleep(0.5)
    assert page.evaluate("window.__shown.length") == 0  # a new page: its own record, nothing shown again
    bot_api("alert-2", sender_id="web-alert-2", language="de", question="Rechnung doppelt")
    wait_until(page, "document.title.startsWith('(2) ')")
    wait_until(page, "window.__shown.length === 1")
    assert page.evaluate("window.__shown")[0]["title"] == "Neuer Kunde wartet: Erika Mustermann"

    # taking a customer lowers the count in the title
    page.goto(f"{base}/agent/conversations/{first}")
    page.click('[data-testid="claim"]')
    page.wait_for_selector('[data-testid="status"]:has-text("offen")')
    wait_until(page, "document.title.startsWith('(1) #')")
    context.close()


def test_alerts_stay_quiet_until_switched_on(console_server, browser, bot_api, make_agent):
    make_agent("Kim", email="kim@example.com")
    context, page = open_console(browser, console_server, "en-GB", "kim@example.com")
    assert not page.is_checked('[data-testid="alert-sound"]') and not page.is_checked('[data-testid="alert-notify"]')
    bot_api("quiet-1", sender_id="web-quiet-1")
    wait_until(page, "document.title === '(1) Queue · NordNet agent console'")
    time.sleep(0.5)
    assert page.evaluate("[window.__shown.length, window.__tones]") == [0, 0]
    context.close()


def test_the_console_in_german_and_in_english(console_server, browser, bot_api, make_agent):
    base = console_server
    make_agent("Sam", email="sam@example.com")
    conversation_id = bot_api(
        "lang-1",
        sender_id="9f2c4e1ab37d4c0e8f5a6b7c8d9e0f1a",
        language="de",
        customer=None,
        reason="requested",
        question="Wie ändere ich meine Lieferadresse?",
    )
    context, page = open_console(browser, base, "de-DE", "sam@example.com")
    queue = page.inner_text("main")
    for german in (
        "Wartend",
        "Kunde",
        "Widget · de",
        "der Kunde wollte mit einem Menschen sprechen",
        "Übernehmen",
        "Meine Gespräche",
        "Gespräche der Kolleg:innen",
    ):
        assert german in queue, german
    assert "9f2c4e1ab37d4c0e8f5a6b7c8d9e0f1a" not in queue
    shoot(page, "queue-de")

    page.click(f'[data-testid="claim-{conversation_id}"]')
    page.wait_for_url(f"{base}/agent/conversations/{conversation_id}")
    assert page.inner_text('[data-testid="status"]') == "offen"
    transcript = page.inner_text("#messages")
    assert "Vom Bot übergeben: der Kunde wollte mit einem Menschen sprechen." in transcript
    assert "Sam hat das Gespräch übernommen." in transcript
    search = page.locator("#suggest-form input[name=q]")
    assert search.input_value() == "Wie ändere ich meine Lieferadresse?"
    # the customer asks something new: the suggestions follow without a reload
    bot_api.say(conversation_id, "lang-m1", "Und wo finde ich mein WLAN-Passwort?")
    page.wait_for_selector("#messages >> text=Und wo finde ich mein WLAN-Passwort?")
    wait_until(
        page, "document.querySelector('#suggest-form input[name=q]').value === 'Und wo finde ich mein WLAN-Passwort?'"
    )
    page.wait_for_selector("#suggest-list >> text=Diese Antwort verwenden")
    shoot(page, "conversation-de")

    page.goto(f"{base}/agent/profile")
    page.select_option('[data-testid="console-language"]', "en")
    page.click('[data-testid="save-language"]')
    page.wait_for_selector(".flash >> text=Language saved.")
    assert page.inner_text("nav").split()[:2] == ["Queue", "Conversations"]
    shoot(page, "profile-en")
    page.goto(f"{base}/agent/conversations/{conversation_id}")
    assert page.inner_text('[data-testid="status"]') == "open"
    english = page.inner_text("main")
    assert "Handed over by the bot: the customer asked for a person." in english
    assert "Sam took the conversation." in english and "Send to customer" in english
    assert re.search(r"#\d+ · Customer \d+ · Widget · de", english)
    shoot(page, "conversation-en")
    context.close()


def test_callbacks_in_german_name_the_customer(console_server, browser, make_agent):
    from datetime import datetime, timedelta, timezone

    make_agent("Sam", email="sam@example.com")
    start = datetime.now(timezone.utc) + timedelta(minutes=30)
    created = requests.post(
        f"{console_server}/api/callbacks",
        timeout=10,
        headers={"Authorization": f"Bearer {API_TOKEN}"},
        json={
            "idempotency_key": "cb-de",
            "sender_id": "1234567890123456",
            "channel": "facebook",
            "language": "de",
            "contact_method": "phone",
            "contact": "+49301234567",
            "window_start": start.isoformat(),
            "window_end": (start + timedelta(hours=2)).isoformat(),
            "consent": True,
            "transcript": [{"role": "user", "text": "Bitte rufen Sie mich an", "timestamp": time.time()}],
        },
    )
    assert created.status_code == 201, created.text
    context, page = open_console(browser, console_server, "de-DE", "sam@example.com")
    page.goto(f"{console_server}/agent/callbacks")
    row = page.inner_text("#callback-list")
    assert re.search(r"Kunde \d+ · Messenger · de", row) and "anzurufen" in row and "Übernehmen" in row
    shoot(page, "callbacks-de")
    page.click(f"a:has-text('{created.json()['reference']}')")
    page.wait_for_selector("text=Was der Kunde geschrieben hat")
    assert "Bitte rufen Sie mich an" in page.inner_text("main")
    shoot(page, "callback-de")
    context.close()


def test_a_fresh_browser_alerts_for_whoever_came_after_its_page(console_server, browser, bot_api, make_agent):
    """No queue remembered yet, and the first count arrives late: the customer who came meanwhile is still new."""
    agent = make_agent("Sam", email="sam@example.com")
    bot_api("before", sender_id="web-before")  # waiting before the page: not news
    context = browser.new_context(locale="de-DE")
    context.grant_permissions(["notifications"], origin=console_server)
    context.add_init_script(SPY + f"localStorage.setItem('console-{agent.id}-notify', 'on');")
    page = context.new_page()

    def slow_counts(route):
        time.sleep(1.0)  # a slow network: the queue changes before the page hears its first count
        route.continue_()

    page.route("**/agent/counts", slow_counts)
    page.goto(f"{console_server}/agent/login")
    page.fill("input[name=email]", "sam@example.com")
    page.fill("input[name=password]", PASSWORD)
    page.click("button[type=submit]")
    page.wait_for_url(f"{console_server}/agent/")
    bot_api("after", sender_id="web-after", customer=None, question="Kommt jemand?")
    wait_until(page, "window.__shown.length === 1")
    time.sleep(1.5)
    shown = page.evaluate("window.__shown")
    assert len(shown) == 1 and shown[0]["body"] == "Kommt jemand?", shown
    context.close()
