"""The console's language: German or English, the agent's own choice, else what their browser asks for.

The catalogues live as `.po` files in `handoff/translations/` (the source of truth, reviewed like code);
`install` compiles them to `.mo` when a `.po` is newer, so a fresh clone, the tests and a container
all start with current translations. `make translations` re-extracts the strings after a change.
"""

from __future__ import annotations

import logging
import os
import tempfile
from datetime import datetime
from pathlib import Path

from babel.dates import format_datetime
from babel.messages.mofile import write_mo
from babel.messages.pofile import read_po
from flask import Flask, g, request
from flask_babel import Babel, get_locale

from core.vocabulary import DEFAULT_LANGUAGE, LANGUAGES

logger = logging.getLogger(__name__)

TRANSLATIONS = Path(__file__).resolve().parent / "translations"
CONSOLE_LANGUAGES = LANGUAGES  # a catalogue under translations/ for each
LANGUAGE_NAMES = {"de": "Deutsch", "en": "English"}
# strftime directives the templates use, as CLDR patterns, so day and month names follow the language
_PATTERNS = {"%a": "EEE", "%d": "dd", "%b": "MMM", "%H": "HH", "%M": "mm", "%S": "ss", "%Y": "yyyy", "%m": "MM"}


def console_language() -> str:
    """The logged-in agent's language, else the best match for the browser's Accept-Language."""
    agent = g.get("agent")
    chosen = getattr(agent, "ui_language", None)
    if chosen in CONSOLE_LANGUAGES:
        return chosen
    return request.accept_languages.best_match(CONSOLE_LANGUAGES) or DEFAULT_LANGUAGE


def compile_catalogues(source: Path = TRANSLATIONS) -> Path:
    """Compile every stale `.po` under ``source``; the directory that holds the `.mo` files.

    Next to the `.po` files when that directory is writable, else in a temporary copy (read-only images).
    """
    try:
        _compile_into(source, source)
        return source
    except OSError as exc:
        target = Path(tempfile.mkdtemp(prefix="handoff-translations-"))
        logger.info("translations directory not writable (%s); compiling into %s", exc, target)
        _compile_into(source, target)
        return target


def _compile_into(source: Path, target: Path) -> None:
    for po_path in source.glob("*/LC_MESSAGES/*.po"):
        mo_path = target / po_path.relative_to(source).with_suffix(".mo")
        if mo_path.exists() and mo_path.stat().st_mtime >= po_path.stat().st_mtime:
            continue
        with po_path.open("rb") as handle:
            catalog = read_po(handle, locale=po_path.parent.parent.name)
        mo_path.parent.mkdir(parents=True, exist_ok=True)
        partial = mo_path.with_name(f"{mo_path.name}.{os.getpid()}.tmp")  # one per worker starting at once
        with partial.open("wb") as handle:
            write_mo(handle, catalog)
        partial.replace(mo_path)  # atomic: workers starting together never read half a file


def local_time(value: datetime, zone, fmt: str) -> str:
    """``value`` in ``zone``, formatted with strftime-style ``fmt`` in the console's language."""
    pattern = fmt
    for directive, cldr in _PATTERNS.items():
        pattern = pattern.replace(directive, cldr)
    if "%" in pattern:  # a directive without a CLDR twin: the language-neutral way
        return value.astimezone(zone).strftime(fmt)
    return format_datetime(value, pattern, tzinfo=zone, locale=str(get_locale()))


def install(app: Flask) -> None:
    """Flask-Babel for the app, with the catalogues compiled and the agent's language chosen per request."""
    directory = compile_catalogues()
    Babel(app, locale_selector=console_language, default_translation_directories=str(directory))
    app.jinja_env.globals.update(
        console_languages=CONSOLE_LANGUAGES, language_names=LANGUAGE_NAMES, get_locale=get_locale
    )
