"""The learning loop end to end: the bot declines a question, an admin publishes an entry for it, the bot answers."""

from __future__ import annotations

import time

import yaml

from tests.e2e.conftest import AgentConsole, Customer, texts

QUESTION = "Can I bring my dog to your shop?"
ANSWER = "Dogs on a lead are welcome in all our shops."


def test_a_declined_question_is_answered_after_an_admin_publishes_an_entry(learning_stack):
    first = Customer(learning_stack)
    assert texts(first.say(QUESTION))[0].startswith("I'm sorry, I don't have a reliable answer")

    admin = AgentConsole(learning_stack.handoff_url).login("admin@nordnet.example", "admin-demo")
    deadline = time.monotonic() + 20
    while True:  # the action server reports the decline with one quick, asynchronous-to-us POST
        report = admin.http.get(f"{learning_stack.handoff_url}/api/insights/report", timeout=120).json()
        cluster = next((c for c in report["clusters"] if QUESTION in c["examples"]), None)
        if cluster or time.monotonic() > deadline:
            break
        time.sleep(0.5)
    assert cluster is not None, report["unanswered"]
    page = admin.http.get(
        f"{learning_stack.handoff_url}/agent/admin/insights/faq/new?cluster={cluster['cluster']}", timeout=120
    ).text
    assert QUESTION in page

    published = admin.http.post(
        f"{learning_stack.handoff_url}/api/insights/faq",
        json={
            "id": "dogs-in-shops",
            "language": "en",
            "questions": cluster["examples"],
            "answer": ANSWER,
            "tags": ["shops"],
            "new": True,
            "origin": f"cluster:{cluster['label']}",
        },
        headers={"X-CSRF-Token": admin.csrf},
        timeout=120,
    )
    assert published.status_code == 201, published.text
    faq = yaml.safe_load((learning_stack.var_dir / "faq" / "en.yml").read_text(encoding="utf-8"))
    assert any(e["id"] == "dogs-in-shops" and e["answer"] == ANSWER for e in faq["entries"])

    # No retraining, no restart: the action server picks the published entry up on the next message.
    again = Customer(learning_stack).say(QUESTION)
    assert ANSWER in texts(again), texts(again)
