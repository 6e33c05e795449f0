"""Settings from the environment: safe development defaults, fail fast on nonsense and in production."""

from __future__ import annotations

import pytest

from handoff.settings import DEV_API_TOKEN, DEV_SECRET_KEY, Settings, SettingsError


@pytest.fixture
def backend():
    return "sqlite"


def test_development_defaults():
    settings = Settings.from_env({})
    assert settings.database_url.startswith("sqlite:///") and settings.database_url.endswith("var/handoff.db")
    assert settings.rasa_url == "http://localhost:5005" and settings.rasa_token is None
    assert settings.api_token == DEV_API_TOKEN and settings.demo_agents is True
    assert settings.languages == ("de", "en") and settings.secure_cookies is False


def test_values_from_the_environment():
    settings = Settings.from_env(
        {
            "DATABASE_URL": "postgresql://u:p@db/handoff",
            "RASA_URL": "http://rasa:5005/",
            "RASA_TOKEN": "t",
            "HANDOFF_API_TOKEN": "abc",
            "HANDOFF_DEMO_AGENTS": "0",
            "HANDOFF_LANGUAGES": "de, en, fr",
            "HANDOFF_PRESENCE_TIMEOUT": "60",
            "BUSINESS_TIMEZONE": "Europe/Vienna",
        }
    )
    assert settings.database_url == "postgresql://u:p@db/handoff"
    assert settings.rasa_url == "http://rasa:5005" and settings.rasa_token == "t"
    assert (settings.api_token, settings.demo_agents, settings.languages) == ("abc", False, ("de", "en", "fr"))
    assert settings.presence_timeout_seconds == 60 and settings.default_timezone == "Europe/Vienna"


def test_production_needs_real_secrets():
    with pytest.raises(SettingsError) as caught:
        Settings.from_env({"HANDOFF_ENV": "production"})
    assert "SECRET_KEY" in str(caught.value) and "HANDOFF_API_TOKEN" in str(caught.value)
    settings = Settings.from_env({"HANDOFF_ENV": "production", "SECRET_KEY": "s" * 32, "HANDOFF_API_TOKEN": "t" * 32})
    assert settings.demo_agents is False and settings.secure_cookies is True
    assert settings.retention_days == 180


def test_production_refuses_every_development_default_at_once():
    with pytest.raises(SettingsError) as caught:
        Settings.from_env(
            {
                "HANDOFF_ENV": "production",
                "SECRET_KEY": DEV_SECRET_KEY,
                "HANDOFF_API_TOKEN": DEV_API_TOKEN,
                "HANDOFF_DEMO_AGENTS": "1",
                "HANDOFF_DEMO_ADMIN_PASSWORD": "admin-demo",
            }
        )
    message = str(caught.value)
    assert "SECRET_KEY must not be the development default" in message
    assert "HANDOFF_API_TOKEN must not be the development default" in message
    assert "HANDOFF_DEMO_AGENTS must be 0" in message and "HANDOFF_DEMO_ADMIN_PASSWORD" in message
    with pytest.raises(SettingsError, match="SECRET_KEY must be at least 32 characters"):
        Settings.from_env({"HANDOFF_ENV": "production", "SECRET_KEY": "short", "HANDOFF_API_TOKEN": "t" * 32})


def test_privacy_and_session_settings():
    settings = Settings.from_env({})
    assert settings.retention_days == 0 and settings.tracker_store_url.endswith("var/tracker.db")
    assert (settings.session_idle_minutes, settings.session_max_hours) == (60, 12)
    assert (settings.lockout_failures, settings.lockout_minutes) == (5, 30)
    settings = Settings.from_env(
        {
            "HANDOFF_RETENTION_DAYS": "30",
            "TRACKER_STORE_URL": "memory",
            "HANDOFF_SESSION_IDLE_MINUTES": "5",
            "HANDOFF_SESSION_MAX_HOURS": "2",
            "HANDOFF_LOCKOUT_FAILURES": "3",
            "HANDOFF_LOCKOUT_MINUTES": "0",
        }
    )
    assert settings.retention_days == 30 and settings.tracker_store_url is None
    assert (settings.session_idle_minutes, settings.session_max_hours) == (5, 2)
    assert (settings.lockout_failures, settings.lockout_minutes) == (3, 0)


@pytest.mark.parametrize(
    "name, value",
    [
        ("HANDOFF_DEMO_AGENTS", "maybe"),
        ("HANDOFF_PRESENCE_TIMEOUT", "soon"),
        ("HANDOFF_PRESENCE_TIMEOUT", "1"),
        ("BUSINESS_TIMEZONE", "Mars/Olympus"),
        ("HANDOFF_ENV", "staging"),
        ("HANDOFF_RETENTION_DAYS", "-1"),
        ("HANDOFF_LOCKOUT_FAILURES", "0"),
        ("HANDOFF_SESSION_IDLE_MINUTES", "never"),
    ],
)
def test_nonsense_fails_fast_naming_the_variable(name, value):
    with pytest.raises(SettingsError, match=name):
        Settings.from_env({name: value})


def test_the_wsgi_entry_refuses_to_start_without_an_explicit_environment(tmp_path):
    import os
    import subprocess
    import sys

    env = {k: v for k, v in os.environ.items() if k != "HANDOFF_ENV"}
    env["DATABASE_URL"] = f"sqlite:///{tmp_path / 'h.db'}"
    done = subprocess.run(
        [sys.executable, "-c", "import handoff.wsgi"], env=env, capture_output=True, text=True, timeout=120
    )
    assert done.returncode != 0 and "HANDOFF_ENV" in done.stderr


@pytest.mark.parametrize(
    "name, value", [("HANDOFF_WORKERS", "two"), ("HANDOFF_WORKERS", "0"), ("HANDOFF_WORKER_CONNECTIONS", "lots")]
)
def test_gunicorn_settings_name_a_bad_variable(monkeypatch, name, value):
    import runpy
    from pathlib import Path

    config = Path(__file__).resolve().parents[2] / "handoff" / "gunicorn.conf.py"
    monkeypatch.delenv("HANDOFF_WORKERS", raising=False)
    monkeypatch.delenv("HANDOFF_WORKER_CONNECTIONS", raising=False)
    defaults = runpy.run_path(str(config))
    assert (defaults["workers"], defaults["worker_connections"]) == (2, 2000)
    monkeypatch.setenv(name, value)
    with pytest.raises(SystemExit, match=name):
        runpy.run_path(str(config))
