"""One handoff service and several action servers, each with its own FAQ copy and index directory.

The shape of a deployment over several machines (every action-server pod has its own disk), run on
this one: the FAQ-replica test (tests/e2e/test_faq_replicas.py) and the propagation bench
(bench/faq_propagation.py) publish through the handoff service and ask each action server as Rasa
would (POST /webhook with the X-Action-Token header).
"""

from __future__ import annotations

import os
import re
import secrets
import shutil
import subprocess
import time
import uuid
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Dict, List, Optional

import requests

from scripts.stack import PYTHON, ROOT, free_port, start_process, stop_processes, wait_http

ADMIN = ("admin@nordnet.example", "admin-demo")


@dataclass
class Replicas:
    """``count`` action servers following one handoff service; ``database_url`` defaults to SQLite in ``base``."""

    base: Path
    count: int = 2
    database_url: str = ""
    follow_seconds: float = 1.0
    handoff_port: int = field(default_factory=free_port)
    action_ports: List[int] = field(default_factory=list)
    processes: Dict[str, subprocess.Popen] = field(default_factory=dict)

    def __post_init__(self) -> None:
        self.action_ports = self.action_ports or [free_port() for _ in range(self.count)]
        self.token = secrets.token_urlsafe(16)
        self.action_token = secrets.token_urlsafe(16)
        self.database_url = self.database_url or f"sqlite:///{self.base / 'handoff.db'}"
        self.http = requests.Session()
        self.csrf = ""

    @property
    def handoff_url(self) -> str:
        return f"http://127.0.0.1:{self.handoff_port}"

    def env(self, home: Path) -> Dict[str, str]:
        return {
            **os.environ,
            "PYTHONPATH": str(ROOT),
            "HF_HUB_OFFLINE": "1",
            "TF_CPP_MIN_LOG_LEVEL": "2",
            "DATABASE_URL": self.database_url,
            "HANDOFF_URL": self.handoff_url,
            "HANDOFF_API_TOKEN": self.token,
            "ACTION_SERVER_TOKEN": self.action_token,
            "SANIC_HOST": "127.0.0.1",
            "FAQ_PATH": str(home / "faq"),
            "KB_INDEX_DIR": str(home / "kb_index"),
            "KB_FOLLOW_SECONDS": str(self.follow_seconds),
            "SECRET_KEY": "replicas-test-secret",
        }

    def prepare(self) -> "Replicas":
        """The demo FAQ and its index, built once and copied to every 'machine' (as an image would carry it)."""
        first = self.base / "handoff"
        shutil.copytree(ROOT / "data" / "faq", first / "faq")
        built = ROOT / "var" / "kb_index"  # `make run`'s index: reused when it matches the FAQ (minutes saved)
        if (built / "manifest.json").is_file():
            shutil.copytree(built, first / "kb_index", ignore=shutil.ignore_patterns("live.json", ".live.lock"))
        subprocess.run(
            [str(PYTHON), "-m", "knowledge_base", "build", "--no-progress", "--if-changed"],
            cwd=ROOT,
            env=self.env(first),
            check=True,
        )
        for number in range(self.count):
            home = self.base / f"actions-{number}"
            shutil.copytree(first / "faq", home / "faq")
            shutil.copytree(first / "kb_index", home / "kb_index")
        subprocess.run([str(PYTHON), "-m", "handoff", "migrate"], cwd=ROOT, env=self.env(first), check=True)
        return self

    def start_handoff(self, timeout: float = 120) -> None:
        process = start_process(
            self.processes,
            "handoff",
            [
                str(PYTHON),
                "-m",
                "handoff",
                "serve",
                "--host",
                "127.0.0.1",
                "--port",
                str(self.handoff_port),
                "--no-worker",
            ],
            self.env(self.base / "handoff"),
            self.base / "logs",
        )
        wait_http(f"{self.handoff_url}/health", timeout, process)

    def stop_handoff(self) -> None:
        stop_processes({"handoff": self.processes.pop("handoff")}, 15)

    def start_actions(self, number: int, timeout: float = 180) -> None:
        """Start action server ``number`` and load its knowledge base (a first question, as `make run` warms up)."""
        process = start_process(
            self.processes,
            f"actions-{number}",
            [str(PYTHON), "-m", "actions.server", "--actions", "actions", "--port", str(self.action_ports[number])],
            self.env(self.base / f"actions-{number}"),
            self.base / "logs",
        )
        wait_http(f"http://127.0.0.1:{self.action_ports[number]}/health", timeout, process)
        self.ask(number, "warm up", timeout=timeout)

    def stop(self) -> None:
        stop_processes(self.processes, 15)

    def log(self, name: str) -> str:
        path = self.base / "logs" / f"{name}.log"
        return path.read_text(errors="replace") if path.exists() else ""

    # -- as Rasa asks an action server ---------------------------------------------------------
    def ask(self, number: int, text: str, language: str = "en", timeout: float = 30) -> Dict[str, Any]:
        """action_answer_from_kb for one customer message, as Rasa posts it; the server's JSON reply."""
        sender = f"replica-test-{uuid.uuid4().hex[:8]}"
        tracker = {
            "sender_id": sender,
            "slots": {"language": language},
            "events": [],
            "paused": False,
            "latest_message": {
                "text": text,
                "intent": {"name": "nlu_fallback", "confidence": 0.3},
                "entities": [],
                "metadata": {},
            },
            "followup_action": None,
            "active_loop": {},
            "latest_action_name": "action_listen",
        }
        response = requests.post(
            f"http://127.0.0.1:{self.action_ports[number]}/webhook",
            json={"next_action": "action_answer_from_kb", "sender_id": sender, "tracker": tracker, "domain": {}},
            headers={"X-Action-Token": self.action_token},
            timeout=timeout,
        )
        response.raise_for_status()
        return response.json()

    def answers(self, number: int, text: str, answer: str) -> bool:
        """Whether action server ``number`` answers ``text`` with ``answer`` (utter_kb_answer)."""
        reply = self.ask(number, text)
        return any(
            r.get("response") == "utter_kb_answer" and r.get("answer") == answer.strip()
            for r in reply.get("responses", [])
        )

    def wait_until_answered(
        self, number: int, text: str, answer: str, timeout: float, poll: float = 0.05
    ) -> Optional[float]:
        """Seconds until server ``number`` answers ``answer`` (asking every ``poll`` s), None after ``timeout``."""
        started = time.monotonic()
        while time.monotonic() - started < timeout:
            if self.answers(number, text, answer):
                return time.monotonic() - started
            time.sleep(poll)
        return None

    # -- as an admin publishes in the console ---------------------------------------------------
    def login(self) -> None:
        page = self.http.get(f"{self.handoff_url}/agent/login", timeout=30).text
        token = re.search(r'name="csrf_token" value="([^"]+)"', page).group(1)
        self.http.post(
            f"{self.handoff_url}/agent/login",
            data={"csrf_token": token, "email": ADMIN[0], "password": ADMIN[1], "next": ""},
            timeout=30,
        )
        page = self.http.get(f"{self.handoff_url}/agent/", timeout=30).text
        self.csrf = re.search(r'name="csrf_token" value="([^"]+)"', page).group(1)

    def publish(self, entry: Dict[str, Any]) -> Dict[str, Any]:
        """Publish ``entry`` through Insights' JSON API; the audit record (HTTP 201) or an AssertionError."""
        if not self.csrf:
            self.login()
        reply = self.http.post(
            f"{self.handoff_url}/api/insights/faq", json=entry, headers={"X-CSRF-Token": self.csrf}, timeout=120
        )
        assert reply.status_code == 201, f"publishing failed: HTTP {reply.status_code} {reply.text[:300]}"
        return reply.json()
