"""The real system for end-to-end tests: trained Rasa model, action server, handoff service."""

from __future__ import annotations

import os
import subprocess
import uuid
from typing import Any, Dict, List

import pytest
import requests

from scripts.stack import PYTHON, ROOT, Stack, free_port, train


@pytest.fixture(scope="session")
def stack(tmp_path_factory: pytest.TempPathFactory) -> Stack:
    """All three services on free ports, with their own databases and index in a temp dir."""
    var = tmp_path_factory.mktemp("var")
    model = train()  # no-op when the model matches its data (make test trains first)
    env = {
        "DATABASE_URL": f"sqlite:///{var / 'handoff.db'}",
        "KB_INDEX_DIR": str(var / "kb_index"),
        "HANDOFF_API_TOKEN": "e2e-token",
        "HF_HUB_OFFLINE": "1",
    }
    subprocess.run(
        [str(PYTHON), "-m", "knowledge_base", "build", "--no-progress"],
        cwd=ROOT,
        env={**os.environ, **env},
        check=True,
    )
    running = Stack(free_port(), free_port(), free_port(), var_dir=var, env=env, log_dir=var / "logs")
    try:
        running.start(model, timeout=240)
    except Exception:
        for log in sorted((var / "logs").glob("*.log")):
            print(f"----- {log.name} -----\n{log.read_text(errors='replace')[-5000:]}")
        raise
    # Nobody online at any hour: the same callback offer whenever the tests run (not "closed" at night).
    # Logging in puts the admin online: offline again, or the admin would be the agent on duty.
    open_around_the_clock(running).post("/agent/presence", presence="offline")
    yield running
    running.stop()


class Customer:
    """One customer talking to the bot over Rasa's REST channel."""

    def __init__(self, stack: Stack, language: str | None = None) -> None:
        self.stack = stack
        self.sender = f"e2e-{uuid.uuid4().hex[:10]}"

    def say(self, text: str) -> List[Dict[str, Any]]:
        response = requests.post(
            f"{self.stack.rasa_url}/webhooks/rest/webhook",
            json={"sender": self.sender, "message": text},
            timeout=60,
        )
        response.raise_for_status()
        return response.json()

    def tracker(self) -> Dict[str, Any]:
        response = requests.get(
            f"{self.stack.rasa_url}/conversations/{self.sender}/tracker",
            params={"token": self.stack.rasa_token},
            timeout=30,
        )
        response.raise_for_status()
        return response.json()


@pytest.fixture
def customer(stack: Stack) -> Customer:
    return Customer(stack)


def texts(messages: List[Dict[str, Any]]) -> List[str]:
    return [m.get("text", "") for m in messages]


def faq_answer(entry_id: str, language: str) -> str:
    import yaml

    data = yaml.safe_load((ROOT / "data" / "faq" / f"{language}.yml").read_text(encoding="utf-8"))
    return next(e["answer"].strip() for e in data["entries"] if e["id"] == entry_id)


# --- Channels (issue 6): Messenger against a fake Graph API, the website widget, agents at work ---

MESSENGER_ENV = {
    "FB_VERIFY_TOKEN": "e2e-verify-token",
    "FB_APP_SECRET": "e2e-app-secret",
    "FB_PAGE_ACCESS_TOKEN": "e2e-page-access-token",
}
AGENT_PASSWORD = "e2e-agent-password"


@pytest.fixture(scope="session")
def fake_graph():
    """Facebook's Graph API as a local server that records and checks the Send API requests."""
    from tests.e2e.fake_graph import FakeGraph

    graph = FakeGraph(MESSENGER_ENV["FB_PAGE_ACCESS_TOKEN"], MESSENGER_ENV["FB_APP_SECRET"]).start()
    yield graph
    graph.stop()


@pytest.fixture(scope="session")
def channels_stack(tmp_path_factory: pytest.TempPathFactory, fake_graph) -> Stack:
    """The whole system again, with Messenger configured (FB_*) and pointed at the fake Graph API.

    Separate from `stack`: these tests open business hours and put agents online, which the tests
    on `stack` (nobody online, so a callback) must not see.
    """
    var = tmp_path_factory.mktemp("channels")
    model = train()
    env = {
        "DATABASE_URL": f"sqlite:///{var / 'handoff.db'}",
        "KB_INDEX_DIR": str(var / "kb_index"),
        "HANDOFF_API_TOKEN": "e2e-token",
        "HF_HUB_OFFLINE": "1",
        **MESSENGER_ENV,
        "FB_GRAPH_URL": fake_graph.url,
    }
    subprocess.run(
        [str(PYTHON), "-m", "knowledge_base", "build", "--no-progress"],
        cwd=ROOT,
        env={**os.environ, **env},
        check=True,
    )
    running = Stack(free_port(), free_port(), free_port(), var_dir=var, env=env, log_dir=var / "logs")
    try:
        running.start(model, timeout=240)
    except Exception:
        for log in sorted((var / "logs").glob("*.log")):
            print(f"----- {log.name} -----\n{log.read_text(errors='replace')[-5000:]}")
        raise
    yield running
    running.stop()


class AgentConsole:
    """A person using the handoff service's agent console over HTTP, as the console's pages do."""

    def __init__(self, base_url: str) -> None:
        self.base_url = base_url
        self.http = requests.Session()
        self.csrf = ""
        self.name = ""

    def _token(self, path: str) -> str:
        import re

        page = self.http.get(f"{self.base_url}{path}", timeout=30)
        page.raise_for_status()
        return re.search(r'name="csrf_token" value="([^"]+)"', page.text).group(1)

    def login(self, email: str, password: str) -> "AgentConsole":
        token = self._token("/agent/login")
        reply = self.http.post(
            f"{self.base_url}/agent/login",
            data={"csrf_token": token, "email": email, "password": password, "next": ""},
            timeout=30,
        )
        reply.raise_for_status()
        self.csrf = self._token("/agent/")  # a new session (and token) after logging in
        return self

    def post(self, path: str, **form: Any) -> requests.Response:
        reply = self.http.post(
            f"{self.base_url}{path}",
            data={"csrf_token": self.csrf, **form},
            headers={"X-Requested-With": "fetch"},
            timeout=30,
        )
        assert reply.status_code < 400, f"POST {path}: HTTP {reply.status_code} {reply.text[:300]}"
        return reply

    def claim(self, conversation_id: int) -> None:
        self.post(f"/agent/conversations/{conversation_id}/claim")

    def reply(self, conversation_id: int, text: str) -> None:
        self.post(f"/agent/conversations/{conversation_id}/reply", text=text)

    def resolve(self, conversation_id: int) -> None:
        self.post(f"/agent/conversations/{conversation_id}/resolve")


def open_around_the_clock(stack: Stack) -> AgentConsole:
    """The demo admin opens business hours around the clock (admin hours page), so tests run at any hour."""
    admin = AgentConsole(stack.handoff_url).login("admin@nordnet.example", "admin-demo")
    for weekday in range(7):
        admin.post("/agent/admin/hours/intervals", weekday=weekday, opens="00:00", closes="24:00")
    return admin


@pytest.fixture(scope="session")
def open_for_handoffs(channels_stack: Stack) -> AgentConsole:
    """The demo admin, who has opened business hours around the clock so tests run at any hour."""
    return open_around_the_clock(channels_stack)


@pytest.fixture
def online_agent(channels_stack: Stack, open_for_handoffs: AgentConsole) -> AgentConsole:
    """A new agent (German and English) of its own, logged in and online; offline after the test."""
    suffix = uuid.uuid4().hex[:6]
    name = f"Alex {suffix}"
    email = f"alex.{suffix}@nordnet.example"
    open_for_handoffs.post(
        "/agent/admin/agents",
        email=email,
        display_name=name,
        role="agent",
        languages=["de", "en"],
        capacity="3",
        active="on",
        password=AGENT_PASSWORD,
    )
    agent = AgentConsole(channels_stack.handoff_url).login(email, AGENT_PASSWORD)
    agent.name = name
    agent.post("/agent/presence", presence="online")
    yield agent
    agent.post("/agent/presence", presence="offline")


def escalation_id(stack: Stack, sender_id: str) -> int:
    """The handoff service's conversation id for a customer, as the bot stored it."""
    tracker = requests.get(
        f"{stack.rasa_url}/conversations/{sender_id}/tracker", params={"token": stack.rasa_token}, timeout=30
    ).json()
    return int(tracker["slots"]["escalation_id"])


# --- Operator insight (issue 7): a stack whose FAQ sources are a temp copy the console may edit ---


@pytest.fixture(scope="session")
def learning_stack(tmp_path_factory: pytest.TempPathFactory) -> Stack:
    """The whole system on a copy of data/faq (FAQ_PATH), so publishing from the console edits the copy."""
    import shutil

    var = tmp_path_factory.mktemp("learning")
    shutil.copytree(ROOT / "data" / "faq", var / "faq")
    model = train()
    env = {
        "DATABASE_URL": f"sqlite:///{var / 'handoff.db'}",
        "KB_INDEX_DIR": str(var / "kb_index"),
        "FAQ_PATH": str(var / "faq"),
        "HANDOFF_API_TOKEN": "e2e-token",
        "HF_HUB_OFFLINE": "1",
    }
    subprocess.run(
        [str(PYTHON), "-m", "knowledge_base", "build", "--no-progress"],
        cwd=ROOT,
        env={**os.environ, **env},
        check=True,
    )
    running = Stack(free_port(), free_port(), free_port(), var_dir=var, env=env, log_dir=var / "logs")
    try:
        running.start(model, timeout=240)
    except Exception:
        for log in sorted((var / "logs").glob("*.log")):
            print(f"----- {log.name} -----\n{log.read_text(errors='replace')[-5000:]}")
        raise
    yield running
    running.stop()
