"""Published FAQ changes as a versioned feed: what replicas read, in order, and the console's suggestions follow."""

from __future__ import annotations

import threading
import time

import pytest

from handoff.app import create_app
from handoff.models import FaqChange, FaqRevision
from handoff.services import faq_feed
from knowledge_base.provider import KnowledgeBaseProvider

from tests.handoff.insights_support import admin, backend, build, encoder, faq, kb_settings, live, make_faq  # noqa: F401
from tests.handoff.support import csrf, login

NEW = {
    "id": "pay-bitcoin",
    "language": "en",
    "questions": ["Can I pay with bitcoin?", "Do you take crypto?"],
    "answer": "No, we accept bank transfer and credit card.",
    "url": "https://example.com/help/pay",
    "tags": ["billing", "payment"],
}


def publish_edit_and_retire(client) -> None:
    token = {"X-CSRF-Token": csrf(client)}
    assert client.post("/api/insights/faq", json={**NEW, "new": True}, headers=token).status_code == 201
    edited = {
        "id": "line-fault",
        "language": "en",
        "questions": ["My internet is down"],
        "answer": "Restart the router.",
    }
    assert client.post("/api/insights/faq", json=edited, headers=token).status_code == 201
    assert client.delete("/api/insights/faq/de/router-leds", headers=token).status_code == 200


def test_changes_are_served_in_version_order_to_the_bot_only(client, api, admin, live):
    assert client.get("/api/faq/changes").status_code == 401
    assert api.get("/faq/changes").get_json() == {"version": 0, "more": False, "changes": []}
    publish_edit_and_retire(client)

    feed = api.get("/faq/changes?since=0").get_json()
    assert (feed["version"], feed["more"]) == (3, False)
    assert [(c["version"], c["op"]) for c in feed["changes"]] == [(1, "upsert"), (2, "upsert"), (3, "remove")]
    assert feed["changes"][0]["entry"] == NEW
    assert feed["changes"][1]["entry"]["answer"] == "Restart the router."
    assert {k: feed["changes"][2][k] for k in ("id", "language")} == {"id": "router-leds", "language": "de"}

    page = api.get("/faq/changes?since=1&limit=1").get_json()
    assert (page["version"], page["more"], [c["version"] for c in page["changes"]]) == (2, True, [2])
    assert api.get("/faq/changes?since=3").get_json() == {"version": 3, "more": False, "changes": []}
    assert api.get("/faq/changes?since=7").get_json()["version"] == 3  # below since: the store was replaced


@pytest.mark.parametrize(
    "query, field",
    [
        ("since=-1", "since"),
        ("since=x", "since"),
        ("since=1.5", "since"),
        ("since=99999999999", "since"),
        ("since=%C2%B2", "since"),
        ("limit=0", "limit"),
        ("limit=201", "limit"),
    ],
)
def test_a_bad_version_or_limit_is_a_clear_422(api, query, field):
    response = api.get(f"/faq/changes?{query}")
    assert response.status_code == 422
    assert response.get_json()["error"]["details"][0]["field"] == field


def test_another_replica_with_its_own_index_follows_through_the_api(client, api, admin, live, tmp_path):
    """An action server elsewhere: its own FAQ files and index, built before anything was published."""
    from knowledge_base import load_knowledge_base
    from knowledge_base.follow import Follower

    elsewhere = make_faq(tmp_path / "elsewhere")
    build(elsewhere, tmp_path / "elsewhere" / "index")
    replica = load_knowledge_base(kb_settings(elsewhere, tmp_path / "elsewhere" / "index"), encode=encoder())
    publish_edit_and_retire(client)

    follower = Follower(lambda: replica, lambda since: api.get(f"/faq/changes?since={since}").get_json())
    assert follower.catch_up() == 3 and follower.version == 3
    assert replica.search("Can I pay with bitcoin?", language="en").hits[0].entry_id == "pay-bitcoin"
    assert replica.get("line-fault", "en").answer == "Restart the router."
    assert replica.get("router-leds", "de").language == "en"
    assert "pay-bitcoin" not in (elsewhere / "en.yml").read_text()  # nothing written on the replica's disk


@pytest.mark.parametrize("backend", ["sqlite", pytest.param("postgresql", marks=pytest.mark.postgresql)])
def test_concurrent_publishers_get_distinct_versions_without_gaps(state, backend):
    """Two service workers publishing at once (PostgreSQL: real concurrent transactions) never share a version."""
    errors = []

    def publish(number: int) -> None:
        try:
            with state.session_factory() as session:
                for round_ in range(3):
                    entry = {**NEW, "id": f"entry-{number}-{round_}"}
                    faq_feed.commit_change(
                        session,
                        lambda: FaqChange(
                            agent_email="alex@example.com",
                            action="create",
                            entry_id=entry["id"],
                            language="en",
                            source="en.yml",
                            after=entry,
                        ),
                        "upsert",
                        entry,
                        entry["id"],
                        "en",
                    )
        except Exception as exc:  # noqa: BLE001 - collected and asserted below
            errors.append(exc)

    threads = [threading.Thread(target=publish, args=(n,)) for n in range(6)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert errors == []
    with state.session_factory() as session:
        rows = session.query(FaqRevision).order_by(FaqRevision.version).all()
        assert [r.version for r in rows] == list(range(1, 19))
        assert len({r.change_id for r in rows}) == 18 and len({r.entry_id for r in rows}) == 18
        assert faq_feed.changes_since(session, 0, limit=5)["version"] == 5


def test_console_suggestions_follow_an_entry_published_in_another_process(settings, faq, tmp_path, make_agent):
    """Two handoff processes on one database, each with its own index: publishing in one reaches the other's
    suggestions without a restart, and the publishing one's suggestions at once (Insights shares its KB)."""
    from knowledge_base import load_knowledge_base

    elsewhere = make_faq(tmp_path / "elsewhere")
    build(elsewhere, tmp_path / "elsewhere" / "index")
    here_kb = KnowledgeBaseProvider(lambda: load_knowledge_base(kb_settings(faq, tmp_path / "index"), encode=encoder()))
    there_kb = KnowledgeBaseProvider(
        lambda: load_knowledge_base(kb_settings(elsewhere, tmp_path / "elsewhere" / "index"), encode=encoder()),
        follow_interval=0.2,
    )
    first, second = create_app(settings, knowledge_base=here_kb), create_app(settings, knowledge_base=there_kb)
    here, there = first.extensions["handoff"].suggestions, second.extensions["handoff"].suggestions
    try:
        insights = first.extensions["insights"]  # create_app's, over the app's knowledge base
        insights.faq_path_loader, insights.encode = (lambda: faq), encoder()
        for provider in (here_kb, there_kb):
            assert provider.get() is not None  # loaded and following
        make_agent("Alex", role="admin", email="alex@example.com")
        client = first.test_client()
        login(client, "alex@example.com")

        def top(suggestions):
            found = suggestions.search("Can I pay with bitcoin?", language="en")
            assert found.status == "ok", found.message
            return found.items[0].entry_id

        assert top(here) != "pay-bitcoin" and top(there) != "pay-bitcoin"
        published = client.post("/api/insights/faq", json={**NEW, "new": True}, headers={"X-CSRF-Token": csrf(client)})
        assert published.status_code == 201, published.get_json()
        assert here_kb.get() is first.extensions["insights"].kb()  # one knowledge base in the process
        assert top(here) == "pay-bitcoin"
        deadline = time.monotonic() + 10
        while top(there) != "pay-bitcoin" and time.monotonic() < deadline:
            time.sleep(0.1)
        assert top(there) == "pay-bitcoin"
    finally:
        first.extensions["handoff"].shutdown()
        second.extensions["handoff"].shutdown()


def test_export_writes_the_files_with_every_published_change(client, admin, live, faq, session, tmp_path):
    from knowledge_base import load_entries

    publish_edit_and_retire(client)
    # Publishing edited the files on this disk; export from an unchanged copy, as another pod's disk holds it.
    pristine = make_faq(tmp_path / "pristine")
    assert faq_feed.export_faq(session, pristine, tmp_path / "out") == 3
    exported = {e.key: e for e in load_entries(tmp_path / "out")}
    assert (
        exported[("pay-bitcoin", "en")].answer == NEW["answer"] and exported[("pay-bitcoin", "en")].tags == NEW["tags"]
    )
    assert exported[("line-fault", "en")].answer == "Restart the router."
    assert ("router-leds", "de") not in exported and ("router-leds", "en") in exported
    assert "# hand-written comment that must survive edits" in (tmp_path / "out" / "en.yml").read_text()
    assert faq_feed.export_faq(session, tmp_path / "out", tmp_path / "again") == 0  # already all there
    with pytest.raises(Exception, match="not empty"):
        faq_feed.export_faq(session, pristine, tmp_path / "out")


def test_import_publishes_hand_edits_so_replicas_follow_them(client, api, admin, live, faq, session):
    publish_edit_and_retire(client)
    text = (faq / "en.yml").read_text().replace("Restart the router.", "Restart the router, then wait a minute.")
    (faq / "en.yml").write_text(text)
    changes = faq_feed.import_faq(session, faq, "cli:import")
    # The first import publishes what was never published (the hand-written entries) and the hand edit.
    assert {(c.action, c.entry_id, c.language) for c in changes} == {
        ("create", "router-leds", "en"),
        ("update", "line-fault", "en"),
        ("create", "invoice-wrong", "en"),
        ("create", "line-fault", "de"),
    }
    feed = api.get("/faq/changes?since=3").get_json()["changes"]
    assert (
        next(c for c in feed if c["entry"]["id"] == "line-fault" and c["entry"]["language"] == "en")["entry"]["answer"]
        == "Restart the router, then wait a minute."
    )
    assert faq_feed.import_faq(session, faq, "cli:import") == []  # nothing differs any more
    (faq / "en.yml").write_text(
        text.replace(
            "  - id: invoice-wrong\n    questions:\n      - My invoice is wrong\n"
            "    answer: Tell us what is wrong and we correct it.\n",
            "",
        )
    )
    retired = faq_feed.import_faq(session, faq, "cli:import", retire_missing=True)
    assert [(c.action, c.entry_id) for c in retired] == [("retire", "invoice-wrong")]


def test_the_faq_commands_import_and_export(settings, session, tmp_path, monkeypatch, capsys):
    from handoff.cli import main

    faq_dir = make_faq(tmp_path)
    monkeypatch.setenv("DATABASE_URL", settings.database_url)
    monkeypatch.setenv("FAQ_PATH", str(faq_dir))
    assert main(["faq", "import"]) == 0
    assert "published 5 create, 0 update, 0 retire" in capsys.readouterr().err
    assert main(["faq", "export", str(tmp_path / "out")]) == 0 and (tmp_path / "out" / "en.yml").is_file()
    assert main(["faq", "export", str(tmp_path / "out")]) == 1
    assert "is not empty" in capsys.readouterr().err
    (faq_dir / "broken.yml").write_text("entries: [\n")
    assert main(["faq", "import"]) == 1
    assert "nothing was published" in capsys.readouterr().err
