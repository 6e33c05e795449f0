"""Cached collaborators of the actions (knowledge base, handoff client), built on first use."""
from __future__ import annotations

import logging
import os
import threading
from typing import Any, Dict, Optional

import requests

from actions.handoff_client import HandoffClient, HttpHandoffClient
from actions.settings import get_settings

logger = logging.getLogger(__name__)

_lock = threading.Lock()
_kb: Optional[Any] = None
_follower: Optional[Any] = None
_client: Optional[HandoffClient] = None


def fetch_faq_changes(since: int) -> Dict[str, Any]:
    """The FAQ changes published after version ``since``, from the handoff service (GET /api/faq/changes)."""
    settings = get_settings()
    response = requests.get(f"{settings.handoff_url}/api/faq/changes", params={"since": since},
                            headers={"Authorization": f"Bearer {settings.handoff_token}"},
                            timeout=min(settings.handoff_timeout, 3.0))
    response.raise_for_status()
    return response.json()


def _follow_interval() -> float:
    raw = os.environ.get("KB_FOLLOW_SECONDS", "1")
    try:
        return float(raw)
    except ValueError:
        logger.error("KB_FOLLOW_SECONDS=%r is not a number of seconds; following published FAQ changes every 1 s", raw)
        return 1.0


def get_kb() -> Any:
    """The knowledge base, loaded once; it follows the FAQ changes published in the handoff service
    (every ``KB_FOLLOW_SECONDS``, 0 = never) and reloads when its index directory is rebuilt."""
    global _kb, _follower
    with _lock:
        if _kb is None:
            from knowledge_base import Settings, load_knowledge_base

            _kb = load_knowledge_base(Settings.from_env())
            logger.info("knowledge base loaded")
            interval = _follow_interval()
            if interval > 0:
                from knowledge_base.follow import Follower

                kb = _kb
                _follower = Follower(lambda: kb, fetch_faq_changes, interval)
                _follower.poll_once()  # a replica that starts later answers what was published before
                _follower.start()
        else:
            try:
                if _kb.reload_if_changed():
                    logger.info("knowledge base index changed on disk: reloaded")
            except Exception:  # a half-written index must not take the bot down
                logger.exception("reloading the knowledge base failed; keeping the loaded one")
        return _kb


def get_handoff_client() -> HandoffClient:
    global _client
    with _lock:
        if _client is None:
            settings = get_settings()
            _client = HttpHandoffClient(
                settings.handoff_url, settings.handoff_token, timeout=settings.handoff_timeout
            )
        return _client


def set_kb(kb: Any) -> None:
    """Replace the knowledge base (tests)."""
    global _kb, _follower
    with _lock:
        if _follower is not None:
            _follower.stop()
            _follower = None
        _kb = kb


def set_handoff_client(client: Optional[HandoffClient]) -> None:
    """Replace the handoff client (tests use the in-memory fake)."""
    global _client
    with _lock:
        _client = client
