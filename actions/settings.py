"""Settings of the action server, read once from the environment."""
from __future__ import annotations

import os
from dataclasses import dataclass
from functools import lru_cache


@dataclass(frozen=True)
class ActionSettings:
    handoff_url: str
    handoff_token: str
    handoff_timeout: float
    timezone: str

    @classmethod
    def from_env(cls) -> "ActionSettings":
        return cls(
            handoff_url=os.environ.get("HANDOFF_URL", "http://localhost:8000").rstrip("/"),
            handoff_token=os.environ.get("HANDOFF_API_TOKEN", "dev-handoff-token"),
            handoff_timeout=float(os.environ.get("HANDOFF_TIMEOUT", "5")),
            timezone=os.environ.get("BUSINESS_TIMEZONE", "Europe/Berlin"),
        )


@lru_cache(maxsize=1)
def get_settings() -> ActionSettings:
    """The process-wide settings; tests clear the cache to change them."""
    return ActionSettings.from_env()
