"""One knowledge base per process: loaded once (now or in the background), following published changes,
reloaded when its index is rebuilt, and honest about failing to load."""

import time

import pytest

from knowledge_base import FAQError, build_index, load_entries, load_knowledge_base
from knowledge_base.provider import KnowledgeBaseProvider
from knowledge_base.sources import relative_checksums

from tests.knowledge_base.test_follow import GIFT, Store, top


def wait_loaded(provider: KnowledgeBaseProvider, seconds: float = 60.0):
    deadline = time.monotonic() + seconds
    while provider.loading and time.monotonic() < deadline:
        time.sleep(0.05)
    return provider.current()


def test_everyone_gets_the_same_knowledge_base_and_it_follows_what_is_published(built, encode):
    store = Store()
    store.publish("upsert", entry=GIFT)  # published before this process started
    loads = []

    def loader():
        loads.append(1)
        return load_knowledge_base(built, encode=encode)

    provider = KnowledgeBaseProvider(loader, follow_interval=0.05)
    provider.follow(store.fetch)
    try:
        assert provider.current() is None  # nothing loads until asked
        kb = provider.get()
        assert provider.get() is kb and provider.current() is kb and loads == [1]
        assert top(kb, "can I buy a gift card").entry_id == "gift-cards"  # caught up before the first answer
        store.publish("remove", id="gift-cards", language="en")
        deadline = time.monotonic() + 10
        while kb.get("gift-cards") is not None and time.monotonic() < deadline:
            time.sleep(0.05)
        assert kb.get("gift-cards") is None
    finally:
        provider.stop()


def test_a_rebuilt_index_is_picked_up_by_the_next_caller(built, encode, faq_dir):
    provider = KnowledgeBaseProvider(lambda: load_knowledge_base(built, encode=encode))
    kb = provider.get()
    before = kb.manifest["build_id"]
    (faq_dir / "en.yml").write_text(
        (faq_dir / "en.yml")
        .read_text(encoding="utf-8")
        .replace(
            "- id: track-order",
            "- id: gift-cards\n    questions: [Do you sell gift cards?]\n    answer: Yes.\n  - id: track-order",
        ),
        encoding="utf-8",
    )
    build_index(
        load_entries(faq_dir), built.index_dir, encode=encode, progress=False, sources=relative_checksums(faq_dir)
    )
    assert provider.get() is kb and kb.manifest["build_id"] != before
    assert top(kb, "do you sell gift cards").entry_id == "gift-cards"


def test_a_knowledge_base_that_cannot_load_says_why_and_is_retried_only_after_the_pause(built, encode, tmp_path):
    missing = built.with_(index_dir=tmp_path / "no-index")
    attempts = []

    def loader():
        attempts.append(1)
        return load_knowledge_base(missing, encode=encode)

    provider = KnowledgeBaseProvider(loader)
    with pytest.raises(FAQError, match="manifest.json missing"):
        provider.get()  # on demand: the caller gets the error
    provider.load_in_background()
    assert wait_loaded(provider) is None and "manifest.json missing" in provider.error
    provider.load_in_background(retry_after=60)  # failed a moment ago: not again yet
    assert not provider.loading and len(attempts) == 2
    provider.load_in_background(retry_after=0)
    wait_loaded(provider)
    assert len(attempts) == 3
    provider.replace(load_knowledge_base(built, encode=encode))  # e.g. the index got built meanwhile
    assert provider.error is None and top(provider.get(), "where is my parcel").entry_id == "track-order"
