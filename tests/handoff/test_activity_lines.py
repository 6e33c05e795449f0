"""Activity lines are stored as a key with parameters (services/state.py) and read in the agent's language at
display time; lines stored before as English sentences get their keys from the migration."""

from __future__ import annotations

import re

import pytest
from sqlalchemy import select

from handoff.db import make_engine
from handoff.models import Conversation, Message
from handoff.schema import current_revision, downgrade, head_revision, upgrade
from handoff.services.state import ACTIVITY_SENTENCES, activity_sentence
from tests.handoff.support import csrf, login

BEFORE_KEYS = "b8f3d6a2e4c1"  # the revision before activity keys


@pytest.fixture
def backend():
    return "sqlite"


def write_every_kind_of_line(app, client, api, make_agent) -> list[int]:
    make_agent("Sam", email="sam@example.com")
    kim = make_agent("Kim", email="kim@example.com")
    login(client, "sam@example.com")
    first = api.escalate(sender_id="web-lines-1", reason="low_confidence")["conversation_id"]
    for step in ("claim", "transfer:queue", "claim", f"transfer:{kim.id}"):
        action, _, target = step.partition(":")
        data = {"csrf_token": csrf(client), **({"target": target} if target else {})}
        assert client.post(f"/agent/conversations/{first}/{action}", data=data).status_code == 302
    other = app.test_client()
    login(other, "kim@example.com")
    assert other.post(f"/agent/conversations/{first}/resolve", data={"csrf_token": csrf(other)}).status_code == 302
    again = api.escalate(sender_id="web-lines-1", reason="requested")["conversation_id"]
    client.post(f"/agent/conversations/{again}/return", data={"csrf_token": csrf(client)})
    left = api.escalate(sender_id="web-lines-2")["conversation_id"]
    assert api.escalate(sender_id="web-lines-2", reason="frustration")["conversation_id"] == left  # asked again
    assert api.post(f"/escalations/{left}/cancel", {"reason": "customer_left"}).status_code == 200
    chose = api.escalate(sender_id="web-lines-3")["conversation_id"]
    assert api.post(f"/escalations/{chose}/cancel", {"reason": "switched_to_callback"}).status_code == 200
    return [first, again, left, chose]


def activity_rows(session) -> dict[int, tuple[str, dict | None]]:
    rows = session.execute(
        select(Message.id, Message.content, Message.activity).where(Message.message_type == "activity")
    ).all()
    return {row.id: (row.content, row.activity) for row in rows}


def test_services_store_a_key_and_its_parameters_with_the_english_sentence(
    app, client, api, make_agent, open_hours, session
):
    write_every_kind_of_line(app, client, api, make_agent)
    rows = activity_rows(session)
    keys = {stored["key"] for _, stored in rows.values()}
    assert keys >= {
        "claimed",
        "requeued",
        "transferred",
        "resolved",
        "returned",
        "customer_left",
        "switched_to_callback",
        "handed_over",
    }
    assert keys <= set(ACTIVITY_SENTENCES)
    for content, stored in rows.values():
        params = {name: value for name, value in stored.items() if name != "key"}
        assert content == activity_sentence(stored["key"], params)
    assert (
        "Sam transferred the conversation to Kim.",
        {"key": "transferred", "name": "Sam", "target": "Kim"},
    ) in rows.values()
    assert any(
        stored == {"key": "handed_over", "reason": "frustration", "closed": None, "again": True}
        for _, stored in rows.values()
    )


def test_the_migration_gives_english_lines_written_before_their_keys(
    app, client, api, make_agent, open_hours, session, settings
):
    conversations = write_every_kind_of_line(app, client, api, make_agent)
    conversation = session.get(Conversation, conversations[0])
    conversation.messages.append(
        Message(message_type="activity", sender_type="system", content="Something no service ever wrote.")
    )
    session.commit()
    written = activity_rows(session)
    session.close()
    app.extensions["handoff"].shutdown()

    engine = make_engine(settings.database_url)
    downgrade(engine, BEFORE_KEYS)
    upgrade(engine)
    assert current_revision(engine) == head_revision()
    with engine.connect() as connection:
        migrated = {
            row.id: (row.content, row.activity)
            for row in connection.execute(
                select(Message.id, Message.content, Message.activity).where(Message.message_type == "activity")
            )
        }
    engine.dispose()
    assert migrated == written  # every sentence the services wrote maps back to the same key and parameters
    assert ("Something no service ever wrote.", None) in migrated.values()


def test_the_console_reads_keys_in_german_and_unknown_or_erased_lines_as_stored(
    app, client, api, make_agent, open_hours, session
):
    first, *_ = write_every_kind_of_line(app, client, api, make_agent)
    conversation = session.get(Conversation, first)
    conversation.messages.append(
        Message(message_type="activity", sender_type="system", content="Something no service ever wrote.")
    )
    session.commit()
    client.post("/agent/profile/language", data={"csrf_token": csrf(client), "language": "de"})
    html = client.get(f"/agent/conversations/{first}").get_data(as_text=True)
    lines = [
        re.sub(r"\s+", " ", re.sub(r"<[^>]+>", " ", line)).strip()
        for line in re.findall(r'class="msg activity[^"]*">.*?<div class="text">(.*?)</div>', html, re.S)
    ]
    assert "Sam hat das Gespräch an Kim übergeben." in lines, lines
    assert "Something no service ever wrote." in lines

    from handoff.agents import words

    erased = Message(message_type="activity", content="[anonymised]", activity={"key": "claimed", "name": "Sam"})
    assert words.activity(erased) == "[anonymised]"
