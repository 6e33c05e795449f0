"""The chat widget on the demo page: the page's language and the settings the widget starts with."""

from __future__ import annotations

from typing import Any, Iterable

from werkzeug.datastructures import LanguageAccept

from core.vocabulary import DEFAULT_LANGUAGE, LANGUAGES

WIDGET_LANGUAGES = LANGUAGES  # static/chat.js has texts for each


def page_language(requested: str | None, accepted: LanguageAccept, languages: Iterable[str]) -> str:
    """`?lang=` if supported, else the browser's preference (Accept-Language), else English."""
    supported = [lang for lang in languages if lang in WIDGET_LANGUAGES] or [DEFAULT_LANGUAGE]
    requested = (requested or "").strip().lower()[:2]
    if requested in supported:
        return requested
    best = accepted.best_match(supported)
    if best:
        return best
    return DEFAULT_LANGUAGE if DEFAULT_LANGUAGE in supported else supported[0]


def widget_config(socket_url: str, language: str) -> dict[str, Any]:
    """The data attributes of static/chat.js's script tag (also the README's embed snippet)."""
    return {"socket_url": socket_url, "language": language}
