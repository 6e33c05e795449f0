"""Cached collaborators of the actions (knowledge base, handoff client), built on first use."""

from __future__ import annotations

import logging
import threading
from typing import Any, Dict, Optional

import requests

from actions.handoff_client import HandoffClient, HttpHandoffClient
from actions.settings import get_settings
from core.env import Env

logger = logging.getLogger(__name__)

_lock = threading.Lock()
_knowledge_base: Optional[Any] = None  # the process's one KnowledgeBaseProvider
_client: Optional[HandoffClient] = None


def fetch_faq_changes(since: int) -> Dict[str, Any]:
    """The FAQ changes published after version ``since``, from the handoff service (GET /api/faq/changes)."""
    settings = get_settings()
    response = requests.get(
        f"{settings.handoff_url}/api/faq/changes",
        params={"since": since},
        headers={"Authorization": f"Bearer {settings.handoff_token}"},
        timeout=min(settings.handoff_timeout, 3.0),
    )
    response.raise_for_status()
    return response.json()


def _follow_interval() -> float:
    env = Env()
    seconds = env.number("KB_FOLLOW_SECONDS", 1.0)  # 0 or less: never
    for problem in env.problems:
        logger.error("%s; following published FAQ changes every 1 s", problem)
    return seconds


def knowledge_base() -> Any:
    """The process's :class:`~knowledge_base.provider.KnowledgeBaseProvider`: it follows the FAQ changes
    published in the handoff service (every ``KB_FOLLOW_SECONDS``, 0 = never) and reloads when its index
    directory is rebuilt."""
    global _knowledge_base
    with _lock:
        if _knowledge_base is None:
            from knowledge_base.provider import KnowledgeBaseProvider

            _knowledge_base = KnowledgeBaseProvider(fetch_changes=fetch_faq_changes, follow_interval=_follow_interval())
        return _knowledge_base


def get_kb() -> Any:
    """The knowledge base, loaded on first use (see :func:`knowledge_base`)."""
    return knowledge_base().get()


def get_handoff_client() -> HandoffClient:
    global _client
    with _lock:
        if _client is None:
            settings = get_settings()
            _client = HttpHandoffClient(settings.handoff_url, settings.handoff_token, timeout=settings.handoff_timeout)
        return _client


def set_kb(kb: Any) -> None:
    """Replace the knowledge base (tests); None loads the configured one again on next use."""
    knowledge_base().replace(kb)


def set_handoff_client(client: Optional[HandoffClient]) -> None:
    """Replace the handoff client (tests use the in-memory fake)."""
    global _client
    with _lock:
        _client = client
