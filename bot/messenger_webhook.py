"""Messenger webhooks: signature check and the customer events worth answering (no Rasa, no I/O)."""
from __future__ import annotations

import hashlib
import hmac
from dataclasses import dataclass
from typing import Any, Dict, List, Optional, Tuple


def signature_valid(app_secret: str, body: bytes, header: Optional[str]) -> bool:
    """`X-Hub-Signature-256: sha256=<hex HMAC of the raw body>`, compared in constant time."""
    if not app_secret or not header or not header.startswith("sha256="):
        return False
    expected = hmac.new(app_secret.encode(), body, hashlib.sha256).hexdigest()
    return hmac.compare_digest(expected.encode(), header[len("sha256="):].strip().lower().encode())


@dataclass(frozen=True)
class Inbound:
    """One customer event from a webhook that the bot should act on."""

    sender_id: str
    text: Optional[str]  # None: attachments without text
    message_id: Optional[str]
    metadata: Dict[str, Any]
    attachments: Tuple[str, ...] = ()  # "image: https://…" for each attachment


def inbound_events(payload: Dict[str, Any]) -> List[Inbound]:
    """Customer messages, quick replies and postbacks; echoes, deliveries, reads and the rest are dropped.

    Only `entry[].messaging` is read: events under `standby` belong to another app that has the
    thread (Messenger's handover protocol), and the bot must stay quiet then.
    """
    events: List[Inbound] = []
    for entry in payload.get("entry") or []:
        for event in entry.get("messaging") or []:
            sender = str((event.get("sender") or {}).get("id") or "")
            if not sender:
                continue
            metadata = {"page_id": (event.get("recipient") or {}).get("id"), "timestamp": event.get("timestamp")}
            message = event.get("message")
            postback = event.get("postback")
            if isinstance(message, dict):
                if message.get("is_echo"):
                    continue
                quick_reply = (message.get("quick_reply") or {}).get("payload")
                text = quick_reply or message.get("text")
                attachments = tuple(
                    f"{a.get('type') or 'file'}: {(a.get('payload') or {}).get('url') or ''}".rstrip(": ")
                    for a in message.get("attachments") or [] if isinstance(a, dict)
                )
                if not text and not attachments:
                    continue
                events.append(Inbound(sender, text or None, message.get("mid"), metadata, attachments))
            elif isinstance(postback, dict):
                text = postback.get("payload") or postback.get("title")
                if text:
                    events.append(Inbound(sender, str(text), postback.get("mid"), metadata))
    return events
