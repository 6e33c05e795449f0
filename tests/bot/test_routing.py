"""Requests for a person or a call must name one; questions that merely sound like it go to the KB."""

from __future__ import annotations

from pathlib import Path

import pytest

from bot.routing import keeps_intent

CASES = Path(__file__).resolve().parents[1] / "nlu_cases"


def phrases(name: str) -> list[str]:
    lines = (CASES / name).read_text(encoding="utf-8").splitlines()
    return [line.strip() for line in lines if line.strip() and not line.startswith("#")]


@pytest.mark.parametrize("name", ["request_human_en.txt", "request_human_de.txt"])
def test_every_written_request_for_a_person_is_kept(name):
    assert [p for p in phrases(name) if not keeps_intent("request_human", p)] == []


@pytest.mark.parametrize("name", ["request_callback_en.txt", "request_callback_de.txt"])
def test_every_written_request_for_a_callback_is_kept(name):
    assert [p for p in phrases(name) if not keeps_intent("request_callback", p)] == []


@pytest.mark.parametrize(
    "text",
    [
        "Can someone help me unblock my pin?",
        "I can't get the ATM to give me any cash",
        "My card is broken",
        "talk to me in a speedier manner from here on out",
        "who is your supervisor",
        "are you one of my employees",
        "bitte meinen vertrag beenden",
    ],
)
def test_questions_without_a_person_are_not_requests_for_one(text):
    assert not keeps_intent("request_human", text)


@pytest.mark.parametrize(
    "text",
    [
        "please call me tom",
        "from now on, refer to me as chuck",
        "call contact aj",
        "call back my mom please",
        "sync phone",
        "i want to call up jan",
    ],
)
def test_names_and_other_peoples_calls_are_not_callback_requests(text):
    assert not keeps_intent("request_callback", text)


def test_other_intents_pass_untouched():
    assert keeps_intent("greet", "hello") and keeps_intent("ask_question", "agent")


# --- Requests the classifier missed are promoted (issue 17) ---
from bot.routing import promoted_intent  # noqa: E402


@pytest.mark.parametrize(
    "text, intent",
    [
        ("this bot is useless, get me a person", "request_human"),
        ("Who can I talk to about this? I need an actual person.", "request_human"),
        ("Verbinde mich bitte mit dem Support", "request_human"),
        ("Ich will keinen Bot, ich will einen Menschen", "request_human"),
        ("Bitte rufen Sie mich heute zwischen 17 und 18 Uhr zurück.", "request_callback"),
        ("can you call me back tomorrow morning?", "request_callback"),
    ],
)
def test_requests_in_unseen_words_are_promoted(text, intent):
    assert promoted_intent("ask_question", text) == intent
    assert promoted_intent("frustration", text) == intent


@pytest.mark.parametrize(
    "text",
    [
        "What is the number of your hotline?",
        "Was kostet ein Anruf bei der Hotline?",
        "who is your supervisor",
        "are you a real person?",
        "please cancel my callback",
        "Rückruf bitte stornieren",
        "Can you write me a poem?",
        "Can someone help me unblock my PIN?",
        "please call me Tom",
        "Why can't anyone call me on my landline?",
        "Wie ändere ich meine Lieferadresse?",
    ],
)
def test_questions_cancellations_and_names_are_not_promoted(text):
    assert promoted_intent("ask_question", text) is None


def test_an_unsure_request_is_made_sure_and_payloads_stay():
    # The classifier's own request_human at 0.56 would fall to nlu_fallback (threshold 0.6): the words decide.
    assert promoted_intent("request_human", "This bot is useless, get me an agent") == "request_human"
    assert promoted_intent("request_human", "Can someone call me back tomorrow?") == "request_callback"
    assert (
        promoted_intent("ask_question", "Rückruf bitte, Festnetz 040 9876543, ab 14 Uhr erreichbar")
        == "request_callback"
    )
    assert promoted_intent("ask_question", "/request_human") is None


@pytest.mark.parametrize(
    "text, intent",
    [
        ("Is this a machine? Then please put me through to one of your staff.", "request_human"),
        ("bist du eine KI? wenn ja, gib mir bitte einen Menschen", "request_human"),
        ("Wann seid ihr erreichbar? Ich bräuchte persönliche Beratung zu meinem Tarif.", "request_human"),
        ("Ich möchte das mit einem Verantwortlichen klären, bitte verbinden", "request_human"),
        ("could somebody from your service team take over here", "request_human"),
        ("Kann ihr jemand von euch weiterhelfen? Meine Oma versteht das Portal nicht.", "request_human"),
        ("Mir wäre es lieber, telefonisch kontaktiert zu werden.", "request_callback"),
        ("give me a call later today please", "request_callback"),
        ("drop me an email with the details", "request_callback"),
    ],
)
def test_requests_in_other_shapes_are_promoted(text, intent):
    assert promoted_intent("ask_question", text) == intent


@pytest.mark.parametrize(
    "text",
    [
        "are you a bot?",
        "Bist du ein Mensch?",
        "Do you have job openings in your support team?",
        "Bietet ihr Ausbildungsplätze im Kundenservice an?",
        "Wann ist der Kundenservice erreichbar?",
    ],
)
def test_questions_about_the_bot_or_working_here_are_not_requests(text):
    assert promoted_intent("ask_question", text) is None


@pytest.mark.parametrize(
    "text, intent",
    [
        ("Das würde ich gern mit einem Experten besprechen, es ist kompliziert", "request_human"),
        ("Kann ich das bei einer kompetenten Person loswerden?", "request_human"),
        ("Hallo, ist da irgendjemand?", "request_human"),
        ("Hört mir hier überhaupt jemand zu oder nur ein Roboter?", "request_human"),
        ("is anyone there who can help", "request_human"),
        ("Kann mich bitte jemand am Freitag zwischen 9 und 10 Uhr morgens auf dem Handy anrufen?", "request_callback"),
        ("Could we schedule a call for Monday morning?", "request_callback"),
        ("Bitte rufen Sie mich morgen an, ich will nicht chatten", "request_callback"),
        ("Gibt es hier echte Hilfe oder nur automatische Texte?", "request_human"),
        ("Is there real support here or only automated replies?", "request_human"),
        ("Keiner hilft mir, rufen Sie mich bitte an", "request_callback"),
        ("Ist gerade jemand vom Kundenservice erreichbar?", "request_human"),
        ("Is anyone available to help me with my bill?", "request_human"),
        # a sentence of a few words naming a person, after others
        ("That's enough, this is going nowhere. Human agent!", "request_human"),
        ("Ich hab jetzt dreimal gefragt. Mitarbeiter bitte.", "request_human"),
        ("I don't want any more canned responses from a machine", "request_human"),
        ("Keine automatischen Antworten mehr, ich will das klären", "request_human"),
        ("Ich versuche ständig euch zu erreichen, ruft mich bitte zurück", "request_callback"),
        (
            "Ich bin 80 und komme mit dem Programm hier nicht klar. Kann mir bitte jemand persönlich helfen?",
            "request_human",
        ),
        ("I'm not good with computers, could someone help me personally?", "request_human"),
        # who is in charge, then wanting to talk to that one
        (
            "Die Antworten hier bringen nichts. Wer kümmert sich bei euch um sowas? Mit dem will ich reden.",
            "request_human",
        ),
        ("Who is in charge of billing over there? I want to speak to them today.", "request_human"),
        # asked whether it is a robot, then wanting a person of flesh and blood
        ("Bist du ein Roboter? Dann will ich lieber mit wem aus Fleisch und Blut reden.", "request_human"),
        ("Are you a robot? If so, I'd like someone of flesh and blood, please.", "request_human"),
        # being put through, in the passive
        ("It's about a tricky contract takeover, can I be put through to a member of your staff?", "request_human"),
        # a call for someone else: a parent, a grandmother
        ("Mein Vater kommt mit dem Chat nicht klar. Rufen Sie ihn bitte morgen früh an?", "request_callback"),
        ("My mum can't type well, could you call her back on 0171 2223334 this afternoon?", "request_callback"),
    ],
)
def test_requests_with_experts_anyone_there_and_long_call_windows_are_promoted(text, intent):
    assert promoted_intent("ask_question", text) == intent


@pytest.mark.parametrize(
    "text",
    [
        "Ich will nicht, dass ihr mich anruft",
        "Wie kann ich verhindern, dass mich Werbeanrufer anrufen?",
        "I do not want you to call me",
        "stop calling me",
        "Bist du ein Mensch oder nur ein Roboter?",
        "Sind Sie ein Roboter?",
        "Wie richte ich einen Experten-Modus im Router ein?",
        "Mich hat gestern jemand von euch angerufen, wer war das?",
        "Since the outage nobody can call us on the landline anymore",  # a fault, not a callback
        "Seit gestern kann uns niemand mehr anrufen",
        "Wann ist jemand vom Support erreichbar?",  # the hours: the FAQ's
        "Wie ist die Hotline erreichbar?",
        "Ihr Kundenservice hat mir gestern am Telefon gut geholfen. Danke!",  # names a person, asks for none
        "Warum ruft ihr mich dauernd wegen neuer Tarife an? Bitte abstellen",  # a complaint about calls
        "you keep calling me about offers, how do I make it stop",
        # who is responsible is the data-protection FAQ's question, even beside "I want"
        "I want to complain about how you handle my data, who's responsible for that?",
        "Wer ist bei euch für den Datenschutz zuständig?",
        "Muss ich für die Identifizierung persönlich in einen Shop kommen?",
        "Can someone pick up the parcel for me or do I have to sign in person?",
        "Who did I talk to yesterday about my contract?",
    ],
)
def test_not_wanting_calls_and_questions_about_experts_are_not_requests(text):
    assert promoted_intent("ask_question", text) is None
