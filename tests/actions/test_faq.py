"""Answering from the knowledge base: answer, clarify, decline, feedback, misses, offers."""

from __future__ import annotations

from actions.faq import (
    ActionAnswerEntry,
    ActionAnswerFromKb,
    ActionFeedbackHelpful,
    ActionFeedbackNotHelpful,
    ActionHandleAffirm,
    ActionHandleDeny,
    ActionNoneOfThese,
    ActionOfferHuman,
)
from tests.actions.conftest import make_tracker, responses, run, slot_events


def test_confident_question_gets_the_answer_link_and_feedback_question(use_kb, handoff):
    events, messages = run(
        ActionAnswerFromKb(), make_tracker("How can I change my delivery address?", slots={"language": "en"})
    )

    assert responses(messages) == ["utter_kb_answer", "utter_kb_answer_link", "utter_ask_helpful"]
    assert "Mein NordNet → Orders" in messages[0]["answer"]
    assert messages[1]["url"] == "https://www.nordnet.example/help/delivery-address"
    slots = slot_events(events)
    assert slots["kb_last"]["band"] == "answer"
    assert slots["kb_last"]["candidates"][0]["entry_id"] == "change-delivery-address"
    assert slots["miss_count"] == 0 and slots["pending_offer"] is None


def test_german_question_is_answered_in_german(use_kb, handoff):
    events, messages = run(
        ActionAnswerFromKb(), make_tracker("Wie ändere ich meine Lieferadresse?", slots={"language": "de"})
    )

    assert responses(messages)[0] == "utter_kb_answer"
    assert "Bestellungen" in messages[0]["answer"]


def test_out_of_scope_question_is_declined_honestly_and_counts_as_a_miss(use_kb, handoff):
    events, messages = run(
        ActionAnswerFromKb(), make_tracker("What is the capital of Mongolia?", slots={"language": "en"})
    )

    assert responses(messages) == ["utter_kb_decline"]
    slots = slot_events(events)
    assert slots["kb_last"]["band"] == "decline"
    assert slots["miss_count"] == 1 and slots["pending_offer"] == "low_confidence"


def test_second_miss_in_a_row_offers_a_person_without_being_asked(use_kb, handoff):
    events, messages = run(
        ActionAnswerFromKb(),
        make_tracker("Do you sell garden furniture?", slots={"language": "en", "miss_count": 1}),
    )

    assert responses(messages) == ["utter_offer_human"]
    assert slot_events(events)["pending_offer"] == "repeated_failure"


def test_choosing_a_suggestion_answers_that_entry(use_kb, handoff):
    tracker = make_tracker(
        '/choose_entry{"entry_id": "internet-down"}',
        intent="choose_entry",
        entities=[{"entity": "entry_id", "value": "internet-down"}],
        slots={"language": "de"},
    )
    events, messages = run(ActionAnswerEntry(), tracker)

    assert responses(messages)[0] == "utter_kb_answer"
    assert "Störungskarte" in messages[0]["answer"]
    assert slot_events(events)["kb_last"]["chosen"] == "internet-down"


def test_helpful_feedback_is_recorded_for_the_answered_entry(use_kb, handoff):
    verdict = {
        "question": "wifi password?",
        "band": "answer",
        "candidates": [{"entry_id": "router-wifi-password", "question": "q", "confidence": 0.9}],
    }
    events, messages = run(
        ActionFeedbackHelpful(),
        make_tracker("/feedback_helpful", intent="feedback_helpful", slots={"kb_last": verdict}),
    )

    assert responses(messages) == ["utter_glad"]
    assert [f["entry_id"] for f in handoff.feedback] == ["router-wifi-password"]
    assert handoff.feedback[0]["helpful"] is True


def test_thumbs_down_offers_the_next_best_candidates_and_none_of_these(use_kb, handoff):
    verdict = {
        "question": "router problem",
        "band": "answer",
        "candidates": [
            {"entry_id": "router-wifi-password", "question": "Where do I find my Wi-Fi password?", "confidence": 0.8},
            {"entry_id": "internet-down", "question": "My internet is not working", "confidence": 0.4},
        ],
    }
    events, messages = run(
        ActionFeedbackNotHelpful(),
        make_tracker(
            "/feedback_not_helpful", intent="feedback_not_helpful", slots={"kb_last": verdict, "language": "en"}
        ),
    )

    assert responses(messages) == ["utter_kb_other_candidates"]
    titles = [b["title"] for b in messages[0]["buttons"]]
    assert titles == ["My internet is not working", "None of these", "Talk to a person"]
    assert messages[0]["buttons"][0]["payload"] == '/choose_entry{"entry_id": "internet-down"}'
    assert messages[0]["buttons"][-1]["payload"] == "/request_human"
    assert handoff.feedback[0]["helpful"] is False
    assert slot_events(events) == {"miss_count": 1, "pending_offer": "negative_feedback"}


def test_none_of_these_after_a_miss_offers_a_person(use_kb, handoff):
    events, messages = run(
        ActionNoneOfThese(), make_tracker("/none_of_these", intent="none_of_these", slots={"miss_count": 1})
    )

    assert responses(messages) == ["utter_offer_human"]
    assert slot_events(events) == {"miss_count": 2, "pending_offer": "repeated_failure"}


def test_frustration_offers_a_person(handoff):
    events, messages = run(ActionOfferHuman(), make_tracker("this is useless", intent="frustration"))

    assert responses(messages) == ["utter_offer_human_frustration"]
    assert slot_events(events) == {"pending_offer": "frustration"}


def test_yes_to_an_offer_hands_off_and_no_keeps_helping(handoff):
    events, _ = run(
        ActionHandleAffirm(), make_tracker("yes", intent="affirm", slots={"pending_offer": "repeated_failure"})
    )
    assert events == [{"event": "followup", "timestamp": None, "name": "action_hand_off"}]

    events, messages = run(
        ActionHandleDeny(),
        make_tracker("no", intent="deny", slots={"pending_offer": "repeated_failure", "miss_count": 2}),
    )
    assert responses(messages) == ["utter_offer_declined"]
    assert slot_events(events) == {"pending_offer": None, "miss_count": 0}


def test_yes_without_an_offer_is_just_acknowledged(handoff):
    events, messages = run(ActionHandleAffirm(), make_tracker("ok", intent="affirm"))
    assert events == [] and responses(messages) == ["utter_ok"]


def test_every_verdict_is_reported_to_analytics_and_a_dead_service_costs_no_answer(use_kb, handoff):
    run(ActionAnswerFromKb(), make_tracker("Where do I find my Wi-Fi password?", slots={"language": "en"}))
    run(ActionAnswerFromKb(), make_tracker("What is the capital of Mongolia?", slots={"language": "en"}))
    run(
        ActionNoneOfThese(),
        make_tracker(
            "/none_of_these",
            intent="none_of_these",
            slots={"kb_last": {"question": "router blinks red", "candidates": []}},
        ),
    )

    assert [e["type"] for e in handoff.events] == ["kb_answer", "kb_decline", "none_of_these"]
    assert handoff.events[0]["entry_id"] == "router-wifi-password" and handoff.events[0]["confidence"] > 0.5
    assert handoff.events[2]["question"] == "router blinks red"

    handoff.down = True
    _, messages = run(
        ActionAnswerFromKb(), make_tracker("Where do I find my Wi-Fi password?", slots={"language": "en"})
    )
    assert responses(messages)[0] == "utter_kb_answer"


def test_a_question_any_assistant_hears_but_the_faq_does_not_cover_is_declined(use_kb, handoff):
    from actions.requests import off_topic

    text = "Wie wird das Wetter morgen in Berlin?"
    events, messages = run(ActionAnswerFromKb(), make_tracker(text, slots={"language": "de"}))
    assert responses(messages) == ["utter_kb_decline"]
    assert slot_events(events)["kb_last"]["band"] == "decline"
    # Even where the FAQ's nearest question came closer than this small FAQ's does, it would not be listed ...
    assert off_topic(use_kb, text, best_faq_score=0.6)
    # ... while a question the FAQ answers is never taken for one.
    question = "Ich bin umgezogen, wo ändere ich die Lieferanschrift?"
    assert not off_topic(use_kb, question, best_faq_score=use_kb.search(question).hits[0].score)


def test_an_entry_published_live_covers_its_questions_at_once(kb, tmp_path):
    import shutil

    from actions.requests import matcher, off_topic
    from knowledge_base import load_knowledge_base
    from knowledge_base.types import Entry

    index = tmp_path / "index"
    shutil.copytree(kb.settings.index_dir, index)
    own = load_knowledge_base(kb.settings.with_(index_dir=index, check_sources=False))
    text = "Gibt es einen Studentenrabatt?"
    before = matcher(own).nearest_uncovered(own, text)
    assert off_topic(own, text, own.search(text).hits[0].score)

    own.upsert(
        Entry("student-discount", "de", ["Gibt es einen Rabatt für Studenten?"], "Ja: 10 % mit Studienbescheinigung."),
        persist=False,
    )
    result = own.search(text)
    assert result.hits[0].entry_id == "student-discount" and result.band == "answer"
    assert not off_topic(own, text, result.hits[0].score)
    # The NLU's own "gibt es einen studentenrabatt" is covered now: nothing like it counts as off-topic any more.
    assert matcher(own).nearest_uncovered(own, text) < before


def _own_copy(kb, tmp_path):
    import shutil

    from knowledge_base import load_knowledge_base

    index = tmp_path / "index"
    shutil.copytree(kb.settings.index_dir, index)
    return load_knowledge_base(kb.settings.with_(index_dir=index, check_sources=False))


def test_a_question_about_another_companys_service_gets_no_answer_of_ours(kb, handoff, tmp_path):
    from actions import providers
    from actions.requests import other_company
    from knowledge_base.types import Entry

    own = _own_copy(kb, tmp_path)
    for entry in (
        Entry(
            "cancel-contract", "de", ["Wie kündige ich meinen Vertrag?"], "Kündigen Sie unter Mein NordNet → Vertrag."
        ),
        Entry("forgot-password", "en", ["I forgot my password"], "Reset it on the Mein NordNet login page."),
        Entry("refund-timing", "en", ["When do I get my money back?"], "Within 14 days, by bank transfer."),
    ):
        own.upsert(entry, persist=False)
    providers.set_kb(own)
    try:
        for text, language in (
            ("Wie kündige ich meine Spotify-Mitgliedschaft?", "de"),
            ("I forgot my Instagram password, how do I get back in?", "en"),
        ):
            events, messages = run(ActionAnswerFromKb(), make_tracker(text, slots={"language": language}))
            # whose service it is, with the offer of a person (domain.yml)
            assert responses(messages) == ["utter_kb_other_company"], text
            assert messages[0]["company"] in ("Spotify", "Instagram")
            assert slot_events(events)["kb_last"]["band"] == "decline"
        # Our own questions are still answered ...
        _, messages = run(
            ActionAnswerFromKb(), make_tracker("Wie kündige ich meinen Vertrag?", slots={"language": "de"})
        )
        assert responses(messages)[0] == "utter_kb_answer"
        # ... also when they name another company's service beside ours.
        assert other_company(own, "Netflix ruckelt abends, das Internet ist total langsam") is None
        assert other_company(own, "Is Netflix included in any of your plans?") is None
        # A telephone company's own account is theirs; switching to or from one is ours (moving a number).
        assert other_company(own, "Wie komme ich an meine PIN fürs Vodafone-Kundenportal?") == "Vodafone"
        assert other_company(own, "What's the phone number of Telekom's support?") == "Telekom"
        assert other_company(own, "Ich wechsle zur Telekom, was passiert mit meiner Nummer?") is None
        assert other_company(own, "Coming over from O2, can my number come along?") is None
        assert other_company(own, "Die LED leuchtet blau, was heißt das?") is None  # a colour, not a brand
        # The customer account on its own is the one with us, an e-mail provider named in it or not.
        assert (
            other_company(own, "In meinem Kundenkonto steht noch meine alte GMX-Mail, wo trage ich die neue ein?")
            is None
        )
        assert other_company(own, "Ich komme nicht mehr in mein GMX-Kundenkonto, wie setze ich das zurück?") == "GMX"
        # The direct debit is ours, a bank named or not; "Aldi Talk" is a telephone company, not the supermarket.
        assert other_company(own, "New bank (N26), where do I change the direct debit for you?") is None
        assert other_company(own, "My new bank is N26. Where do I change the direct debit?") is None
        assert other_company(own, "Ich komme von Aldi Talk, wie bringe ich meine Nummer mit?") is None
        assert other_company(own, "Die Nummernmitnahme von Congstar hakt, was nun?") is None
        assert other_company(own, "Wie lade ich mein Aldi Talk Guthaben auf?") == "Aldi Talk"
        assert other_company(own, "Hat Aldi diese Woche Kopfhörer im Angebot?") == "Aldi"
        # The customer's own thing from another telephone company is theirs, words of ours beside it or not ...
        assert other_company(own, "My Telekom router restarts every hour, what can I do?") == "Telekom"
        assert other_company(own, "Meine O2-Rechnung ist doppelt so hoch wie sonst, an wen wende ich mich?") == "O2"
        # ... unless the customer is changing provider.
        assert other_company(own, "Meine Vodafone-Rechnung kam noch, obwohl ich zu euch gewechselt bin") is None
        assert other_company(own, "My Telekom contract ends in May, can my number be ported to you?") is None
        # A name the FAQ's answers mention is one of our ways of doing things, once an answer mentions it.
        assert other_company(own, "When does PayPal refund me after a return?") == "PayPal"
        own.upsert(
            Entry("refund-timing", "en", ["When do I get my money back?"], "Within 14 days, to PayPal or your bank."),
            persist=False,
        )
        assert other_company(own, "When does PayPal refund me after a return?") is None
    finally:
        providers.set_kb(None)


def test_a_service_the_faq_does_not_describe_is_declined_until_an_entry_describes_it(kb, handoff, tmp_path):
    from actions import providers
    from actions.requests import off_topic
    from knowledge_base.types import Entry

    own = _own_copy(kb, tmp_path)
    own.upsert(
        Entry("keep-number", "de", ["Kann ich meine Rufnummer mitnehmen?"], "Ja, die Mitnahme ist kostenlos."),
        persist=False,
    )
    text = "Wie kann ich beim Telefonieren meine Nummer verbergen?"  # not_covered.yml: caller id
    assert off_topic(own, text, own.search(text).hits[0].score)
    providers.set_kb(own)
    try:
        _, messages = run(ActionAnswerFromKb(), make_tracker(text, slots={"language": "de"}))
        assert responses(messages) == ["utter_kb_decline"]

        # An operator describes the service (as an entry from the console would, with a few ways to ask):
        questions = [
            "Wie unterdrücke ich meine Rufnummer?",
            "Kann ich anonym anrufen?",
            "Wie verberge ich meine Nummer?",
        ]
        own.upsert(Entry("hide-number", "de", questions, "Wählen Sie *31# vor der Nummer."), persist=False)
        _, messages = run(ActionAnswerFromKb(), make_tracker(text, slots={"language": "de"}))
        assert responses(messages)[0] == "utter_kb_answer" and "*31#" in messages[0]["answer"]
    finally:
        providers.set_kb(None)


def test_a_story_around_a_question_the_faq_does_not_cover_is_still_declined(use_kb, handoff):
    text = "I love cooking on weekends. Will Sony refund my PS Plus subscription? It renewed yesterday."
    events, messages = run(ActionAnswerFromKb(), make_tracker(text, slots={"language": "en"}))

    assert responses(messages) == ["utter_kb_decline"]
    assert slot_events(events)["kb_last"]["band"] == "decline"
