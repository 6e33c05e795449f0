"""Issue 20: what a service refuses (form checks, conflicts) reads in the console's language, not only in English."""
from __future__ import annotations

import html
import re

import pytest

from handoff.services.errors import Invalid, translatable
from tests.handoff.support import csrf, login


@pytest.fixture
def backend():
    return "sqlite"


@pytest.fixture
def admin(client, make_agent):
    make_agent("Alex", role="admin", email="alex@example.com")
    login(client, "alex@example.com")


def refused(client, path: str, language: str, **form) -> str:
    """The flashed refusal after posting ``form`` as an agent whose browser asks for ``language``."""
    headers = {"Accept-Language": language}
    page = client.post(path, data={"csrf_token": csrf(client), **form}, headers=headers, follow_redirects=True)
    found = re.search(r'class="flash error"[^>]*>(.*?)</', page.get_data(as_text=True), re.S)
    assert found, page.get_data(as_text=True)[:2000]
    return html.unescape(re.sub(r"\s+", " ", found.group(1))).strip()


NEW_AGENT = {"email": "kim(at)example.com", "display_name": "Kim", "role": "agent", "languages": ["de"],
             "capacity": "99", "active": "on", "password": "correct-horse-9"}


def test_the_agent_form_refuses_in_german_and_in_english(client, admin):
    assert refused(client, "/agent/admin/agents", "de", **NEW_AGENT) == (
        "die E-Mail-Adresse sieht falsch aus; die Kapazität muss zwischen 1 und 50 liegen")
    assert refused(client, "/agent/admin/agents", "en", **NEW_AGENT) == (
        "e-mail address looks wrong; capacity must be 1 to 50")
    short = {**NEW_AGENT, "email": "kim@example.com", "capacity": "3", "password": "kurz"}
    assert refused(client, "/agent/admin/agents", "de", **short) == "das Passwort braucht mindestens 8 Zeichen"
    client.post("/agent/admin/agents", data={"csrf_token": csrf(client), **short, "password": "correct-horse-9"})
    again = {**short, "password": "correct-horse-9"}
    assert refused(client, "/agent/admin/agents", "de", **again) == (
        "ein Mitarbeiter mit kim@example.com existiert bereits")


def test_business_hours_and_presence_refuse_in_german(client, admin):
    assert refused(client, "/agent/admin/hours/intervals", "de", weekday="1", opens="8 Uhr", closes="18:00") == (
        "Öffnungszeit: bitte als HH:MM")
    assert refused(client, "/agent/admin/hours/intervals", "de", weekday="1", opens="18:00", closes="08:00") == (
        "die Öffnungszeit muss vor der Schließzeit liegen")
    assert refused(client, "/agent/presence", "de", presence="busy") == (
        "der Status muss einer von online, away, offline sein")


def test_a_transfer_to_a_missing_agent_is_refused_in_german(api, client, admin, open_hours):
    conversation = api.escalate(sender_id="web-1")["conversation_id"]
    client.post(f"/agent/conversations/{conversation}/claim", data={"csrf_token": csrf(client)})
    assert refused(client, f"/agent/conversations/{conversation}/transfer", "de", target="999") == (
        "Diesen Mitarbeiter gibt es nicht, oder er ist deaktiviert.")


def test_a_refusal_keeps_its_english_for_the_bot_api_and_logs():
    error = Invalid([(translatable("e-mail address looks wrong"), {}),
                     (translatable("the password needs at least %(n)d characters"), {"n": 8})])
    assert error.message == "e-mail address looks wrong; the password needs at least 8 characters"
    assert error.translated(lambda template, **values: (template % values if values else template).upper()) == (
        "E-MAIL ADDRESS LOOKS WRONG; THE PASSWORD NEEDS AT LEAST 8 CHARACTERS")
    assert Invalid("100 % sure").message == "100 % sure"  # a sentence without values is taken as it is
