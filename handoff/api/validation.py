"""Validation of the bot's JSON bodies: every problem is reported, none becomes a 500."""

from __future__ import annotations

import math
from datetime import datetime, timezone
from typing import Any

from flask import request

from handoff.services.errors import Invalid, ServiceError
from handoff.services.escalations import Turn

MAX_TRANSCRIPT_TURNS = 500
MAX_CANDIDATES = 20


class BadJson(ServiceError):
    status = 400
    code = "invalid_json"


def json_object() -> dict[str, Any]:
    """The request body as a JSON object, or a 400 that says what is wrong with it."""
    try:
        data = request.get_json(force=True, silent=True)
    except RecursionError:  # the decoder recurses once per nested [ or {
        raise BadJson("The body nests arrays or objects too deeply to be read.") from None
    if data is None:
        raise BadJson("The body must be a JSON object (Content-Type: application/json).")
    if not isinstance(data, dict):
        raise BadJson(f"The body must be a JSON object, not a {type(data).__name__}.")
    return data


def unstorable_text(value: str) -> str | None:
    """Why a decoded JSON string cannot be stored (PostgreSQL refuses NUL, UTF-8 lone surrogates), if so."""
    if "\x00" in value:
        return "must not contain NUL characters (\\u0000)"
    try:
        value.encode("utf-8")
    except UnicodeEncodeError:
        return "contains a lone surrogate (\\ud800-\\udfff escape without its pair), which is not valid Unicode"
    return None


class Body:
    """Reads typed fields out of a JSON object and collects what is wrong with them."""

    def __init__(self, data: dict[str, Any], prefix: str = "", max_text: int = 4000):
        self.data = data
        self.prefix = prefix
        self.max_text = max_text
        self.errors: list[dict[str, str]] = []

    def problem(self, name: str, message: str) -> None:
        self.errors.append({"field": f"{self.prefix}{name}", "message": message})

    def string(
        self,
        name: str,
        max_len: int | None = None,
        required: bool = True,
        allow_empty: bool = False,
        choices: tuple[str, ...] | None = None,
    ) -> str | None:
        value = self.data.get(name)
        if value is None:
            if required:
                self.problem(name, "is required")
            return None
        if not isinstance(value, str):
            self.problem(name, f"must be a string, not {type(value).__name__}")
            return None
        unstorable = unstorable_text(value)
        if unstorable:
            self.problem(name, unstorable)
            return None
        if not allow_empty and not value.strip():
            self.problem(name, "must not be empty")
            return None
        limit = max_len or self.max_text
        if len(value) > limit:
            self.problem(name, f"is too long ({len(value)} characters, at most {limit})")
            return None
        if choices is not None and value not in choices:
            self.problem(name, f"must be one of {', '.join(choices)}")
            return None
        return value

    def boolean(self, name: str, required: bool = True) -> bool | None:
        value = self.data.get(name)
        if value is None and not required:
            return None
        if not isinstance(value, bool):
            self.problem(name, "must be true or false")
            return None
        return value

    def integer(self, name: str, minimum: int, maximum: int, required: bool = True) -> int | None:
        value = self.data.get(name)
        if value is None and not required:
            return None
        if isinstance(value, float) and value.is_integer() and abs(value) < 2**53:
            value = int(value)  # JSON has one number type: 3.0 is the whole number 3
        if isinstance(value, bool) or not isinstance(value, int):
            self.problem(name, "must be a whole number")
            return None
        if not minimum <= value <= maximum:
            self.problem(name, f"must be between {minimum} and {maximum}")
            return None
        return value

    def epoch(self, name: str, required: bool = False) -> datetime | None:
        value = self.data.get(name)
        if value is None:
            if required:
                self.problem(name, "is required")
            return None
        if isinstance(value, bool) or not isinstance(value, (int, float)) or not math.isfinite(value):
            self.problem(name, "must be seconds since the epoch (a number)")
            return None
        if not 0 <= value < 1e11:
            self.problem(name, "is not a plausible time in seconds since the epoch")
            return None
        return datetime.fromtimestamp(value, tz=timezone.utc)

    def iso_datetime(self, name: str) -> tuple[datetime | None, str]:
        """An ISO-8601 time with a UTC offset, and the offset as written (e.g. '+02:00')."""
        raw = self.string(name, max_len=64)
        if raw is None:
            return None, ""
        try:
            value = datetime.fromisoformat(raw.strip())
        except ValueError:
            self.problem(name, "must be an ISO-8601 date and time, e.g. 2025-05-06T14:00:00+02:00")
            return None, ""
        if value.tzinfo is None or value.utcoffset() is None:
            self.problem(name, "must include a UTC offset, e.g. +02:00 or Z")
            return None, ""
        offset = value.utcoffset()
        minutes = int(offset.total_seconds() // 60)
        sign = "+" if minutes >= 0 else "-"
        return value.astimezone(timezone.utc), f"{sign}{abs(minutes) // 60:02d}:{abs(minutes) % 60:02d}"

    def transcript(self, name: str = "transcript", required: bool = False) -> tuple[Turn, ...] | None:
        value = self.data.get(name)
        if value is None:
            if required:
                self.problem(name, "is required")
            return None
        if not isinstance(value, list):
            self.problem(name, "must be a list of turns")
            return None
        if len(value) > MAX_TRANSCRIPT_TURNS:
            self.problem(name, f"has {len(value)} turns, at most {MAX_TRANSCRIPT_TURNS}")
            return None
        turns = []
        for index, item in enumerate(value):
            where = f"{self.prefix}{name}[{index}]."
            if not isinstance(item, dict):
                self.problem(f"{name}[{index}]", "must be an object with role and text")
                continue
            sub = Body(item, where, self.max_text)
            role = sub.string("role", max_len=8, choices=("user", "bot"))
            text = sub.string("text", allow_empty=True)
            timestamp = sub.epoch("timestamp")
            kb = sub.kb("kb")
            self.errors.extend(sub.errors)
            if not sub.errors:
                turns.append(Turn(role=role, text=text, timestamp=timestamp, kb=kb))
        return tuple(turns)

    def kb(self, name: str) -> dict[str, Any] | None:
        value = self.data.get(name)
        if value is None:
            return None
        if not isinstance(value, dict):
            self.problem(name, "must be null or an object with band and candidates")
            return None
        sub = Body(value, f"{self.prefix}{name}.", self.max_text)
        band = sub.string("band", max_len=32, required=False, allow_empty=True)  # an empty band costs no escalation
        raw = value.get("candidates", [])
        candidates = []
        if not isinstance(raw, list) or len(raw) > MAX_CANDIDATES:
            sub.problem("candidates", f"must be a list of at most {MAX_CANDIDATES} candidates")
        else:
            for index, candidate in enumerate(raw):
                if not isinstance(candidate, dict):
                    sub.problem(f"candidates[{index}]", "must be an object")
                    continue
                cand = Body(candidate, f"{sub.prefix}candidates[{index}].", self.max_text)
                entry_id = cand.string("entry_id", max_len=200)
                question = cand.string("question", allow_empty=True, required=False) or ""
                confidence = candidate.get("confidence")
                if (
                    isinstance(confidence, bool)
                    or not isinstance(confidence, (int, float))
                    or not math.isfinite(confidence)
                ):
                    cand.problem("confidence", "must be a number")
                sub.errors.extend(cand.errors)
                if not cand.errors:
                    candidates.append({"entry_id": entry_id, "question": question, "confidence": float(confidence)})
        self.errors.extend(sub.errors)
        return {"band": band, "candidates": candidates}

    def check(self) -> None:
        if self.errors:
            first = self.errors[0]
            more = f" (and {len(self.errors) - 1} more)" if len(self.errors) > 1 else ""
            raise Invalid(f"{first['field']} {first['message']}{more}", details=self.errors)
