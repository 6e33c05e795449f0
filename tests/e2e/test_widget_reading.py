"""The widget as a customer reads it, in German and English, on a desktop and a 390 px phone:
a header whose title, subtitle and close button do not overlap, long answers in paragraphs that
arrive with their start in view, and out of hours the time the team is back."""

from __future__ import annotations

import re
from datetime import datetime, timedelta
from typing import Dict, Iterator, List
from zoneinfo import ZoneInfo

import pytest

from scripts.stack import ROOT, Stack
from tests.e2e.conftest import AgentConsole, faq_answer
from tests.e2e.test_widget import WAIT_MS, ask, browser, wait_for_bot_text  # noqa: F401 - `browser` is a fixture

pytestmark = pytest.mark.e2e

SCREENSHOTS = ROOT / "var" / "screenshots"
SIZES = {"desktop": {"width": 1280, "height": 900}, "phone": {"width": 390, "height": 844}}
QUESTIONS = {"de": "Wie kündige ich meinen Vertrag?", "en": "How do I cancel my contract?"}
HELPFUL = {"de": "Hat Ihnen das geholfen?", "en": "Did this help?"}


@pytest.fixture
def open_widget(browser, stack: Stack):
    """Opens the demo page in ``language`` at ``size`` with the chat window open; closes it afterwards."""
    contexts = []
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)

    def open_(language: str, size: str):
        phone = size == "phone"
        context = browser.new_context(
            locale=f"{language}-DE",
            viewport=SIZES[size],
            is_mobile=phone,
            has_touch=phone,
            device_scale_factor=2 if phone else 1,
        )
        contexts.append(context)
        tab = context.new_page()
        tab.goto(f"{stack.handoff_url}/?lang={language}")
        tab.locator(".rw-launcher").click()
        tab.locator(".rw-response", has_text="NordNet").first.wait_for(timeout=WAIT_MS)  # the greeting
        return tab

    yield open_
    for context in contexts:
        context.close()


def box(page, selector: str) -> Dict[str, float]:
    found = page.locator(selector)
    assert found.count() == 1 and found.is_visible(), f"{selector} is not shown once"
    return found.bounding_box()


def overlap(a: Dict[str, float], b: Dict[str, float]) -> bool:
    return (
        a["x"] < b["x"] + b["width"]
        and b["x"] < a["x"] + a["width"]
        and a["y"] < b["y"] + b["height"]
        and b["y"] < a["y"] + a["height"]
    )


def inside(inner: Dict[str, float], outer: Dict[str, float]) -> bool:
    return (
        inner["x"] >= outer["x"] - 0.5
        and inner["y"] >= outer["y"] - 0.5
        and inner["x"] + inner["width"] <= outer["x"] + outer["width"] + 0.5
        and inner["y"] + inner["height"] <= outer["y"] + outer["height"] + 0.5
    )


@pytest.mark.parametrize("size", SIZES)
@pytest.mark.parametrize(
    "language, title, subtitle",
    [
        ("de", "NordNet Hilfe", "Digitaler Assistent · Mitarbeiter auf Wunsch"),
        ("en", "NordNet Help", "Digital assistant · a person on request"),
    ],
)
def test_header_title_subtitle_and_close_button_do_not_overlap(open_widget, language, title, subtitle, size):
    page = open_widget(language, size)
    header = box(page, ".rw-conversation-container .rw-header")
    title_box = box(page, ".rw-header .rw-title")
    subtitle_box = box(page, ".rw-header > span")
    assert page.locator(".rw-header .rw-title").inner_text() == title
    assert page.locator(".rw-header > span").inner_text() == subtitle
    page.screenshot(path=str(SCREENSHOTS / f"widget-header-{language}-{size}.png"))

    assert not overlap(title_box, subtitle_box), (title_box, subtitle_box)
    assert title_box["y"] + title_box["height"] <= subtitle_box["y"] + 0.5  # title above subtitle
    assert inside(title_box, header) and inside(subtitle_box, header)
    assert inside(header, {"x": 0, "y": 0, **SIZES[size]})
    if size == "phone":  # full screen: the close button is the way back to the page
        close = box(page, ".rw-header .rw-close-button")
        assert not overlap(close, title_box) and not overlap(close, subtitle_box), (close, title_box, subtitle_box)
        assert inside(close, header)
    else:
        assert not page.locator(".rw-header .rw-close-button").is_visible()  # the launcher closes it


@pytest.mark.parametrize("size", SIZES)
@pytest.mark.parametrize("language", ["de", "en"])
def test_a_long_answer_keeps_its_paragraphs_and_arrives_with_its_start_in_view(open_widget, language, size):
    page = open_widget(language, size)
    answer = faq_answer("cancel-contract", language)
    lines = answer.split("\n")
    assert len(lines) == 3 and len(answer) > 700  # three paragraphs, taller than the chat window

    ask(page, QUESTIONS[language])
    wait_for_bot_text(page, re.escape(HELPFUL[language]))  # the answer and everything after it are in
    page.wait_for_timeout(500)  # the widget's own scrolling after the last message
    bubble = page.locator(".rw-response", has_text=lines[0][:40])
    assert bubble.count() == 1  # one answer, one bubble
    paragraphs = [p.strip() for p in bubble.locator(".rw-markdown > p").all_inner_texts()]
    page.screenshot(path=str(SCREENSHOTS / f"widget-long-answer-{language}-{size}.png"))

    assert len(paragraphs) == 3 and [p[:30] for p in paragraphs] == [line[:30] for line in lines], paragraphs
    first, second = (
        bubble.locator(".rw-markdown > p").nth(0).bounding_box(),
        bubble.locator(".rw-markdown > p").nth(1).bounding_box(),
    )
    assert second["y"] >= first["y"] + first["height"] + 4  # a visible gap between paragraphs
    messages = page.locator(".rw-messages-container")
    scroll = messages.evaluate("e => ({top: e.scrollTop, height: e.scrollHeight, visible: e.clientHeight})")
    assert scroll["height"] > scroll["visible"] + 100, scroll  # the conversation does not fit: scrolling matters
    assert scroll["top"] < scroll["height"] - scroll["visible"] - 50, scroll  # not scrolled to the end
    view, start = messages.bounding_box(), bubble.bounding_box()
    header = page.locator(".rw-conversation-container .rw-header").bounding_box()
    # The answer's first line is in view, below the header, inside the message list.
    first_line_bottom = first["y"] + 30
    assert start["y"] >= view["y"] - 1 and start["y"] >= header["y"] + header["height"] - 1, (start, view)
    assert first_line_bottom <= view["y"] + view["height"], (first, view)

    # The customer scrolls on: the widget leaves their scrolling alone.
    messages.hover()
    page.mouse.wheel(0, 5000)
    page.wait_for_timeout(300)
    after = messages.evaluate("e => e.scrollHeight - e.clientHeight - e.scrollTop")
    assert after < 2


WEEKDAYS = {
    "de": ["Montag", "Dienstag", "Mittwoch", "Donnerstag", "Freitag", "Samstag", "Sonntag"],
    "en": ["Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday", "Sunday"],
}


@pytest.fixture
def closed_until_the_day_after_tomorrow(stack: Stack) -> Iterator[int]:
    """The admin's hours page: open only the day after tomorrow (service time) 8:00-20:00; restored afterwards."""
    admin = AgentConsole(stack.handoff_url).login("admin@nordnet.example", "admin-demo")
    admin.post("/agent/presence", presence="offline")  # logging in put them online; nobody is, on `stack`
    saved = business_hours(admin)
    for interval in saved:
        admin.post(f"/agent/admin/hours/intervals/{interval['id']}/delete")
    zone = re.search(r'name="timezone" value="([^"]+)"', admin.http.get(f"{admin.base_url}/agent/admin/hours").text)
    weekday = (datetime.now(ZoneInfo(zone.group(1))) + timedelta(days=2)).weekday()
    admin.post("/agent/admin/hours/intervals", weekday=weekday, opens="08:00", closes="20:00")
    try:
        yield weekday
    finally:
        for interval in business_hours(admin):
            admin.post(f"/agent/admin/hours/intervals/{interval['id']}/delete")
        for interval in saved:
            admin.post(
                "/agent/admin/hours/intervals",
                weekday=interval["weekday"],
                opens=interval["opens"],
                closes=interval["closes"],
            )


def business_hours(admin: AgentConsole) -> List[Dict[str, object]]:
    """The opening times listed on the admin hours page (weekday names read off its own day picker)."""
    page = admin.http.get(f"{admin.base_url}/agent/admin/hours", timeout=30).text
    days = {name.strip(): int(value) for value, name in re.findall(r'<option value="(\d)">([^<]+)</option>', page)}
    rows = re.findall(
        r"<tr><td>([^<]+)</td><td>(\d\d:\d\d)</td><td>(\d\d:\d\d)</td>\s*<td><form method=\"post\" "
        r"action=\"/agent/admin/hours/intervals/(\d+)/delete\"",
        page,
    )
    return [
        {"weekday": days[day.strip()], "opens": opens, "closes": closes, "id": int(id_)}
        for day, opens, closes, id_ in rows
    ]


@pytest.mark.parametrize(
    "language, size, request_text, expected",
    [
        ("de", "phone", "Ich möchte mit einem Mitarbeiter sprechen", "Wir sind ab {day}, 8:00 Uhr wieder da."),
        ("en", "desktop", "I want to talk to a person", "We're back {day} at 8:00."),
    ],
)
def test_out_of_hours_the_customer_reads_when_the_team_is_back(
    open_widget, closed_until_the_day_after_tomorrow, language, size, request_text, expected
):
    sentence = expected.format(day=WEEKDAYS[language][closed_until_the_day_after_tomorrow])
    page = open_widget(language, size)
    ask(page, request_text)
    wait_for_bot_text(page, re.escape(sentence))
    page.wait_for_timeout(800)  # the callback form's first question follows
    page.screenshot(path=str(SCREENSHOTS / f"widget-out-of-hours-{language}-{size}.png"))
    assert page.locator(".nn-chat-hint").count() == 0  # nobody is waiting in a queue
