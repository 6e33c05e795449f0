"""The process contract: ``python -m handoff migrate`` and ``serve`` as ``make run`` calls them."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
import requests

from tests.handoff.support import free_port

ROOT = Path(__file__).resolve().parents[2]


def run_handoff(*args: str, env: dict, timeout: int = 120) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "-m", "handoff", *args], cwd=ROOT, env=env, capture_output=True, text=True, timeout=timeout
    )


@pytest.fixture
def env(tmp_path) -> dict:
    environment = {k: v for k, v in os.environ.items() if not k.startswith(("HANDOFF_", "DATABASE_URL"))}
    environment.update(DATABASE_URL=f"sqlite:///{tmp_path / 'var' / 'handoff.db'}", HANDOFF_ENV="development")
    return environment


def test_help():
    result = subprocess.run(
        [sys.executable, "-m", "handoff", "serve", "--help"], cwd=ROOT, capture_output=True, text=True, timeout=60
    )
    assert result.returncode == 0 and "--port" in result.stdout and "--host" in result.stdout


def test_migrate_is_idempotent_and_prints_the_logins(env):
    first = run_handoff("migrate", env=env)
    assert first.returncode == 0, first.stderr
    assert "admin@nordnet.example / admin-demo" in first.stdout
    assert "agent@nordnet.example / agent-demo" in first.stdout
    second = run_handoff("migrate", env=env)
    assert second.returncode == 0, second.stderr
    assert "[new]" not in second.stdout and "agent@nordnet.example / agent-demo" in second.stdout


def test_demo_accounts_can_be_configured_or_switched_off(env):
    env.update(HANDOFF_DEMO_AGENT_EMAIL="kim@example.org", HANDOFF_DEMO_AGENT_PASSWORD="kims-password")
    assert "kim@example.org / kims-password" in run_handoff("migrate", env=env).stdout
    env["HANDOFF_DEMO_AGENTS"] = "0"
    assert "@" not in run_handoff("migrate", env=env).stdout


def test_production_refuses_the_development_secret(env):
    env["HANDOFF_ENV"] = "production"
    result = run_handoff("migrate", env=env)
    assert result.returncode == 2
    assert "SECRET_KEY must be set" in result.stderr and "HANDOFF_API_TOKEN must be set" in result.stderr


def test_serve_refuses_an_unmigrated_database(env):
    result = run_handoff("serve", "--port", str(free_port()), env=env, timeout=60)
    assert result.returncode == 2
    assert "python -m handoff migrate" in result.stderr


def test_serve_answers_and_stops_cleanly_on_sigterm(env):
    assert run_handoff("migrate", env=env).returncode == 0
    port = free_port()
    process = subprocess.Popen(
        [sys.executable, "-m", "handoff", "serve", "--port", str(port)],
        cwd=ROOT,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )
    try:
        deadline = time.monotonic() + 60
        while True:
            try:
                health = requests.get(f"http://127.0.0.1:{port}/health", timeout=2)
                break
            except requests.ConnectionError:
                assert process.poll() is None, process.stdout.read()
                assert time.monotonic() < deadline, "the service did not come up"
                time.sleep(0.2)
        assert health.json()["status"] == "ok" and health.json()["worker"] is True
        stream = requests.get(f"http://127.0.0.1:{port}/agent/events", timeout=5)
        assert stream.status_code == 401  # the event stream also needs a login
        process.send_signal(signal.SIGTERM)
        output, _ = process.communicate(timeout=30)
    finally:
        if process.poll() is None:
            process.kill()
            process.wait()
    assert process.returncode == 0, output
    assert "agent console /agent/" in output and "stopped" in output
