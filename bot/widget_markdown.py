"""Bot and agent text as the widget's Markdown: every line break the author typed stays a break.

FAQ answers (YAML block scalars) and agents' replies put one line break between paragraphs. The
widget renders CommonMark, where one line break is a space and a line after a list joins the last
item, so "Schritt 3 …\nIst ein Artikel …" would read as one paragraph. Here each line becomes its own
paragraph, consecutive list items stay one list, and the message stays one bubble.
"""

from __future__ import annotations

import re

from bot.links import safe_markdown

# A list item ("- ", "* ", "+ ", "1. ", "1) ") or a line indented under one (its continuation).
_LIST_ITEM = re.compile(r"^ {0,3}(?:[-*+]|\d{1,9}[.)])(?:\s|$)")
_INDENTED = re.compile(r"^(?: {2,}|\t)\S")


def paragraphs(text: str | None) -> str:
    """``text`` with a blank line wherever a single line break would otherwise vanish."""
    lines = (text or "").strip().splitlines()
    out: list[str] = []
    in_list = False
    for line in lines:
        if not line.strip():
            if out and out[-1]:
                out.append("")
            in_list = False
            continue
        item = bool(_LIST_ITEM.match(line))
        continues_list = in_list and (item or bool(_INDENTED.match(line)))
        if out and out[-1] and not continues_list:
            out.append("")
        out.append(line)
        in_list = item or continues_list
    return "\n".join(out)


def for_widget(text: str | None) -> str:
    """What the widget gets: paragraphs first, then the link check (bot/links.py) on the final Markdown,
    since a line that became its own paragraph can turn into a link definition."""
    return safe_markdown(paragraphs(text))
