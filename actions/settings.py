"""Settings of the action server, read once from the environment."""

from __future__ import annotations

from dataclasses import dataclass
from functools import lru_cache

from core.env import Env


@dataclass(frozen=True)
class ActionSettings:
    handoff_url: str
    handoff_token: str
    handoff_timeout: float
    timezone: str

    @classmethod
    def from_env(cls) -> "ActionSettings":
        env = Env()
        settings = cls(
            handoff_url=env.text("HANDOFF_URL", "http://localhost:8000").rstrip("/"),
            handoff_token=env.text("HANDOFF_API_TOKEN", "dev-handoff-token"),
            handoff_timeout=env.number("HANDOFF_TIMEOUT", 5.0, minimum=0.1),
            timezone=env.text("BUSINESS_TIMEZONE", "Europe/Berlin"),
        )
        if env.problems:
            raise ValueError("Invalid action server settings:\n  " + "\n  ".join(env.problems))
        return settings


@lru_cache(maxsize=1)
def get_settings() -> ActionSettings:
    """The process-wide settings; tests clear the cache to change them."""
    return ActionSettings.from_env()
