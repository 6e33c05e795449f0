"""Links in bot and agent messages, made safe before the widget renders them on a third-party page.

The widget renders Markdown. A regex over "](javascript:" let through `[x](<javascript:...>)`,
reference-style links (`[x][1]` ... `[1]: javascript:...`), autolinks and `&#106;avascript:`. Here a real
Markdown parser (markdown-it, CommonMark) finds every link and image the way a renderer would, with entities
and percent-escapes decoded, and only http, https, mailto and tel survive. A message with any other link
target loses its Markdown syntax (brackets and angle brackets escaped): its words are shown, nothing is
clickable that should not be.
"""

from __future__ import annotations

import functools
import html
import re
from typing import Iterable
from urllib.parse import unquote

ALLOWED_SCHEMES = frozenset({"http", "https", "mailto", "tel"})
_SCHEME = re.compile(r"^\s*([a-zA-Z][a-zA-Z0-9+.\-]*)\s*:")
_CONTROL = re.compile(r"[\x00-\x20\x7f]+")
_MARKUP = re.compile(r"([\[\]()<>!`\\&])")


@functools.lru_cache(maxsize=1)
def _parser():
    from markdown_it import MarkdownIt

    parser = MarkdownIt("commonmark", {"linkify": False})
    parser.validateLink = lambda url: True  # see every link a lenient renderer might still render
    return parser


def link_targets(text: str) -> Iterable[str]:
    """Every link and image target in the Markdown ``text``, as a renderer resolves it."""
    for token in _parser().parse(text or ""):
        for child in [token, *(token.children or [])]:
            if child.type == "link_open":
                yield str(child.attrGet("href") or "")
            elif child.type == "image":
                yield str(child.attrGet("src") or "")


def is_allowed(url: str) -> bool:
    """Relative links, anchors and the allowed schemes; decoded the way a browser would read them."""
    decoded = _CONTROL.sub("", unquote(html.unescape(url)))
    scheme = _SCHEME.match(decoded)
    return scheme is None or scheme.group(1).lower() in ALLOWED_SCHEMES


def safe_markdown(text: str | None) -> str:
    """``text`` unchanged when all its links are safe; otherwise with its link syntax escaped."""
    text = text or ""
    if all(is_allowed(url) for url in link_targets(text)) and not _raw_html_link(text):
        return text
    return _MARKUP.sub(r"\\\1", text)


def _raw_html_link(text: str) -> bool:
    """Inline HTML with a script-capable attribute: not Markdown, but some renderers pass HTML through."""
    return bool(
        re.search(r"<\s*(?:a|img|iframe|script|svg)\b|\bon\w+\s*=|javascript\s*:", html.unescape(text), re.IGNORECASE)
    )
