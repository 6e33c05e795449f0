"""One knowledge base per handoff process, owned by the app: what Insights publishes, the console suggests at once."""

from __future__ import annotations

import time

import pytest

from handoff.app import create_app
from knowledge_base.provider import KnowledgeBaseProvider

from tests.handoff.insights_support import admin, backend, encoder, faq, kb_settings  # noqa: F401 - fixtures
from tests.handoff.support import csrf

NEW = {
    "id": "pay-bitcoin",
    "language": "en",
    "questions": ["Can I pay with bitcoin?", "Do you take crypto?"],
    "answer": "No, we accept bank transfer and credit card.",
    "tags": ["billing"],
    "new": True,
}


@pytest.fixture
def app(settings, faq, tmp_path):
    from knowledge_base import load_knowledge_base

    provider = KnowledgeBaseProvider(
        lambda: load_knowledge_base(kb_settings(faq, tmp_path / "index"), encode=encoder())
    )
    app = create_app(settings, knowledge_base=provider)
    app.config["TESTING"] = True
    app.extensions["insights"].faq_path_loader = lambda: faq  # the FAQ files the index was built from
    yield app
    app.extensions["handoff"].shutdown()


def suggested(client, conversation_id: int, question: str) -> dict:
    """The console's suggestions for ``question``, once the knowledge base has loaded in the background."""
    url = f"/agent/conversations/{conversation_id}/suggestions"
    deadline = time.monotonic() + 60
    while True:
        found = client.get(url, query_string={"q": question}).get_json()
        if found["status"] != "loading" or time.monotonic() > deadline:
            return found
        time.sleep(0.1)


def test_an_entry_published_in_insights_is_suggested_in_the_console_without_a_restart(app, client, api, admin):
    conversation_id = api.escalate(language="en")["conversation_id"]
    before = suggested(client, conversation_id, "Can I pay with bitcoin?")
    assert before["status"] == "ok", before
    assert "pay-bitcoin" not in [item["entry_id"] for item in before["items"]]

    published = client.post("/api/insights/faq", json=NEW, headers={"X-CSRF-Token": csrf(client)})
    assert published.status_code == 201, published.get_json()

    after = suggested(client, conversation_id, "Can I pay with bitcoin?")
    assert after["status"] == "ok", after
    assert after["items"][0]["entry_id"] == "pay-bitcoin"
    assert after["items"][0]["answer"] == NEW["answer"]
    provider = app.extensions["handoff"].knowledge_base
    assert app.extensions["insights"].kb() is provider.current()  # Insights published through the console's one
    assert provider.follower is not None  # and follows what other replicas publish
