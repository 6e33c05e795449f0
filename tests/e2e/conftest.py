"""The real system for end-to-end tests: trained Rasa model, action server, handoff service."""
from __future__ import annotations

import os
import subprocess
import uuid
from pathlib import Path
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
        cwd=ROOT, env={**os.environ, **env}, check=True,
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
        response = requests.get(f"{self.stack.rasa_url}/conversations/{self.sender}/tracker", timeout=30)
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
