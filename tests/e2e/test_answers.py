"""End to end over HTTP: questions in English and German get the knowledge base's answers."""

from __future__ import annotations

import pytest
import requests

from tests.e2e.conftest import Customer, faq_answer, texts

pytestmark = pytest.mark.e2e


def test_every_service_answers_health(stack):
    assert requests.get(f"{stack.handoff_url}/health", timeout=10).status_code == 200
    assert requests.get(f"{stack.actions_url}/health", timeout=10).status_code == 200
    assert "Rasa" in requests.get(f"{stack.rasa_url}/", timeout=10).text


@pytest.mark.parametrize(
    "question, entry_id, language",
    [
        ("How do I change my delivery address?", "change-delivery-address", "en"),
        ("Wie ändere ich meine Lieferadresse?", "change-delivery-address", "de"),
        ("my internet is not working since this morning", "internet-down", "en"),
        ("Mein Internet geht seit heute früh nicht mehr", "internet-down", "de"),
        # the same words, the other way round: the encoder ranks these two the wrong way (actions/direction.py)
        ("I'm coming from Vodafone, can I keep my number with you?", "port-number-in", "en"),
        ("Ich gehe zu congstar, kann ich meine Nummer mitnehmen?", "keep-number-when-leaving", "de"),
    ],
)
def test_questions_get_the_faq_answer_in_the_customers_language(customer: Customer, question, entry_id, language):
    replies = customer.say(question)

    assert texts(replies)[0] == faq_answer(entry_id, language)
    feedback = replies[-1]
    assert [b["payload"] for b in feedback["buttons"]] == ["/feedback_helpful", "/feedback_not_helpful"]


def test_greeting_is_answered_in_german_and_the_language_is_kept(customer: Customer):
    assert "NordNet" in texts(customer.say("Hallo"))[0]
    replies = customer.say("Danke")
    assert texts(replies)[0].startswith("Gern geschehen")


def test_out_of_scope_question_is_declined_honestly(customer: Customer):
    replies = customer.say("What is the capital of Mongolia?")
    assert texts(replies)[0].startswith("I'm sorry, I don't have a reliable answer")
    assert replies[0]["buttons"][0]["payload"] == "/request_human"


@pytest.mark.parametrize(
    "question, says",
    [
        # our cancellation answer would be wrong here: the customer is told whose service it is
        ("Wie kündige ich meine Spotify-Mitgliedschaft?", "Zu Spotify kann ich Ihnen leider nichts sagen"),
        ("My Instagram account got hacked, what do I do?", "I can't help with Instagram"),
    ],
)
def test_a_question_about_another_companys_service_is_declined_with_whose_it_is(customer: Customer, question, says):
    replies = customer.say(question)
    assert texts(replies)[0].startswith(says)
    assert replies[0]["buttons"][0]["payload"] == "/request_human"  # a person stays one click away


@pytest.mark.parametrize(
    "question, reply_starts, language",
    [
        # services a telephone company is asked about that the demo FAQ does not describe (data/nlu/not_covered.yml
        # names the topics, in other words): declined with a person one click away, not the nearest entry
        ("Gibt es bei euch Seniorentarife?", "Darauf habe ich leider keine verlässliche Antwort", "de"),
        ("Was kostet eine Minute vom Festnetz nach Polen?", "Darauf habe ich leider keine verlässliche Antwort", "de"),
        ("Can I get a SIM card just for data in my tablet, without a number?", "I'm sorry, I don't have", "en"),
    ],
)
def test_a_service_the_faq_does_not_describe_is_declined(customer: Customer, question, reply_starts, language):
    replies = customer.say(question)
    assert texts(replies)[0].startswith(reply_starts)
    assert replies[0]["buttons"][0]["payload"] == "/request_human"


@pytest.mark.parametrize(
    "question, entry_id, language",
    [
        # ... while the FAQ questions next to those topics keep their answers
        ("Does using mobile data in Spain cost extra?", "roaming", "en"),
        ("Wie kann ich meinen Tarif verkleinern?", "downgrade-tariff", "de"),
        ("My phone's battery is faulty, how do I send it in under warranty?", "device-warranty", "en"),
    ],
)
def test_faq_questions_next_to_services_it_does_not_describe_keep_their_answers(
    customer: Customer, question, entry_id, language
):
    assert texts(customer.say(question))[0] == faq_answer(entry_id, language)
