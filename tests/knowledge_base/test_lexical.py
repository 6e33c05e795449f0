"""The lexical signal meets German customers' words: compounds, lower-case nouns, hyphenated words."""

from __future__ import annotations

from knowledge_base.lexical import BM25, lemmas, split_compound

VOCABULARY = {"router", "passwort", "vertrag", "ende", "kündigung", "frist", "mobil", "funk", "rechnung", "adresse"}


def test_a_compound_splits_into_the_words_the_faq_knows():
    assert split_compound("routerpasswort", VOCABULARY) == ["router", "passwort"]
    assert split_compound("vertragsende", VOCABULARY) == ["vertrag", "ende"]  # linking s
    assert split_compound("kündigungsfrist", VOCABULARY) == ["kündigung", "frist"]
    assert split_compound("mobilfunkvertrag", VOCABULARY) == ["mobil", "funk", "vertrag"]


def test_words_that_are_no_compound_of_known_words_stay_whole():
    assert split_compound("bestellung", VOCABULARY) == []
    assert split_compound("routerxyz", VOCABULARY) == []
    assert split_compound("routerpasswort", VOCABULARY, language="en") == []  # English is left as it was


def test_lower_case_nouns_and_hyphenated_words():
    assert lemmas(["meine rechnungen und verträge"], "de") == [["rechnung", "vertrag"]]
    assert lemmas(["WLAN-Kennwort"], "de") == [["wlan-kennwort", "wlan", "kennwort"]]
    assert lemmas(["my bills and wifi-password"], "en") == [["bill", "wifi", "password"]]


def test_a_compound_in_the_question_meets_its_words_in_the_faq_and_the_other_way_round():
    faq = [
        ["Wie ändere ich das Passwort vom Router?"],
        ["Wie verlängere ich den Vertrag für mein Handy?"],
        ["Wie lange ist die Kündigungsfrist?"],
        ["Wo finde ich meine Rechnung?"],
    ]
    bm25 = BM25.build(faq, ["de"] * 4)
    routerpasswort = bm25.scores("Routerpasswort vergessen", "de")
    assert max(routerpasswort, key=routerpasswort.get) == 0
    handyvertrag = bm25.scores("Handyvertrag verlängern", "de")
    assert max(handyvertrag, key=handyvertrag.get) == 1
    frist = bm25.scores("welche frist gilt für die kündigung", "de")  # the FAQ's compound, split at build
    assert max(frist, key=frist.get) == 2


def test_a_live_edit_splits_its_compounds_too():
    bm25 = BM25.build([["Wo finde ich meine Rechnung?"], ["Wie ändere ich meine Adresse?"]], ["de", "de"])
    bm25.replace(1, ["Rechnungsadresse ändern"], "de")
    assert bm25.doc_terms[1].get("adresse") and bm25.doc_terms[1].get("rechnung")
