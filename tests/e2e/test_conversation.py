"""A German customer the bot cannot help: miss, miss, offer, callback form, confirmation."""

from __future__ import annotations

import re

import pytest

from tests.e2e.conftest import Customer, texts

pytestmark = pytest.mark.e2e


def test_two_misses_offer_a_person_and_nobody_online_leads_to_a_booked_callback(customer: Customer):
    assert "NordNet" in texts(customer.say("Hallo"))[0]

    first_miss = texts(customer.say("Wie hoch ist der Eiffelturm eigentlich?"))
    assert first_miss[0].startswith("Darauf habe ich leider keine verlässliche Antwort")

    second_miss = customer.say("Wer hat die Fußball-WM 2014 gewonnen?")
    assert texts(second_miss) == ["Ich komme hier nicht weiter. Soll ich Sie mit einem Mitarbeiter verbinden?"]

    # The demo agents are offline: the escalation is stored and the callback form starts.
    offer_taken = texts(customer.say("ja"))
    assert offer_taken[0].startswith("Gerade ist leider niemand erreichbar")
    assert offer_taken[-1].startswith("Unter welcher Telefonnummer oder E-Mail-Adresse")

    assert texts(customer.say("das weiß ich nicht"))[0].startswith("Das sieht nicht nach einer gültigen")
    assert texts(customer.say("0170 1234567"))[-1].startswith("Wann passt es Ihnen?")

    window = texts(customer.say("morgen ab 14 Uhr"))
    assert re.match(r"Notiert: \d\d\.\d\d\.\d{4}, 14:00–16:00 Uhr\.", window[0])
    assert window[-1].startswith("Dürfen wir Sie dafür über +491701234567 kontaktieren?")

    confirmation = texts(customer.say("ja"))[0]
    assert confirmation.startswith("Ihr Rückruf ist vereinbart: ")
    assert re.search(r"Referenznummer: CB-[A-Z0-9]+", confirmation)

    tracker = customer.tracker()
    assert tracker["slots"]["callback_reference"] in confirmation
    assert tracker["active_loop"] == {} or tracker["active_loop"].get("name") is None


def test_explicit_request_for_a_person_in_english_hands_over_at_once(customer: Customer):
    replies = texts(customer.say("I want to speak to someone"))
    # Nobody is online in the test, so the honest answer is the callback offer.
    assert replies[0].startswith("Nobody is available right now")
    assert replies[-1].startswith("Which phone number or e-mail address")
    assert texts(customer.say("cancel"))[0].startswith("No problem, I've stopped the callback request")
    # The bot keeps helping afterwards.
    assert customer.say("How do I change my delivery address?")[-1]["buttons"][0]["payload"] == "/feedback_helpful"
