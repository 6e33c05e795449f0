"""Cached collaborators of the actions (knowledge base, handoff client), built on first use."""
from __future__ import annotations

import logging
import threading
from typing import Any, Optional

from actions.handoff_client import HandoffClient, HttpHandoffClient
from actions.settings import get_settings

logger = logging.getLogger(__name__)

_lock = threading.Lock()
_kb: Optional[Any] = None
_client: Optional[HandoffClient] = None


def get_kb() -> Any:
    """The knowledge base, loaded once and refreshed when its index directory is rebuilt."""
    global _kb
    with _lock:
        if _kb is None:
            from knowledge_base import Settings, load_knowledge_base

            _kb = load_knowledge_base(Settings.from_env())
            logger.info("knowledge base loaded")
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
    global _kb
    with _lock:
        _kb = kb


def set_handoff_client(client: Optional[HandoffClient]) -> None:
    """Replace the handoff client (tests use the in-memory fake)."""
    global _client
    with _lock:
        _client = client
