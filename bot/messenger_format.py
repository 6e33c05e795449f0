"""Shape bot messages for Messenger's Send API within its limits (pure functions, no Rasa, no I/O)."""

from __future__ import annotations

import re
from typing import Any, Dict, List, Optional, Sequence, Tuple

# https://developers.facebook.com/docs/messenger-platform/reference/send-api/ and .../quick-replies
TEXT_LIMIT = 2000
QUICK_REPLY_LIMIT = 13
QUICK_REPLY_TITLE_LIMIT = 20
PAYLOAD_LIMIT = 1000
GENERIC_ELEMENT_LIMIT = 10
GENERIC_TITLE_LIMIT = 80
GENERIC_BUTTON_LIMIT = 3
ELLIPSIS = "…"
# Quick replies need text to hang on; used only when a response has buttons and no text.
CHOOSE_PROMPT = "👇"

_SENTENCE_END = re.compile(r"(?<=[.!?…])\s+")
_MARKDOWN_LINK = re.compile(r"\[([^\]\n]+)\]\((https?://[^)\s]+)\)")


def shorten(text: str, limit: int) -> str:
    """`text` cut to at most `limit` characters, with an ellipsis when something was cut."""
    text = " ".join(str(text).split())
    return text if len(text) <= limit else text[: limit - 1].rstrip() + ELLIPSIS


def _pieces(text: str, limit: int) -> List[str]:
    """Split one over-long block at the coarsest boundary that works: lines, sentences, words."""
    for pattern, joiner in ((re.compile(r"\n"), "\n"), (_SENTENCE_END, " "), (re.compile(r"[ \t]+"), " ")):
        parts = [p for p in pattern.split(text) if p.strip()]
        if len(parts) > 1:
            return _pack(parts, joiner, limit)
    # A single "word" longer than the limit (a long URL, say): nothing better than a hard cut.
    return [text[i : i + limit] for i in range(0, len(text), limit)]


def _pack(parts: Sequence[str], joiner: str, limit: int) -> List[str]:
    chunks: List[str] = []
    current = ""
    for part in parts:
        part = part.strip()
        if len(part) > limit:
            if current:
                chunks.append(current)
                current = ""
            chunks.extend(_pieces(part, limit))
            continue
        candidate = f"{current}{joiner}{part}" if current else part
        if len(candidate) <= limit:
            current = candidate
        else:
            chunks.append(current)
            current = part
    if current:
        chunks.append(current)
    return chunks


def plain_text(text: Optional[str]) -> str:
    """Messenger shows no Markdown: `[label](url)` becomes `label: url`."""
    return _MARKDOWN_LINK.sub(lambda m: f"{m.group(1)}: {m.group(2)}", text or "")


def split_text(text: Optional[str], limit: int = TEXT_LIMIT) -> List[str]:
    """Messages of at most `limit` characters, split between paragraphs, lines, sentences or words.

    Short texts stay one message (paragraphs included), so an answer reads as one bubble.
    Markdown links become plain "label: url".
    """
    text = plain_text(text).strip()
    if not text:
        return []
    if len(text) <= limit:
        return [text]
    return _pack(re.split(r"\n\s*\n", text), "\n\n", limit)


def quick_replies(buttons: Sequence[Dict[str, Any]]) -> Tuple[List[Dict[str, Any]], List[str], List[str]]:
    """Rasa buttons as Messenger quick replies: (quick replies, full titles, link lines).

    At most 13 quick replies with titles of at most 20 characters. When a title had to be cut,
    every option is numbered and the full titles come back so the caller can list them in the
    text; buttons that open a URL cannot be quick replies and come back as "title: url" lines.
    """
    usable: List[Dict[str, str]] = []
    links: List[str] = []
    for button in buttons:
        title = " ".join(str(button.get("title") or "").split())
        if button.get("url") or button.get("type") == "web_url":
            links.append(f"{title}: {button.get('url')}" if title else str(button.get("url")))
            continue
        payload = str(button.get("payload") or title)
        if not title or not payload or len(payload) > PAYLOAD_LIMIT:
            continue
        usable.append({"title": title, "payload": payload})
    usable = usable[:QUICK_REPLY_LIMIT]
    numbered = any(len(b["title"]) > QUICK_REPLY_TITLE_LIMIT for b in usable)
    replies = []
    for number, button in enumerate(usable, start=1):
        title = f"{number}. {button['title']}" if numbered else button["title"]
        replies.append(
            {"content_type": "text", "title": shorten(title, QUICK_REPLY_TITLE_LIMIT), "payload": button["payload"]}
        )
    full_titles = [f"{n}. {b['title']}" for n, b in enumerate(usable, start=1)] if numbered else []
    return replies, full_titles, links


def text_with_buttons(text: Optional[str], buttons: Sequence[Dict[str, Any]]) -> List[Dict[str, Any]]:
    """Send API `message` objects for a text with buttons: the quick replies ride on the last one."""
    replies, full_titles, links = quick_replies(buttons)
    body = (text or "").strip()
    extra = "\n".join(full_titles + links)
    if extra:
        body = f"{body}\n\n{extra}" if body else extra
    chunks = split_text(body) or ([CHOOSE_PROMPT] if replies else [])
    messages: List[Dict[str, Any]] = [{"text": chunk} for chunk in chunks]
    if replies and messages:
        messages[-1]["quick_replies"] = replies
    return messages


def generic_template(elements: Sequence[Dict[str, Any]]) -> Optional[Dict[str, Any]]:
    """A generic template (carousel) within Messenger's limits, or None when nothing is left."""
    cleaned = []
    for element in list(elements)[:GENERIC_ELEMENT_LIMIT]:
        if not element.get("title"):
            continue
        item = dict(element)
        item["title"] = shorten(item["title"], GENERIC_TITLE_LIMIT)
        if item.get("subtitle"):
            item["subtitle"] = shorten(item["subtitle"], GENERIC_TITLE_LIMIT)
        buttons = []
        for button in (item.get("buttons") or [])[:GENERIC_BUTTON_LIMIT]:
            button = dict(button)
            button.setdefault("type", "web_url" if button.get("url") else "postback")
            buttons.append(button)
        if buttons:
            item["buttons"] = buttons
        else:
            item.pop("buttons", None)
        cleaned.append(item)
    if not cleaned:
        return None
    return {"attachment": {"type": "template", "payload": {"template_type": "generic", "elements": cleaned}}}


def is_send_api_message(message: Any) -> bool:
    """Custom JSON that Messenger understands (text or attachment); anything else is for other channels."""
    return isinstance(message, dict) and bool(message.get("text") or message.get("attachment"))
