"""Widget session ids the server issues and signs: a browser cannot name another customer's session.

rasa-webchat keeps the id it was confirmed in localStorage and asks for it again after a reload
(`session_request`). An id is honoured only when its signature verifies: 32 random hex digits, a dot,
and an HMAC-SHA256 over them with the widget secret (cut to 32 hex digits). Anything else (a guessed id,
an id from before signing, a conversation id an agent saw) gets a new session. The conversation's id in
Rasa (the sender id agents see) is derived from the session id one way (:func:`sender_for`), so it cannot
be turned back into a session.

The secret is WIDGET_SESSION_SECRET, else SECRET_KEY (several Rasa servers must share it); without either
every process draws its own, so sessions survive reloads but not a restart (logged once).
"""

from __future__ import annotations

import functools
import hashlib
import hmac
import logging
import re
import secrets

from core.env import Env

logger = logging.getLogger(__name__)
_SIGNED = re.compile(r"^([0-9a-f]{32})\.([0-9a-f]{32})$")


@functools.lru_cache(maxsize=1)
def _secret() -> bytes:
    env = Env()
    configured = env.text("WIDGET_SESSION_SECRET") or env.text("SECRET_KEY")
    if configured:
        return configured.encode()
    logger.warning("neither WIDGET_SESSION_SECRET nor SECRET_KEY is set: widget sessions end when Rasa restarts")
    return secrets.token_bytes(32)


def _signature(nonce: str, secret: bytes) -> str:
    return hmac.new(secret, f"widget-session:{nonce}".encode(), hashlib.sha256).hexdigest()[:32]


def new_session_id(secret: bytes | None = None) -> str:
    nonce = secrets.token_hex(16)
    return f"{nonce}.{_signature(nonce, secret or _secret())}"


def verified(session_id: object, secret: bytes | None = None) -> bool:
    """True when the server issued this id."""
    if not isinstance(session_id, str):
        return False
    match = _SIGNED.match(session_id)
    return bool(match) and hmac.compare_digest(match.group(2), _signature(match.group(1), secret or _secret()))


def sender_for(session_id: str, secret: bytes | None = None) -> str:
    """The conversation id (Rasa's sender id) of a widget session: what agents, logs and trackers see.

    Derived one way from the session id, so knowing a conversation id (an agent sees it in the console) does
    not let anyone resume the session; only the browser that holds the session id can.
    """
    digest = hmac.new(secret or _secret(), f"widget-sender:{session_id}".encode(), hashlib.sha256).hexdigest()
    return f"web-{digest[:32]}"


def session_for(requested: object, secret: bytes | None = None) -> str:
    """The session to confirm: the requested one if it verifies, else a new one."""
    return requested if verified(requested, secret) else new_session_id(secret)  # type: ignore[return-value]
