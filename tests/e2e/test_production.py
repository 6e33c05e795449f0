"""The production shape (issue 8): PostgreSQL tracker store, Redis lock store, two Rasa servers behind
the round-robin proxy, gunicorn handoff workers, the action server. Load and faults, on loopback.

Every fault here is a crash (SIGKILL), followed by a restart of the same service: the customer
always gets a clear message, no message is lost, and the conversation carries on without manual steps.
"""
from __future__ import annotations

import os
import shutil
import subprocess
import tempfile
import threading
import time
import uuid
from pathlib import Path
from typing import Any, Dict, List

import pytest
import requests

from bench.load import run_load
from bot.resilience import MESSAGES as TECHNICAL_PROBLEM
from scripts.prod import LocalRedis, ProdStack, fresh_secrets
from scripts.stack import PYTHON, ROOT, free_port, train
from tests.e2e.conftest import faq_answer

pytestmark = [pytest.mark.e2e, pytest.mark.postgresql]


@pytest.fixture(scope="module")
def prod() -> ProdStack:
    model = train()
    base = Path(tempfile.mkdtemp(prefix="nordnet-prod-"))
    base.chmod(0o755)  # the postgres user must reach its cluster directory
    secrets = fresh_secrets()
    index = base / "kb_index"
    subprocess.run([str(PYTHON), "-m", "knowledge_base", "build", "--no-progress"], cwd=ROOT, check=True,
                   env={**os.environ, "KB_INDEX_DIR": str(index), "HF_HUB_OFFLINE": "1"})
    secrets["KB_INDEX_DIR"] = str(index)
    stack = ProdStack(
        proxy_port=free_port(), rasa_ports=[free_port(), free_port()], actions_port=free_port(),
        handoff_port=free_port(), pg_port=free_port(), redis_port=free_port(), var_dir=base,
        env=dict(secrets), log_dir=base / "logs",  # durable: a crash must not lose commits
    )
    try:
        stack.start(model, timeout=300)
    except Exception:
        for log in sorted((base / "logs").glob("*.log")):
            print(f"----- {log.name} -----\n{log.read_text(errors='replace')[-4000:]}")
        raise
    stack.secrets = secrets  # type: ignore[attr-defined]
    yield stack
    stack.stop()
    shutil.rmtree(base, ignore_errors=True)


class Customer:
    def __init__(self, base_url: str, token: str) -> None:
        self.base_url, self.token = base_url, token
        self.sender = f"prod-{uuid.uuid4().hex[:10]}"

    def say(self, text: str, base_url: str | None = None) -> List[str]:
        response = requests.post(f"{base_url or self.base_url}/webhooks/rest/webhook",
                                 json={"sender": self.sender, "message": text}, timeout=120)
        assert response.status_code == 200, response.text[:300]
        return [m["text"] for m in response.json() if m.get("text")]

    def user_messages(self) -> List[str]:
        # After a database restart a server's first query may find a dead pooled connection (an
        # error the HTTP API reports as 500; SQLAlchemy then renews the pool): ask again.
        for _ in range(4):
            response = requests.get(f"{self.base_url}/conversations/{self.sender}/tracker",
                                    params={"token": self.token}, timeout=60)
            if response.status_code == 200:
                break
            time.sleep(0.5)
        assert response.status_code == 200, response.text[:300]
        return [e["text"] for e in response.json()["events"] if e.get("event") == "user"]


def customer(prod: ProdStack) -> Customer:
    return Customer(prod.proxy_url, prod.secrets["RASA_TOKEN"])  # type: ignore[attr-defined]


def test_concurrent_conversations_alternating_between_two_servers_stay_whole(prod):
    servers = [prod.rasa_url(0), prod.rasa_url(1)]
    figures = run_load(servers, conversations=16, messages=6, concurrency=8,
                       token=prod.secrets["RASA_TOKEN"], progress=False)  # type: ignore[attr-defined]

    assert figures["conversations_with_problems"] == 0, figures["problems"]
    assert figures["messages"] == 96 and figures["per_server"] == [48, 48]


def test_the_api_refuses_requests_without_the_token(prod):
    response = requests.get(f"{prod.proxy_url}/conversations/anyone/tracker", timeout=30)
    assert response.status_code == 401


def test_a_crashed_rasa_server_costs_no_message(prod):
    alice = customer(prod)
    assert faq_answer("change-delivery-address", "en") in alice.say("How do I change my delivery address?")
    prod.kill("rasa1")
    try:
        for text in ("hello", "What does the status of my order mean?", "thanks!"):
            assert alice.say(text), f"no reply to {text!r} with one Rasa server down"
    finally:
        prod.restart("rasa1")
    assert alice.say("hallo")
    assert alice.user_messages() == [
        "How do I change my delivery address?", "hello", "What does the status of my order mean?", "thanks!", "hallo",
    ]


def test_a_dead_action_server_is_explained_and_the_conversation_recovers(prod):
    bob = customer(prod)
    bob.say("hallo")
    prod.kill("actions")
    try:
        replies = bob.say("Wie ändere ich meine Lieferadresse?")
        assert TECHNICAL_PROBLEM["de"] in replies
    finally:
        prod.restart("actions")
    assert faq_answer("change-delivery-address", "de") in bob.say("Wie ändere ich meine Lieferadresse?")
    assert bob.user_messages() == ["hallo", "Wie ändere ich meine Lieferadresse?", "Wie ändere ich meine Lieferadresse?"]


def _restart_later(action, delay: float) -> threading.Thread:
    thread = threading.Thread(target=lambda: (time.sleep(delay), action()))
    thread.start()
    return thread


def test_a_redis_restart_mid_conversation_is_retried_not_lost(prod):
    carol = customer(prod)
    carol.say("hello")
    redis: LocalRedis = prod.redis
    redis.kill()
    restarting = _restart_later(redis.start, 1.0)
    replies = carol.say("How can I track my order?")  # waits in the channel's retries
    restarting.join()
    assert faq_answer("order-status", "en") in replies
    assert carol.user_messages() == ["hello", "How can I track my order?"]


def test_redis_staying_down_gets_a_clear_message_and_recovers(prod):
    dave = customer(prod)
    dave.say("hello")
    prod.redis.kill()
    try:
        started = time.monotonic()
        replies = dave.say("How can I track my order?")
        assert replies == [TECHNICAL_PROBLEM["en"]]
        assert time.monotonic() - started < 30
    finally:
        prod.redis.start()
    assert faq_answer("order-status", "en") in dave.say("How can I track my order?")


def test_a_postgresql_crash_mid_conversation_is_retried_and_nothing_is_lost(prod):
    erin = customer(prod)
    erin.say("hello")
    erin.say("How can I track my order?")
    prod.postgres.kill()
    restarting = _restart_later(prod.postgres.start, 1.0)
    replies = erin.say("What does the status of my order mean?")
    restarting.join()
    assert faq_answer("order-status", "en") in replies
    assert erin.user_messages() == ["hello", "How can I track my order?", "What does the status of my order mean?"]


def test_a_handoff_service_crash_mid_handoff_loses_no_customer_message(prod):
    from scripts.prod import ADMIN_EMAIL
    from tests.e2e.conftest import AGENT_PASSWORD, AgentConsole

    admin = AgentConsole(prod.handoff_url).login(ADMIN_EMAIL, prod.secrets["HANDOFF_ADMIN_PASSWORD"])  # type: ignore[attr-defined]
    for weekday in range(7):
        admin.post("/agent/admin/hours/intervals", weekday=weekday, opens="00:00", closes="24:00")
    suffix = uuid.uuid4().hex[:6]
    admin.post("/agent/admin/agents", email=f"kim.{suffix}@nordnet.example", display_name=f"Kim {suffix}",
               role="agent", languages=["de", "en"], capacity="3", active="on", password=AGENT_PASSWORD)
    agent = AgentConsole(prod.handoff_url).login(f"kim.{suffix}@nordnet.example", AGENT_PASSWORD)
    agent.post("/agent/presence", presence="online")

    frank = customer(prod)
    frank.say("Ich habe eine Frage zu meiner Rechnung")
    assert any(t.startswith("Ich verbinde Sie mit einem Mitarbeiter") for t in frank.say("Mensch bitte"))
    tracker = requests.get(f"{prod.proxy_url}/conversations/{frank.sender}/tracker",
                           params={"token": frank.token}, timeout=60).json()
    conversation = int(tracker["slots"]["escalation_id"])
    agent.claim(conversation)

    prod.kill("handoff")
    try:
        # The relay fails: the customer is told the message is kept, not left wondering.
        assert frank.say("Meine Kundennummer ist 4711") == [
            "Ihre Nachricht ist gespeichert und wird dem Mitarbeiter zugestellt, sobald die Verbindung wieder steht."]
    finally:
        prod.restart("handoff")
    assert frank.say("Sind Sie noch da?") == []  # relayed silently, together with the kept one

    page = agent.http.get(f"{prod.handoff_url}/agent/conversations/{conversation}", timeout=30).text
    assert "Meine Kundennummer ist 4711" in page and "Sind Sie noch da?" in page
    assert page.count("Meine Kundennummer ist 4711") == page.count("Sind Sie noch da?")  # each exactly as often
    agent.post("/agent/presence", presence="offline")
