"""Following published FAQ changes: applied in memory in version order, kept over reloads, robust to outages."""

import logging
import threading
import time

from knowledge_base import Entry, build_index, load_entries, load_knowledge_base
from knowledge_base.follow import Follower

GIFT = {
    "id": "gift-cards",
    "language": "en",
    "questions": ["Do you sell gift cards?", "Can I buy a voucher?"],
    "answer": "Yes, from 10 to 200 euros.",
    "tags": ["shop"],
    "url": None,
}


class Store:
    """The handoff service's change feed as it answers GET /api/faq/changes, in memory; ``down`` makes it fail."""

    def __init__(self, page: int = 200):
        self.changes: list[dict] = []
        self.page = page
        self.down = False
        self.calls = 0

    def publish(self, op: str, **fields) -> int:
        self.changes.append({"version": len(self.changes) + 1, "op": op, **fields})
        return len(self.changes)

    def fetch(self, since: int) -> dict:
        self.calls += 1
        if self.down:
            raise ConnectionError("handoff service unreachable")
        after = [c for c in self.changes if c["version"] > since][: self.page]
        more = bool(after) and after[-1]["version"] < len(self.changes)
        return {"version": after[-1]["version"] if after else len(self.changes), "more": more, "changes": after}


def top(kb, text, language="en"):
    return kb.search(text, language=language).hits[0]


def test_published_changes_are_applied_in_order_and_only_the_last_of_an_entry_counts(kb):
    store = Store(page=2)
    store.publish("upsert", entry=GIFT)
    store.publish("upsert", entry={**GIFT, "answer": "Yes, from 5 to 500 euros."})
    store.publish("remove", id="track-order", language="de")
    follower = Follower(lambda: kb, store.fetch)
    assert follower.catch_up() == 3 and follower.version == 3 and store.calls == 2  # two pages
    hit = top(kb, "can I buy a gift card")
    assert (hit.entry_id, hit.answer) == ("gift-cards", "Yes, from 5 to 500 euros.")
    assert kb.get("track-order", "de").language == "en"  # the German one is gone, the English one stays
    assert follower.catch_up() == 0 and follower.version == 3


def test_an_entry_the_index_already_holds_is_not_encoded_again(kb, encode):
    calls = []

    def counting(texts):
        calls.append(len(texts))
        return encode(texts)

    kb._encode = counting
    same = kb.get("track-order", "en")
    changed = kb.follow(
        [
            {
                "version": 1,
                "op": "upsert",
                "entry": {
                    "id": same.id,
                    "language": "en",
                    "questions": same.questions,
                    "answer": same.answer,
                    "tags": same.tags,
                    "url": same.url,
                },
            }
        ]
    )
    assert changed == 0 and calls == []
    assert kb.follow([{"version": 2, "op": "upsert", "entry": GIFT}]) == 1 and calls == [3]


def test_followed_changes_survive_a_reload_from_disk(kb, built, encode, faq_dir):
    kb.follow(
        [
            {"version": 1, "op": "upsert", "entry": GIFT},
            {"version": 2, "op": "remove", "id": "reset-password", "language": "en"},
        ]
    )
    from knowledge_base.sources import relative_checksums

    build_index(
        load_entries(faq_dir), built.index_dir, encode=encode, progress=False, sources=relative_checksums(faq_dir)
    )  # a rebuild from the unchanged files
    assert kb.reload_if_changed() is True
    assert top(kb, "can I buy a gift card").entry_id == "gift-cards"
    assert kb.get("reset-password", "en").language == "de"


def test_an_entry_this_index_cannot_take_is_skipped_and_the_rest_applied(kb, caplog):
    with caplog.at_level(logging.WARNING):
        changed = kb.follow(
            [
                {"version": 1, "op": "upsert", "entry": {**GIFT, "language": "fr"}},
                {"version": 2, "op": "upsert", "entry": GIFT},
            ]
        )
    assert changed == 1 and "gift-cards (fr) skipped" in caplog.text
    assert top(kb, "can I buy a gift card").entry_id == "gift-cards"


def test_a_replica_starting_later_catches_up(built, encode):
    store = Store()
    store.publish("upsert", entry=GIFT)
    first = load_knowledge_base(built, encode=encode)
    Follower(lambda: first, store.fetch).catch_up()
    store.publish("remove", id="gift-cards", language="en")
    later = load_knowledge_base(built, encode=encode)
    assert Follower(lambda: later, store.fetch).catch_up() == 2
    assert later.get("gift-cards") is None and later.get("track-order") is not None


def test_the_source_being_down_keeps_the_index_serving_and_the_thread_retries(kb, caplog):
    store = Store()
    store.down = True
    follower = Follower(lambda: kb, store.fetch, interval=0.05)
    with caplog.at_level(logging.WARNING, logger="knowledge_base.follow"):
        follower.start()
        try:
            time.sleep(0.3)
            assert follower.failing_since is not None
            assert top(kb, "where is my parcel").entry_id == "track-order"  # still answering
            store.publish("upsert", entry=GIFT)
            store.down = False
            deadline = time.monotonic() + 35  # the backoff is capped
            while follower.version < 1 and time.monotonic() < deadline:
                time.sleep(0.05)
        finally:
            follower.stop()
    assert follower.version == 1 and top(kb, "can I buy a gift card").entry_id == "gift-cards"
    warnings = [r.getMessage() for r in caplog.records]
    assert sum("cannot read FAQ changes" in w for w in warnings) == 1  # one warning per outage, not per poll
    assert any("reachable again" in w for w in warnings)


def test_a_replaced_store_is_followed_from_its_beginning(kb):
    store = Store()
    for answer in ("one", "two", "three"):
        store.publish("upsert", entry={**GIFT, "answer": answer})
    follower = Follower(lambda: kb, store.fetch)
    follower.catch_up()
    fresh = Store()
    fresh.publish("upsert", entry={**GIFT, "answer": "from the new database"})
    follower._fetch = fresh.fetch
    follower.catch_up()
    assert follower.version == 1 and kb.get("gift-cards", "en").answer == "from the new database"


def test_searches_run_while_changes_are_applied(kb):
    errors = []

    def search():
        for _ in range(30):
            try:
                kb.search("where is my parcel", language="en")
            except Exception as exc:  # noqa: BLE001 - collected and asserted below
                errors.append(exc)

    thread = threading.Thread(target=search)
    thread.start()
    for n in range(5):
        kb.follow([{"version": n + 1, "op": "upsert", "entry": {**GIFT, "id": f"gift-{n}"}}])
    thread.join()
    assert errors == [] and kb.get("gift-4") is not None
    assert isinstance(kb.get("gift-0"), Entry)
