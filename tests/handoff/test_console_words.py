"""Issue 20, the console as a German team reads it: its language, customers' names, suggestions that follow.

The console speaks German or English (the agent's choice, else the browser's); a customer without a name
reads "Kunde 12 · Widget · de", never a sender id; suggestions search the customer's newest message.
"""

from __future__ import annotations

import re
import time
from datetime import datetime, timedelta, timezone

import pytest
from babel.messages.extract import extract_from_dir
from babel.messages.pofile import read_po

from handoff.i18n import TRANSLATIONS, compile_catalogues
from handoff.models import Agent, Contact, Conversation
from tests.handoff.support import csrf, escalation_body, login

HEX_SENDER = "9f2c4e1ab37d4c0e8f5a6b7c8d9e0f1a"


@pytest.fixture
def backend():
    return "sqlite"


@pytest.fixture
def sam(client, make_agent):
    agent = make_agent("Sam", email="sam@example.com")
    login(client, "sam@example.com")
    return agent


def page(client, path: str, language: str | None = None) -> str:
    headers = {"Accept-Language": language} if language else {}
    response = client.get(path, headers=headers)
    assert response.status_code == 200, response.status_code
    return response.get_data(as_text=True)


def text_of(html: str) -> str:
    return re.sub(r"\s+", " ", re.sub(r"<[^>]+>", " ", html))


def choose_language(client, language: str):
    return client.post(
        "/agent/profile/language", data={"csrf_token": csrf(client), "language": language}, follow_redirects=True
    )


# --- the catalogue ------------------------------------------------------------------------------------


def test_every_console_string_has_a_german_translation():
    """A string added to a template or view without a translation fails here: run `make translations`."""
    with (TRANSLATIONS / "de" / "LC_MESSAGES" / "messages.po").open("rb") as handle:
        german = read_po(handle, locale="de")
    method_map = [
        (f"{package}/{pattern}", kind)
        for package in ("agents", "insights")
        for pattern, kind in (("**.py", "python"), ("templates/**.html", "jinja2"))
    ]
    method_map.append(("services/**.py", "python"))  # refusals marked errors.translatable
    keywords = {
        "_": None,
        "gettext": None,
        "ngettext": (1, 2),
        "lazy_gettext": None,
        "_l": None,
        "pgettext": ((1, "c"), 2),
        "translatable": None,
    }
    source = TRANSLATIONS.parent
    used = {
        (message[2] if isinstance(message[2], str) else message[2][0], message[4])
        for message in extract_from_dir(str(source), method_map, keywords=keywords)
    }
    assert len(used) > 300

    def translated(msgid: str, context: str | None) -> bool:
        entry = german.get(msgid, context=context)
        return bool(
            entry
            and entry.string
            and (all(entry.string) if isinstance(entry.string, tuple) else True)
            and not entry.fuzzy
        )

    assert sorted(msgid for msgid, context in used if not translated(msgid, context)) == []
    problems = [(message.id, [str(error) for error in errors]) for message, errors in german.check()]
    assert problems == []  # placeholders like %(name)s match between English and German


def test_catalogues_compile_when_the_po_is_newer(tmp_path):
    source = tmp_path / "translations"
    (source / "de" / "LC_MESSAGES").mkdir(parents=True)
    po = source / "de" / "LC_MESSAGES" / "messages.po"
    po.write_bytes((TRANSLATIONS / "de" / "LC_MESSAGES" / "messages.po").read_bytes())
    assert compile_catalogues(source) == source
    mo = po.with_suffix(".mo")
    first = mo.stat().st_mtime_ns
    compile_catalogues(source)
    assert mo.stat().st_mtime_ns == first  # up to date: left alone
    time.sleep(0.01)
    po.write_text(po.read_text().replace('msgstr "Warteschlange"', 'msgstr "Schlange"'))
    compile_catalogues(source)
    assert b"Schlange" in mo.read_bytes() and mo.stat().st_mtime_ns > first


# --- the agent's language -----------------------------------------------------------------------------


def test_login_page_follows_the_browser(client):
    german = text_of(page(client, "/agent/login", "de-DE,de;q=0.9,en;q=0.5"))
    assert "Anmelden" in german and "Passwort" in german and "NordNet Servicekonsole" in german
    english = text_of(page(client, "/agent/login", "en-GB,en;q=0.9"))
    assert "Log in" in english and "Password" in english and "Anmelden" not in english
    assert 'lang="de"' in page(client, "/agent/login", "de") and 'lang="en"' in page(client, "/agent/login", "fr")


def test_wrong_password_is_said_in_the_browsers_language(client, make_agent):
    make_agent("Sam", email="sam@example.com")
    client.get("/agent/login", headers={"Accept-Language": "de"})
    response = client.post(
        "/agent/login",
        headers={"Accept-Language": "de"},
        data={"csrf_token": csrf(client), "email": "sam@example.com", "password": "wrong-password-1"},
    )
    assert response.status_code == 401 and "E-Mail oder Passwort falsch." in response.get_data(as_text=True)


def test_the_agents_choice_beats_the_browser_and_is_kept(client, api, sam, open_hours, session):
    api.escalate(question="Mein Router blinkt rot", language="de")
    assert "Waiting" in text_of(page(client, "/agent/", "en"))
    saved = text_of(choose_language(client, "de").get_data(as_text=True))
    assert "Sprache gespeichert." in saved  # the confirmation already in the new language
    queue = text_of(page(client, "/agent/", "en-US,en;q=0.9"))
    for german in (
        "Warteschlange",
        "Wartend",
        "Meine Gespräche",
        "der Bot war sich der Antwort nicht sicher",
        "Übernehmen",
        "Abmelden",
        "Ton",
        "Desktop-Benachrichtigung",
    ):
        assert german in queue, german
    assert "My conversations" not in queue and "Claim" not in queue
    session.expire_all()
    assert session.get(Agent, sam.id).ui_language == "de"

    english = text_of(choose_language(client, "en").get_data(as_text=True))
    assert "Language saved." in english
    choose_language(client, "")  # back to the browser's language
    assert "Meine Gespräche" in text_of(page(client, "/agent/", "de"))
    assert "My conversations" in text_of(page(client, "/agent/", "en"))


def test_an_unknown_language_is_refused_and_nothing_changes(client, sam, session):
    choose_language(client, "de")
    response = choose_language(client, "fr")
    assert "Wählen Sie Deutsch, English oder die Sprache des Browsers." in response.get_data(as_text=True)
    session.expire_all()
    assert session.get(Agent, sam.id).ui_language == "de"


def test_german_conversation_page_activity_times_and_flashes(client, api, sam, open_hours):
    conversation_id = api.escalate(reason="requested")["conversation_id"]
    choose_language(client, "de")
    client.post(f"/agent/conversations/{conversation_id}/claim", data={"csrf_token": csrf(client)})
    html = page(client, f"/agent/conversations/{conversation_id}")
    words = text_of(html)
    assert "Vom Bot übergeben: der Kunde wollte mit einem Menschen sprechen." in words
    assert "Sam hat das Gespräch übernommen." in words
    assert "An Kunden senden" in words and "Antwortvorschläge" in words and "Interne Notiz hinzufügen" in words
    assert "offen" in words and "Handed over" not in words and "took the conversation" not in words
    month = {
        1: "Jan.",
        2: "Feb.",
        3: "März",
        4: "Apr.",
        5: "Mai",
        6: "Juni",
        7: "Juli",
        8: "Aug.",
        9: "Sept.",
        10: "Okt.",
        11: "Nov.",
        12: "Dez.",
    }[datetime.now(timezone.utc).month]
    assert month in words  # dates in German
    response = client.post(
        f"/agent/conversations/{conversation_id}/resolve", data={"csrf_token": csrf(client)}, follow_redirects=True
    )
    assert f"Gespräch #{conversation_id} abgeschlossen; der Kunde wird um eine Bewertung gebeten." in response.get_data(
        as_text=True
    )


def test_script_words_come_translated(client, sam):
    choose_language(client, "de")
    html = page(client, "/agent/")
    block = re.search(r'<script type="application/json" id="console-words">(.*?)</script>', html, re.S).group(1)
    import json

    words = json.loads(block)
    assert words["minutes"] == "%(n)s Min." and words["new_customer"] == "Neuer Kunde wartet"
    assert words["use_answer"] == "Diese Antwort verwenden"


# --- readable customers -------------------------------------------------------------------------------


def test_customers_without_a_name_read_as_number_channel_and_language(client, api, sam, open_hours, session):
    body = escalation_body("anon", sender_id=HEX_SENDER, language="de", question="Router blinkt")
    body.pop("customer")
    conversation_id = api.post("/escalations", body).get_json()["conversation_id"]
    contact_id = session.get(Conversation, conversation_id).contact_id
    named = api.escalate(sender_id="web-named")["conversation_id"]

    english = f"Customer {contact_id} · Widget · de"
    german = f"Kunde {contact_id} · Widget · de"
    assert english in text_of(page(client, "/agent/", "en"))
    assert german in text_of(page(client, "/agent/queue/fragment", "de"))
    assert german in text_of(page(client, "/agent/conversations", "de"))
    conversation = text_of(page(client, f"/agent/conversations/{conversation_id}", "de"))
    assert f"#{conversation_id} · {german}" in conversation
    assert "Erika Mustermann" in text_of(page(client, f"/agent/conversations/{named}", "de"))
    # the hex id shows once, in the side panel's "Sender" line, never as the customer's name
    for path in ("/agent/", "/agent/conversations"):
        assert HEX_SENDER not in page(client, path, "de")
    queue = client.get("/agent/counts", headers={"Accept-Language": "de"}).get_json()["queue"]
    assert [item["customer"] for item in queue] == [german, "Erika Mustermann"]


def test_callbacks_name_the_customer_too(client, api, sam, session):
    start = datetime.now(timezone.utc) + timedelta(hours=1)
    created = api.post(
        "/callbacks",
        {
            "idempotency_key": "cb-words",
            "sender_id": HEX_SENDER,
            "channel": "facebook",
            "language": "en",
            "contact_method": "phone",
            "contact": "+49301234567",
            "window_start": start.isoformat(),
            "window_end": (start + timedelta(hours=2)).isoformat(),
            "consent": True,
            "transcript": [{"role": "user", "text": "Bitte rufen Sie mich an", "timestamp": time.time()}],
        },
    )
    assert created.status_code == 201, created.get_json()
    callback_id = created.get_json()["callback_id"]
    contact_id = session.scalar(
        Contact.__table__.select().with_only_columns(Contact.id).where(Contact.sender_id == HEX_SENDER)
    )
    label = f"Kunde {contact_id} · Messenger · en"
    assert label in text_of(page(client, "/agent/callbacks", "de"))
    detail = text_of(page(client, f"/agent/callbacks/{callback_id}", "de"))
    assert label in detail and "Was der Kunde geschrieben hat" in detail and "Telefon" in detail


# --- suggestions follow the customer ------------------------------------------------------------------


def test_suggestions_follow_the_customers_newest_message(client, api, sam, open_hours):
    conversation_id = api.escalate(question="My router blinks red, what now?")["conversation_id"]
    queries = client.application.extensions["handoff"].suggestions.queries
    html = page(client, f"/agent/conversations/{conversation_id}")
    assert 'value="My router blinks red, what now?"' in html  # the question the bot handed over
    client.get(f"/agent/conversations/{conversation_id}/suggestions")
    assert queries[-1][0] == "My router blinks red, what now?"

    def customer_says(key: str, text: str) -> None:
        response = api.post(
            f"/escalations/{conversation_id}/messages", {"idempotency_key": key, "text": text, "timestamp": time.time()}
        )
        assert response.status_code == 201

    customer_says("m1", "And how do I change my delivery address?")
    live = client.get(f"/agent/conversations/{conversation_id}/live?after=0").get_json()
    assert live["suggest_query"] == "And how do I change my delivery address?"
    client.get(f"/agent/conversations/{conversation_id}/suggestions")
    assert queries[-1][0] == "And how do I change my delivery address?"
    customer_says("m2", "Danke")  # one word: nothing to search for, the last real question stays
    assert client.get(f"/agent/conversations/{conversation_id}/live?after=0").get_json()["suggest_query"] == (
        "And how do I change my delivery address?"
    )
    # what the agent types in the search box wins
    client.get(f"/agent/conversations/{conversation_id}/suggestions?q=invoice+twice")
    assert queries[-1][0] == "invoice twice"


def test_a_refused_action_is_explained_in_the_agents_language(client, app, api, sam, make_agent, open_hours):
    conversation_id = api.escalate()["conversation_id"]
    make_agent("Kim", email="kim@example.com")
    other = app.test_client()
    login(other, "kim@example.com")
    other.post(f"/agent/conversations/{conversation_id}/claim", data={"csrf_token": csrf(other)})
    choose_language(client, "de")
    refused = client.post(
        f"/agent/conversations/{conversation_id}/claim", data={"csrf_token": csrf(client)}, follow_redirects=True
    )
    assert "Kim hat dieses Gespräch schon übernommen." in refused.get_data(as_text=True)
    as_json = client.post(
        f"/agent/conversations/{conversation_id}/reply",
        data={"csrf_token": csrf(client), "text": "x"},
        headers={"X-Requested-With": "fetch"},
    ).get_json()
    assert as_json["error"]["message"] == "Antworten nicht möglich: Kim betreut dieses Gespräch."


def test_admin_pages_in_german(client, make_agent):
    make_agent("Alex", role="admin", email="alex@example.com")
    login(client, "alex@example.com")
    choose_language(client, "de")
    expected = {
        "/agent/admin/agents": "Neue:r Mitarbeiter:in",
        "/agent/admin/hours": "Öffnungszeiten",
        "/agent/admin/canned": "Neuer Textbaustein",
        "/agent/admin/privacy": "Datenschutz: Kunden exportieren",
        "/agent/admin/insights/": "Wie diese Zahlen gezählt werden",
        "/agent/admin/insights/faq": "FAQ-Einträge",
    }
    for path, words in expected.items():
        assert words in text_of(page(client, path)), path
    assert "Montag" in page(client, "/agent/admin/hours")  # weekdays from Babel's German calendar


ENGLISH_ACTIVITY = re.compile(
    r"took the conversation|put the conversation back|transferred the conversation|"
    r"resolved the conversation|handed the conversation back|Handed over by the bot|"
    r"The customer (left|switched|cancelled)|The bot handed over again"
)


def activity_lines(html: str) -> list[str]:
    return [
        text_of(line).strip()
        for line in re.findall(r'class="msg activity[^"]*">.*?<div class="text">(.*?)</div>', html, re.S)
    ]


def test_every_activity_line_the_services_write_reads_in_german(client, app, api, sam, make_agent, open_hours):
    kim = make_agent("Kim", email="kim@example.com")
    first = api.escalate(sender_id="web-activity-1")["conversation_id"]
    for step in ("claim", "transfer:queue", "claim", f"transfer:{kim.id}"):
        action, _, target = step.partition(":")
        data = {"csrf_token": csrf(client), **({"target": target} if target else {})}
        assert client.post(f"/agent/conversations/{first}/{action}", data=data).status_code == 302
    other = app.test_client()
    login(other, "kim@example.com")
    other.post(f"/agent/conversations/{first}/resolve", data={"csrf_token": csrf(other)})
    again = api.escalate(sender_id="web-activity-1", reason="requested")["conversation_id"]  # the same customer
    client.post(f"/agent/conversations/{again}/return", data={"csrf_token": csrf(client)})
    left = api.escalate(sender_id="web-activity-2")["conversation_id"]
    assert api.post(f"/escalations/{left}/cancel", {"reason": "customer_left"}).status_code == 200
    chose = api.escalate(sender_id="web-activity-3")["conversation_id"]
    assert api.post(f"/escalations/{chose}/cancel", {"reason": "switched_to_callback"}).status_code == 200

    choose_language(client, "de")
    lines = [
        line
        for conversation_id in (first, again, left, chose)
        for line in activity_lines(page(client, f"/agent/conversations/{conversation_id}"))
    ]
    assert len(lines) >= 10, lines
    assert [line for line in lines if ENGLISH_ACTIVITY.search(line)] == []
    for german in (
        "Sam hat das Gespräch übernommen.",
        "Sam hat das Gespräch zurück in die Warteschlange gestellt.",
        "Sam hat das Gespräch an Kim übergeben.",
        "Kim hat das Gespräch abgeschlossen.",
        "Sam hat das Gespräch an den Bot zurückgegeben.",
        "Der Kunde hat das Gespräch verlassen.",
        "Der Kunde hat stattdessen einen Rückruf angefordert.",
    ):
        assert german in lines, (german, lines)
