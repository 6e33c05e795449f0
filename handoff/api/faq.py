"""The published FAQ changes after a version, for action servers that keep their index current."""

from __future__ import annotations

import logging

from flask import jsonify, request

from handoff.api import bp
from handoff.extensions import db
from handoff.services import faq_feed
from handoff.services.errors import Invalid

MAX_VERSION = 2**31 - 1  # the column is a 32-bit integer on PostgreSQL


def _number(name: str, default: int, low: int, high: int, problems: list) -> int:
    raw = request.args.get(name)
    if raw is None:  # absent; present but empty ("?limit=") is a mistake like any other
        return default
    raw = raw.strip()
    if not (raw.isascii() and raw.isdigit() and len(raw) <= 10 and low <= int(raw) <= high):
        problems.append({"field": name, "message": f"must be a whole number from {low} to {high}"})
        return default
    return int(raw)


@bp.get("/faq/changes")
def faq_changes():
    problems: list = []
    since = _number("since", 0, 0, MAX_VERSION, problems)
    limit = _number("limit", faq_feed.PAGE, 1, faq_feed.PAGE, problems)
    if problems:
        raise Invalid("; ".join(f"{p['field']} {p['message']}" for p in problems), details=problems)
    return jsonify(faq_feed.changes_since(db(), since, limit))


class QuietPolls(logging.Filter):
    """Drops the access-log line of a successful poll: every action server asks about once a second."""

    def filter(self, record: logging.LogRecord) -> bool:
        args = record.args if isinstance(record.args, tuple) else ()
        return not (len(args) >= 2 and "/api/faq/changes" in str(args[0]) and "200" in str(args[1]))
