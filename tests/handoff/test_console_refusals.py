"""Issue 20: what a service refuses (form checks, conflicts) reads in the console's language, not only in English."""

from __future__ import annotations

import html
import re

import pytest

from handoff.services.errors import Conflict, Invalid, Term, translatable
from tests.handoff.support import csrf, login


@pytest.fixture
def backend():
    return "sqlite"


@pytest.fixture
def admin(client, make_agent):
    make_agent("Alex", role="admin", email="alex@example.com")
    login(client, "alex@example.com")


def refused(client, path: str, browser_language: str, **form) -> str:
    """The flashed refusal after posting ``form`` as an agent whose browser asks for ``browser_language``."""
    headers = {"Accept-Language": browser_language}
    page = client.post(path, data={"csrf_token": csrf(client), **form}, headers=headers, follow_redirects=True)
    found = re.search(r'class="flash error"[^>]*>(.*?)</', page.get_data(as_text=True), re.S)
    assert found, page.get_data(as_text=True)[:2000]
    return html.unescape(re.sub(r"\s+", " ", found.group(1))).strip()


NEW_AGENT = {
    "email": "kim(at)example.com",
    "display_name": "Kim",
    "role": "agent",
    "languages": ["de"],
    "capacity": "99",
    "active": "on",
    "password": "correct-horse-9",
}


def test_the_agent_form_refuses_in_german_and_in_english(client, admin):
    assert refused(client, "/agent/admin/agents", "de", **NEW_AGENT) == (
        "die E-Mail-Adresse sieht falsch aus; die Kapazität muss zwischen 1 und 50 liegen"
    )
    assert refused(client, "/agent/admin/agents", "en", **NEW_AGENT) == (
        "e-mail address looks wrong; capacity must be 1 to 50"
    )
    short = {**NEW_AGENT, "email": "kim@example.com", "capacity": "3", "password": "kurz"}
    assert refused(client, "/agent/admin/agents", "de", **short) == "das Passwort braucht mindestens 8 Zeichen"
    client.post("/agent/admin/agents", data={"csrf_token": csrf(client), **short, "password": "correct-horse-9"})
    again = {**short, "password": "correct-horse-9"}
    assert refused(client, "/agent/admin/agents", "de", **again) == (
        "ein Mitarbeiter mit kim@example.com existiert bereits"
    )


def test_business_hours_and_presence_refuse_in_german(client, admin):
    assert refused(client, "/agent/admin/hours/intervals", "de", weekday="1", opens="8 Uhr", closes="18:00") == (
        "Öffnungszeit: bitte als HH:MM"
    )
    assert refused(client, "/agent/admin/hours/intervals", "de", weekday="1", opens="18:00", closes="08:00") == (
        "die Öffnungszeit muss vor der Schließzeit liegen"
    )
    assert refused(client, "/agent/presence", "de", presence="busy") == (
        "der Status muss einer von online, away, offline sein"
    )


def test_a_transfer_to_a_missing_agent_is_refused_in_german(api, client, admin, open_hours):
    conversation = api.escalate(sender_id="web-1")["conversation_id"]
    client.post(f"/agent/conversations/{conversation}/claim", data={"csrf_token": csrf(client)})
    assert refused(client, f"/agent/conversations/{conversation}/transfer", "de", target="999") == (
        "Diesen Mitarbeiter gibt es nicht, oder er ist deaktiviert."
    )


def test_a_refusal_keeps_its_english_for_the_bot_api_and_logs():
    error = Invalid(
        [
            (translatable("e-mail address looks wrong"), {}),
            (translatable("the password needs at least %(n)d characters"), {"n": 8}),
        ]
    )
    assert error.message == "e-mail address looks wrong; the password needs at least 8 characters"
    assert error.translated(lambda template, **values: (template % values if values else template).upper()) == (
        "E-MAIL ADDRESS LOOKS WRONG; THE PASSWORD NEEDS AT LEAST 8 CHARACTERS"
    )
    assert Invalid("100 % sure").message == "100 % sure"  # a sentence without values is taken as it is


def flashed(page) -> str:
    """The error flashed on a page."""
    found = re.search(r'class="flash error"[^>]*>(.*?)</', page.get_data(as_text=True), re.S)
    assert found, page.get_data(as_text=True)[:2000]
    return html.unescape(re.sub(r"\s+", " ", found.group(1))).strip()


def post(client, path: str, **form):
    return client.post(path, data={"csrf_token": csrf(client), **form})


def test_a_conversation_refusal_names_the_action_and_the_status_in_the_agents_language(
    client, admin, api, make_agent, app, open_hours
):
    path = f"/agent/conversations/{api.escalate()['conversation_id']}"
    assert refused(client, f"{path}/reply", "de", text="Hallo") == (
        "Antworten nicht möglich: das Gespräch ist wartend. Übernehmen Sie es zuerst."
    )
    post(client, f"{path}/claim")
    post(client, f"{path}/resolve")
    assert refused(client, f"{path}/resolve", "de") == "Abschließen nicht möglich: das Gespräch ist abgeschlossen."
    assert refused(client, f"{path}/resolve", "en") == "Cannot resolve: the conversation is resolved."
    assert refused(client, f"{path}/transfer", "de", target="") == (
        "Übergeben nicht möglich: das Gespräch ist abgeschlossen."
    )
    assert refused(client, f"{path}/return", "de") == "Das Gespräch ist schon abgeschlossen."

    other = f"/agent/conversations/{api.escalate()['conversation_id']}"
    post(client, f"{other}/claim")  # Alex has it; Kim (not an admin) cannot hand it back
    make_agent("Kim", email="kim@example.com")
    kim = app.test_client()
    login(kim, "kim@example.com")
    assert refused(kim, f"{other}/return", "de") == ("An den Bot zurückgeben nicht möglich: das Gespräch gehört Alex.")
    assert refused(kim, f"{other}/return", "en") == "Cannot return it to the bot: the conversation belongs to Alex."


def test_a_callback_refusal_reads_in_german_with_the_callbacks_status_word(client, admin, api):
    from tests.handoff.test_api_callbacks import callback_body

    callback = api.post("/callbacks", callback_body()).get_json()
    path = f"/agent/callbacks/{callback['callback_id']}"
    assert refused(client, f"{path}/outcome", "de", outcome="maybe") == "das Ergebnis muss done oder no_answer sein"
    post(client, f"{path}/outcome", outcome="done")
    assert (
        refused(client, f"{path}/cancel", "de")
        == f"Rückruf {callback['reference']} ist jetzt erledigt; bitte neu laden."
    )
    assert refused(client, "/agent/callbacks/999999/claim", "de") == "Rückruf 999999 existiert nicht"
    # The bot API keeps its English sentence and code.
    gone = api.client.post("/api/callbacks/NOPE-1/cancel", headers={**api.headers, "Accept-Language": "de"})
    assert gone.status_code == 404 and gone.get_json()["error"] == {
        "code": "not_found",
        "message": "callback NOPE-1 does not exist",
    }


BAD_DRAFT = {"id": "Bad Id!", "language": "en", "questions": "", "answer": "  ", "is_new": "1"}


def problems(client, browser_language: str, **form) -> list[str]:
    """The FAQ editor's list of what stops a draft, as the admin reads it."""
    page = client.post(
        "/agent/admin/insights/faq",
        data={"csrf_token": csrf(client), **form},
        headers={"Accept-Language": browser_language},
    )
    assert page.status_code == 422
    box = re.search(r'id="problems">(.*?)</div>', page.get_data(as_text=True), re.S).group(1)
    return [
        html.unescape(re.sub(r"\s+", " ", re.sub(r"<[^>]+>", "", item))).strip()
        for item in re.findall(r"<li>(.*?)</li>", box, re.S)
    ]


def test_the_faq_editor_says_what_stops_a_draft_in_german_and_english(client, admin):
    assert problems(client, "de", action="publish", confirm="yes", **BAD_DRAFT) == [
        "id darf nur Kleinbuchstaben, Ziffern, - oder _ enthalten (z. B. change-address)",
        "questions braucht mindestens eine Frage, eine pro Zeile",
        "answer darf nicht leer sein",
    ]
    assert problems(client, "en", action="preview", **BAD_DRAFT) == [
        "id must be lower-case letters, digits, - or _ (e.g. change-address)",
        "questions needs at least one question, one per line",
        "answer must not be empty",
    ]
    good = {**BAD_DRAFT, "id": "pay-bitcoin", "questions": "Bitcoin?", "answer": "No."}
    assert problems(client, "de", action="publish", **good) == [
        "confirm Zum Veröffentlichen „Jetzt für Kunden veröffentlichen“ ankreuzen; Prüfen zeigt, was hinausgeht."
    ]
    # The insights API keeps its English sentence and per-field details, whatever the browser's language.
    api = client.post(
        "/api/insights/faq",
        json={**BAD_DRAFT, "new": True},
        headers={"X-CSRF-Token": csrf(client), "Accept-Language": "de"},
    )
    error = api.get_json()["error"]
    assert api.status_code == 422 and error["message"] == (
        "id must be lower-case letters, digits, - or _ (e.g. change-address); "
        "questions needs at least one question, one per line; answer must not be empty"
    )
    assert [(d["field"], d["message"]) for d in error["details"]] == [
        ("id", "must be lower-case letters, digits, - or _ (e.g. change-address)"),
        ("questions", "needs at least one question, one per line"),
        ("answer", "must not be empty"),
    ]


def test_insights_flashes_a_bad_period_and_a_missing_entry_in_german(client, admin):
    report = client.get("/agent/admin/insights/?from=2025-05-07&to=2025-05-01", headers={"Accept-Language": "de"})
    assert flashed(report) == "from darf nicht nach 'to' liegen"
    assert refused(client, "/agent/admin/insights/faq/retire", "de", id="no-such-entry", language="de") == (
        "kein FAQ-Eintrag 'no-such-entry' in de"
    )
    assert refused(client, "/agent/admin/insights/faq/retire", "en", id="no-such-entry", language="de") == (
        "no FAQ entry 'no-such-entry' in de"
    )


def test_a_status_in_a_refusal_is_the_stored_key_for_the_bot_api_and_logs():
    error = Conflict(translatable("The conversation is already %(status)s."), status=Term("returned", "status"))
    assert error.message == "The conversation is already returned."
