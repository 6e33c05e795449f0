"""What every channel does to a customer's message before Rasa sees it (no Rasa, no I/O): clean, limit, validate.

The limit is the one the handoff service stores (`core.vocabulary.MAX_TEXT_CHARS`, 4000): a longer message could be
neither relayed to an agent nor kept in a hand-off transcript. The REST channel refuses it with a
422 that says so (the caller can split it); Messenger (whose own limit is 2000) and the widget
cut it, and the message's metadata records the original length (`truncated_from`).
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass, field
from typing import Any, Dict, Optional, Tuple

from core.vocabulary import MAX_TEXT_CHARS

MAX_SENDER_CHARS = 255  # the handoff service's sender_id limit
MAX_REST_BODY_BYTES = 64 * 1024
# Conversation ids of the other channels: a REST caller must not write into a widget (bot/sessions.py) or
# Messenger (page-scoped ids, digits only) conversation.
_OTHER_CHANNELS_SENDER = re.compile(r"^(?:web-|\d+$)", re.IGNORECASE)
# C0 controls and DEL except tab, newline, carriage return: NUL cannot be stored (PostgreSQL), the
# rest are terminal escapes and invisible junk.
_CONTROLS = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f]")


def clean_text(text: str, limit: int = MAX_TEXT_CHARS) -> Tuple[str, Optional[int]]:
    """The text without control characters or unpaired surrogates, cut to ``limit``; and the original
    length when it was cut (None otherwise)."""
    text = _CONTROLS.sub("", text)
    text = text.encode("utf-8", "replace").decode("utf-8") if _has_surrogate(text) else text
    if len(text) <= limit:
        return text, None
    return text[:limit], len(text)


def _has_surrogate(text: str) -> bool:
    try:
        text.encode("utf-8")
    except UnicodeEncodeError:
        return True
    return False


# Metadata keys only a channel sets (the original length of a text it cut); a customer's own copy is dropped,
# or a 100-character message could show the agent "[message cut: 99999 characters sent …]".
CHANNEL_METADATA = frozenset({"truncated_from"})


def customer_metadata(metadata: Dict[str, Any], original_length: Optional[int] = None) -> Dict[str, Any]:
    """The customer's metadata without the channel's keys, plus ``truncated_from`` when the channel cut the text."""
    kept = {key: value for key, value in metadata.items() if key not in CHANNEL_METADATA}
    if original_length is not None:
        kept["truncated_from"] = original_length
    return kept


class RejectedMessage(ValueError):
    """A REST request the bot will not process, with the HTTP status and a message for the caller."""

    def __init__(self, status: int, code: str, message: str) -> None:
        super().__init__(message)
        self.status = status
        self.code = code
        self.message = message

    def body(self) -> Dict[str, Any]:
        return {"error": {"code": self.code, "message": self.message}}


@dataclass(frozen=True)
class RestMessage:
    sender: str
    text: str
    metadata: Dict[str, Any] = field(default_factory=dict)


def rest_message(body: bytes) -> RestMessage:
    """`{"sender": "...", "message": "...", "metadata": {...}?}` from a REST webhook body, or RejectedMessage."""
    if len(body) > MAX_REST_BODY_BYTES:
        raise RejectedMessage(413, "payload_too_large", f"The body is larger than {MAX_REST_BODY_BYTES} bytes.")
    try:
        payload = json.loads(body)
    except RecursionError:
        raise RejectedMessage(400, "invalid_json", "The body nests too deeply to be read.") from None
    except ValueError:  # also bad UTF-8
        raise RejectedMessage(
            400, "invalid_json", 'The body must be JSON: {"sender": "<id>", "message": "<text>"}.'
        ) from None
    if not isinstance(payload, dict):
        raise RejectedMessage(400, "invalid_json", f"The body must be a JSON object, not {type(payload).__name__}.")
    sender = payload.get("sender")
    if not isinstance(sender, str) or not sender.strip():
        raise RejectedMessage(422, "validation_error", "sender must be a non-empty string (the conversation id).")
    if len(sender) > MAX_SENDER_CHARS or sender != clean_text(sender)[0]:
        raise RejectedMessage(
            422,
            "validation_error",
            f"sender must be at most {MAX_SENDER_CHARS} characters, without control characters or unpaired surrogates.",
        )
    if _OTHER_CHANNELS_SENDER.match(sender):
        raise RejectedMessage(
            422,
            "validation_error",
            "sender names a conversation of another channel (widget ids start with 'web-', Messenger ids are "
            "digits only): use your own ids, e.g. 'crm-12345'.",
        )
    message = payload.get("message")
    if not isinstance(message, str):
        raise RejectedMessage(422, "validation_error", "message must be a string (the customer's text).")
    text, original = clean_text(message)
    if original is not None:
        raise RejectedMessage(
            422,
            "message_too_long",
            f"message has {original} characters, at most {MAX_TEXT_CHARS}: please split it.",
        )
    if not text.strip():
        raise RejectedMessage(422, "validation_error", "message must not be empty.")
    metadata = payload.get("metadata")
    if metadata is not None and not isinstance(metadata, dict):
        raise RejectedMessage(422, "validation_error", "metadata must be an object if given.")
    return RestMessage(sender, text, customer_metadata(metadata or {}))


# What a customer may send as "/intent{...}": the customer intents of the domain (the bot's buttons, the widget's
# "/greet", a Messenger page's menu), each with only the entities its buttons carry. Anything else that starts
# with "/" (`/agent_message{...}`, `/agent_joined`, `/handoff_ended`, `/callback_update`, `/restart`, ...) is an
# internal intent that only the handoff service may trigger, through Rasa's token-protected HTTP API: from a
# customer it is plain text. tests/bot/test_inbound.py keeps this list in step with domain.yml.
CUSTOMER_PAYLOADS = {
    "greet": (),
    "goodbye": (),
    "thanks": (),
    "affirm": (),
    "deny": (),
    "bot_challenge": (),
    "what_can_you_do": (),
    "ask_question": (),
    "request_human": (),
    "request_callback": (),
    "cancel": (),
    "frustration": (),
    "switch_language": ("language",),
    "feedback_helpful": (),
    "feedback_not_helpful": (),
    "choose_entry": ("entry_id",),
    "none_of_these": (),
    "satisfaction": ("score",),
}
_PAYLOAD = re.compile(r"^/([a-z_]+)(\{.*\})?$", re.DOTALL)


def customer_text(text: str) -> str:
    """The text as a customer may send it: a button payload stays one, any other "/intent" becomes plain text."""
    if not (text or "").lstrip().startswith("/"):
        return text
    match = _PAYLOAD.match(text)
    if match is not None and match.group(1) in CUSTOMER_PAYLOADS:
        allowed = CUSTOMER_PAYLOADS[match.group(1)]
        if match.group(2) is None:
            return text
        try:
            entities = json.loads(match.group(2))
        except ValueError:
            entities = None
        if (
            isinstance(entities, dict)
            and set(entities) <= set(allowed)
            and all(
                isinstance(v, (str, int)) and not isinstance(v, bool) and len(str(v)) <= 200 for v in entities.values()
            )
        ):
            return text
    return text.lstrip().lstrip("/").lstrip() or text.strip()
