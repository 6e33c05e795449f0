"""Messenger webhooks: signature check and the customer events worth answering (no Rasa, no I/O)."""

from __future__ import annotations

import hashlib
import hmac
from dataclasses import dataclass
from typing import Any, Dict, List, Optional, Tuple

from bot.inbound import MAX_SENDER_CHARS, clean_text


def signature_valid(app_secret: str, body: bytes, header: Optional[str]) -> bool:
    """`X-Hub-Signature-256: sha256=<hex HMAC of the raw body>`, compared in constant time."""
    if not app_secret or not header or not header.startswith("sha256="):
        return False
    expected = hmac.new(app_secret.encode(), body, hashlib.sha256).hexdigest()
    given = header[len("sha256=") :].strip().lower()
    # Sanic decodes header bytes with surrogateescape: anything but ASCII hex cannot match (nor be encoded).
    if len(given) != len(expected) or not given.isascii():
        return False
    return hmac.compare_digest(expected, given)


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
    thread (Messenger's handover protocol), and the bot must stay quiet then. Total over any JSON:
    whatever does not have Messenger's shape is skipped, never an exception (Facebook would retry).
    Texts are cleaned and cut to MAX_TEXT_CHARS (`truncated_from` in the metadata says so).
    """
    events: List[Inbound] = []
    for entry in _objects(payload.get("entry")):
        for event in _objects(entry.get("messaging")):
            sender = _scalar(_object(event.get("sender")).get("id"))
            if not sender or len(sender) > MAX_SENDER_CHARS or sender != clean_text(sender)[0]:
                continue
            metadata: Dict[str, Any] = {
                "page_id": _scalar(_object(event.get("recipient")).get("id")),
                "timestamp": event.get("timestamp") if _is_number(event.get("timestamp")) else None,
            }
            message = event.get("message")
            postback = event.get("postback")
            if isinstance(message, dict):
                if message.get("is_echo"):
                    continue
                quick_reply = _scalar(_object(message.get("quick_reply")).get("payload"))
                text = quick_reply or _scalar(message.get("text"))
                attachments = tuple(_attachment(a) for a in _objects(message.get("attachments")))
                message_id = _scalar(message.get("mid"))
            elif isinstance(postback, dict):
                text = _scalar(postback.get("payload")) or _scalar(postback.get("title"))
                attachments = ()
                message_id = _scalar(postback.get("mid"))
            else:
                continue
            if text:
                text, original_length = clean_text(text)
                if original_length is not None:
                    metadata["truncated_from"] = original_length
            if not (text and text.strip()) and not attachments:
                continue
            events.append(Inbound(sender, text if text and text.strip() else None, message_id, metadata, attachments))
    return events


def _object(value: Any) -> Dict[str, Any]:
    return value if isinstance(value, dict) else {}


def _objects(value: Any) -> List[Dict[str, Any]]:
    return [item for item in value if isinstance(item, dict)] if isinstance(value, list) else []


def _scalar(value: Any) -> Optional[str]:
    """A string or number as text (page-scoped ids arrive as strings, sometimes as numbers); else None."""
    if isinstance(value, bool) or not isinstance(value, (str, int, float)):
        return None
    return str(value)


def _is_number(value: Any) -> bool:
    return isinstance(value, (int, float)) and not isinstance(value, bool)


def _attachment(attachment: Dict[str, Any]) -> str:
    kind = clean_text(_scalar(attachment.get("type")) or "file", 40)[0]
    url = clean_text(_scalar(_object(attachment.get("payload")).get("url")) or "", 2000)[0]
    return f"{kind}: {url}".rstrip(": ")
