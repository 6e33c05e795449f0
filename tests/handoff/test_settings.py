"""Settings from the environment: safe development defaults, fail fast on nonsense and in production."""
from __future__ import annotations

import pytest

from handoff.settings import DEV_API_TOKEN, Settings, SettingsError


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
    settings = Settings.from_env({
        "DATABASE_URL": "postgresql://u:p@db/handoff", "RASA_URL": "http://rasa:5005/", "RASA_TOKEN": "t",
        "HANDOFF_API_TOKEN": "abc", "HANDOFF_DEMO_AGENTS": "0", "HANDOFF_LANGUAGES": "de, en, fr",
        "HANDOFF_PRESENCE_TIMEOUT": "60", "BUSINESS_TIMEZONE": "Europe/Vienna",
    })
    assert settings.database_url == "postgresql://u:p@db/handoff"
    assert settings.rasa_url == "http://rasa:5005" and settings.rasa_token == "t"
    assert (settings.api_token, settings.demo_agents, settings.languages) == ("abc", False, ("de", "en", "fr"))
    assert settings.presence_timeout_seconds == 60 and settings.default_timezone == "Europe/Vienna"


def test_production_needs_real_secrets():
    with pytest.raises(SettingsError) as caught:
        Settings.from_env({"HANDOFF_ENV": "production"})
    assert "SECRET_KEY" in str(caught.value) and "HANDOFF_API_TOKEN" in str(caught.value)
    settings = Settings.from_env({"HANDOFF_ENV": "production", "SECRET_KEY": "s" * 32, "HANDOFF_API_TOKEN": "t"})
    assert settings.demo_agents is False and settings.secure_cookies is True


@pytest.mark.parametrize("name, value", [
    ("HANDOFF_DEMO_AGENTS", "maybe"), ("HANDOFF_PRESENCE_TIMEOUT", "soon"), ("HANDOFF_PRESENCE_TIMEOUT", "1"),
    ("BUSINESS_TIMEZONE", "Mars/Olympus"), ("HANDOFF_ENV", "staging"),
])
def test_nonsense_fails_fast_naming_the_variable(name, value):
    with pytest.raises(SettingsError, match=name):
        Settings.from_env({name: value})
