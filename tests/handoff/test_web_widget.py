"""The demo page: German or English by the visitor's language, and the widget's socket URL from settings."""

from __future__ import annotations

import dataclasses

import pytest
from werkzeug.datastructures import LanguageAccept
from werkzeug.http import parse_accept_header

from handoff.app import create_app
from handoff.settings import Settings
from handoff.web.widget import page_language


def accept(header: str) -> LanguageAccept:
    return parse_accept_header(header, LanguageAccept)


@pytest.mark.parametrize(
    "requested, header, expected",
    [
        ("de", "en-US", "de"),  # ?lang= wins
        ("EN", "de-DE", "en"),
        ("fr", "de-AT,de;q=0.9", "de"),  # unsupported ?lang= falls back to the browser
        (None, "fr-FR,de;q=0.5,en;q=0.3", "de"),
        (None, "fr-FR", "en"),
        (None, "", "en"),
    ],
)
def test_page_language(requested, header, expected):
    assert page_language(requested, accept(header), ("de", "en")) == expected


def test_a_service_without_english_defaults_to_its_first_language():
    assert page_language(None, accept(""), ("de",)) == "de"


def test_public_rasa_url_defaults_to_rasa_url():
    assert Settings.from_env({"RASA_URL": "http://rasa:5005/"}).rasa_public_url == "http://rasa:5005"
    public = Settings.from_env({"RASA_URL": "http://rasa:5005", "RASA_PUBLIC_URL": "https://chat.nordnet.example/"})
    assert public.rasa_public_url == "https://chat.nordnet.example"


def test_demo_page_in_german_with_the_widget_pointing_at_the_public_rasa_url(settings):
    app = create_app(dataclasses.replace(settings, rasa_public_url="https://chat.nordnet.example"))
    try:
        reply = app.test_client().get("/", headers={"Accept-Language": "de-DE,de;q=0.9,en;q=0.5"})
    finally:
        app.extensions["handoff"].shutdown()
    page = reply.get_data(as_text=True)
    assert reply.headers["Content-Language"] == "de" and "Accept-Language" in reply.headers["Vary"]
    assert '<html lang="de">' in page and "Wie können wir helfen?" in page
    assert 'data-socket-url="https://chat.nordnet.example"' in page and 'data-language="de"' in page
    assert '<script src="/static/web/webchat/webchat.js"></script>' in page


def test_demo_page_in_english_on_request(client):
    page = client.get("/?lang=en", headers={"Accept-Language": "de"}).get_data(as_text=True)
    assert '<html lang="en">' in page and "How can we help?" in page and 'data-language="en"' in page
    assert client.get("/static/web/chat.js").status_code == 200
