"""What the containers run at start: the migration script (deploy/app/migrate.sh) and Rasa's entry point
(deploy/rasa/start.py), run here for real with this machine's Python."""

from __future__ import annotations

import importlib.util
import json
import os
import sqlite3
import subprocess
import sys

import pytest

from tests.deploy.files import DEPLOY, DOCKERFILES, ROOT

MIGRATE = DEPLOY / "app" / "migrate.sh"
START = DEPLOY / "rasa" / "start.py"


def production_env(database: str, **extra: str) -> dict[str, str]:
    return {
        "PATH": os.environ.get("PATH", "/usr/bin:/bin"),
        "PYTHON": sys.executable,
        "PYTHONPATH": str(ROOT),
        "HANDOFF_ENV": "production",
        "HANDOFF_DEMO_AGENTS": "0",
        "DATABASE_URL": database,
        "SECRET_KEY": "k" * 40,
        "HANDOFF_API_TOKEN": "t" * 40,
        "HANDOFF_ADMIN_PASSWORD": "Correct-Horse-Battery-9",
        **extra,
    }


def migrate(env: dict[str, str]) -> subprocess.CompletedProcess:
    return subprocess.run(["sh", str(MIGRATE)], cwd=ROOT, env=env, capture_output=True, text=True, timeout=180)


def admins(path) -> list[tuple[str, str, str]]:
    with sqlite3.connect(path) as connection:
        return connection.execute("SELECT email, role, password_hash FROM agents").fetchall()


@pytest.mark.slow
def test_migration_upgrades_the_schema_and_makes_the_admin_once(tmp_path):
    database = tmp_path / "handoff.db"
    first = migrate(production_env(f"sqlite:///{database}"))
    assert first.returncode == 0, first.stdout + first.stderr
    assert "Database is up to date." in first.stdout and "created admin admin@nordnet.example" in first.stdout
    ((email, role, hashed),) = admins(database)
    assert (email, role) == ("admin@nordnet.example", "admin")
    # Again, as each rollout does, with another password: nothing changes, and that is no error.
    again = migrate(production_env(f"sqlite:///{database}", HANDOFF_ADMIN_PASSWORD="Another-Password-77"))
    assert again.returncode == 0, again.stdout + again.stderr
    assert "exists already: kept as it is" in again.stdout
    assert admins(database) == [(email, role, hashed)]


def test_migration_fails_when_the_database_is_unreachable(tmp_path):
    result = migrate(production_env("postgresql+psycopg://nordnet:x@127.0.0.1:1/handoff"))
    assert result.returncode != 0
    assert "created admin" not in result.stdout


def test_migration_refuses_development_secrets_in_production(tmp_path):
    result = migrate(production_env(f"sqlite:///{tmp_path / 'h.db'}", SECRET_KEY="short"))
    assert result.returncode == 2
    assert "SECRET_KEY must be at least 32 characters" in result.stderr
    assert not (tmp_path / "h.db").exists()


# --------------------------------------------------------------------------- Rasa's entry point


def load_start():
    spec = importlib.util.spec_from_file_location("rasa_start", START)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_rasa_refuses_to_start_without_its_shared_secrets_and_stores():
    result = subprocess.run(
        [sys.executable, str(START)],
        env={"PATH": os.environ.get("PATH", "")},
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert result.returncode == 2
    for name in ("RASA_TOKEN", "ACTION_SERVER_TOKEN", "TRACKER_STORE_URL", "WIDGET_SESSION_SECRET"):
        assert name in result.stderr
    sqlite = load_start().problems(
        {"RASA_TOKEN": "r", "ACTION_SERVER_TOKEN": "a", "SECRET_KEY": "s", "TRACKER_STORE_URL": "sqlite:///tracker.db"}
    )
    assert sqlite == ["TRACKER_STORE_URL must name a shared database (postgresql://...), not a file in the container"]


def test_rasa_runs_with_endpoints_written_from_the_environment(tmp_path, monkeypatch):
    start = load_start()
    monkeypatch.setattr("tempfile.tempdir", str(tmp_path))
    env = {
        "RASA_TOKEN": "rasa-token",
        "ACTION_SERVER_TOKEN": "action-token",
        "WIDGET_SESSION_SECRET": "w",
        "TRACKER_STORE_URL": "postgresql://nordnet:pw@db.internal:5432/rasa",
        "LOCK_STORE_URL": "redis://:redispw@redis.internal:6379/0",
        "ACTION_ENDPOINT_URL": "http://actions:5055/webhook",
    }
    assert start.problems(env) == []
    command = start.prepare(env, ["--log-file", "/tmp/rasa.log"])
    endpoints = json.loads((tmp_path / "endpoints.yml").read_text())
    assert endpoints["action_endpoint"] == {
        "url": "http://actions:5055/webhook",
        "headers": {"X-Action-Token": "action-token"},
    }
    assert endpoints["tracker_store"] == {
        "type": "SQL",
        "dialect": "postgresql",
        "url": "db.internal",
        "db": "rasa",
        "port": 5432,
        "username": "nordnet",
        "password": "pw",
    }
    assert endpoints["lock_store"] == {
        "type": "redis",
        "url": "redis.internal",
        "port": 6379,
        "db": 0,
        "password": "redispw",
    }
    assert command[:2] == ["rasa", "run"]
    assert command[command.index("--auth-token") + 1] == "rasa-token"
    assert "--enable-api" in command and command[-2:] == ["--log-file", "/tmp/rasa.log"]
    assert command[command.index("--endpoints") + 1] == str(tmp_path / "endpoints.yml")
    # The image puts the model and this script where the command looks for them (WORKDIR /app).
    model = command[command.index("--model") + 1]
    assert model == str(ROOT / "models" / "nordnet.tar.gz")
    dockerfile = DOCKERFILES["rasa"].read_text()
    assert "COPY --from=build /app/models/nordnet.tar.gz models/nordnet.tar.gz" in dockerfile
    assert "COPY deploy/rasa/start.py deploy/rasa/start.py" in dockerfile
    assert 'ENTRYPOINT ["python", "deploy/rasa/start.py"]' in dockerfile
    assert command[command.index("--credentials") + 1] == str(ROOT / "credentials.yml")
