"""Live changes: add, edit and remove entries without a rebuild; other processes pick them up."""

import pytest

from knowledge_base import Entry, FAQError, build_index, load_entries, load_knowledge_base


def test_upsert_adds_an_entry_that_is_found_at_once(kb):
    assert kb.search("Do you ship to Switzerland?", language="en").hits[0].entry_id != "shipping-countries"
    kb.upsert(
        Entry(
            "shipping-countries",
            "en",
            ["Which countries do you ship to?", "Do you deliver abroad?"],
            "We ship within the EU and to Switzerland.",
        )
    )
    hit = kb.search("Do you ship to Switzerland?", language="en").hits[0]
    assert hit.entry_id == "shipping-countries" and hit.answer == "We ship within the EU and to Switzerland."
    assert kb.get("shipping-countries").language == "en"


def test_upsert_edits_an_entry_in_one_language(kb):
    kb.upsert(Entry("track-order", "de", ["Wo ist meine Bestellung?"], "Neue Antwort: siehe Sendungsverfolgung."))
    assert kb.get("track-order", "de").answer == "Neue Antwort: siehe Sendungsverfolgung."
    assert kb.get("track-order", "en").answer.startswith("Use the tracking link")
    assert kb.search("Wo ist meine Bestellung?").hits[0].answer == "Neue Antwort: siehe Sendungsverfolgung."


def test_remove_one_language_then_all(kb):
    assert kb.remove("track-order", "de") is True
    assert kb.get("track-order", "de").language == "en"
    assert kb.remove("track-order") is True
    assert kb.get("track-order") is None
    assert all(h.entry_id != "track-order" for h in kb.search("where is my parcel", k=10).hits)
    assert kb.remove("track-order") is False


def test_invalid_live_entry_is_refused(kb):
    with pytest.raises(FAQError, match="missing or empty answer"):
        kb.upsert(Entry("x", "en", ["Q?"], " "))
    with pytest.raises(FAQError, match="unknown language 'fr'"):
        kb.upsert(Entry("x", "fr", ["Q?"], "A"))


def test_another_process_picks_up_live_changes_and_a_rebuild_resets_them(kb, built, encode, faq_dir):
    other = load_knowledge_base(built, encode=encode)
    kb.upsert(Entry("gift-cards", "en", ["Do you sell gift cards?"], "Yes, from 10 to 200 euros."))
    assert other.reload_if_changed() is True
    assert other.search("can I buy a gift card", language="en").hits[0].entry_id == "gift-cards"
    assert other.reload_if_changed() is False
    fresh = load_knowledge_base(built, encode=encode)
    assert fresh.get("gift-cards") is not None and fresh.manifest["live_changes"] == 1
    from knowledge_base.sources import relative_checksums

    build_index(
        load_entries(faq_dir), built.index_dir, encode=encode, progress=False, sources=relative_checksums(faq_dir)
    )
    assert other.reload_if_changed() is True and other.get("gift-cards") is None


def test_approximate_index_gives_the_same_answers(faq_dir, tmp_path, encode):
    from knowledge_base import Settings

    settings = Settings(faq_path=faq_dir, index_dir=tmp_path / "ann", check_sources=False)
    manifest = build_index(
        load_entries(faq_dir), settings.index_dir, encode=encode, progress=False, options={"ann_min_rows": 1}
    )
    assert manifest["ann"]["type"] == "IVFFlat"
    kb = load_knowledge_base(settings, encode=encode)
    assert kb.search("where is my parcel").hits[0].entry_id == "track-order"
    kb.upsert(Entry("gift-cards", "en", ["Do you sell gift cards?"], "Yes."), persist=False)
    assert kb.search("can I buy a gift card", language="en").hits[0].entry_id == "gift-cards"
