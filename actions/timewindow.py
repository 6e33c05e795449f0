"""Turn a customer's words for a callback time ("morgen ab 14 Uhr", "tomorrow morning") into a window."""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from typing import Optional, Tuple

BUSINESS_START, BUSINESS_END = 8, 20
DEFAULT_LENGTH = timedelta(hours=2)

_WEEKDAYS = {
    "montag": 0,
    "monday": 0,
    "mo": 0,
    "dienstag": 1,
    "tuesday": 1,
    "di": 1,
    "mittwoch": 2,
    "wednesday": 2,
    "mi": 2,
    "donnerstag": 3,
    "thursday": 3,
    "do": 3,
    "freitag": 4,
    "friday": 4,
    "fr": 4,
    "samstag": 5,
    "saturday": 5,
    "sa": 5,
    "sonntag": 6,
    "sunday": 6,
}
_PARTS = {
    "früh": (8, 10),
    "frueh": (8, 10),
    "early": (8, 10),
    "vormittag": (9, 12),
    "vormittags": (9, 12),
    "morning": (9, 12),
    "morgens": (8, 12),
    "mittag": (12, 14),
    "mittags": (12, 14),
    "noon": (12, 14),
    "lunchtime": (12, 14),
    "midday": (12, 14),
    "nachmittag": (14, 17),
    "nachmittags": (14, 17),
    "afternoon": (14, 17),
    "abend": (17, 20),
    "abends": (17, 20),
    "evening": (17, 20),
    "tonight": (17, 20),
}
_NOW = re.compile(
    r"\b(jetzt|sofort|gleich|asap|now|right away|as soon as possible|so schnell wie möglich|so bald wie möglich|schnellstmöglich|möglichst bald|anytime|egal|jederzeit)\b"
)
_DATE = re.compile(r"\b(\d{1,2})\.(\d{1,2})\.?(\d{2,4})?")
_HOUR = r"(\d{1,2})(?:[:.](\d{2}))?\s*(uhr|h|am|pm|a\.m\.|p\.m\.)?"
_RANGE = re.compile(rf"(?:zwischen|between|von|from)?\s*{_HOUR}\s*(?:-|–|bis|and|und|to|till|until)\s*{_HOUR}")
_FROM = re.compile(rf"\b(?:ab|nach|after|from|from about|frühestens)\s+{_HOUR}")
_AT = re.compile(rf"\b(?:um|at|gegen|around|about)\s+{_HOUR}")
_BARE = re.compile(rf"\b{_HOUR}")
_NUMBER_WORDS = {
    "a": 1,
    "an": 1,
    "one": 1,
    "einer": 1,
    "eine": 1,
    "two": 2,
    "zwei": 2,
    "three": 3,
    "drei": 3,
    "four": 4,
    "vier": 4,
    "a couple of": 2,
    "ein paar": 2,
}
_IN_HOURS = re.compile(
    r"\bin\s+(?:(\d{1,2})|(an|a|one|einer|eine|two|zwei|three|drei|four|vier|a couple of|ein paar))"
    r"\s+(?:hours?|stunden?)\b"
)


@dataclass(frozen=True)
class Window:
    start: datetime
    end: datetime

    def describe(self, language: str) -> str:
        day = self.start.strftime("%d.%m.%Y") if language == "de" else self.start.strftime("%a %d %b %Y")
        if language == "de":
            return f"{day}, {self.start:%H:%M}–{self.end:%H:%M} Uhr"
        return f"{day}, {self.start:%H:%M}–{self.end:%H:%M}"


def _hour(hour: str, minute: Optional[str], suffix: Optional[str], context_pm: bool) -> Optional[time]:
    h, m = int(hour), int(minute or 0)
    suffix = (suffix or "").replace(".", "")
    if suffix == "pm" and h < 12:
        h += 12
    elif suffix == "am" and h == 12:
        h = 0
    elif not suffix and context_pm and h < 8:
        h += 12  # "ab 3" in the afternoon, "from 3" = 15:00: nobody books a callback at 3 am
    if not (0 <= h <= 23 and 0 <= m <= 59):
        return None
    return time(h, m)


def _day(text: str, today: date) -> Tuple[Optional[date], bool]:
    """The day named in the text, and whether a day was named at all."""
    if re.search(r"\b(übermorgen|uebermorgen|day after tomorrow)\b", text):
        return today + timedelta(days=2), True
    if re.search(r"\btomorrow\b", text) or re.search(r"(?<!am )\bmorgen\b", text):
        return today + timedelta(days=1), True
    if re.search(r"\b(heute|today|tonight)\b", text):
        return today, True
    if re.search(r"\b(next week|nächste[n]? woche|naechste[n]? woche|kommende[n]? woche)\b", text):
        return today + timedelta(days=7 - today.weekday()), True  # that Monday
    match = _DATE.search(text)
    if match:
        day, month, year = int(match.group(1)), int(match.group(2)), match.group(3)
        year_value = int(year) + (2000 if year and len(year) == 2 else 0) if year else today.year
        try:
            named = date(year_value, month, day)
        except ValueError:
            return None, True
        if named < today and not year:
            named = date(today.year + 1, month, day)
        return named, True
    for word in re.findall(r"[a-zäöü]+", text):
        if word in _WEEKDAYS and (len(word) > 2 or re.search(rf"\b{word}\b\.?\s*\d", text)):
            ahead = (_WEEKDAYS[word] - today.weekday()) % 7 or 7
            return today + timedelta(days=ahead), True
    return today, False


def _clock_times(text: str, day: date, context_pm: bool) -> tuple[Optional[time], Optional[time]]:
    """Start and end times from the first clock pattern that matches: a range, "from ...", or "at ...".

    Both are None when no pattern matches; the end is None when only the start could be read.
    """
    start_t = end_t = None
    for pattern, kind in ((_RANGE, "range"), (_FROM, "from"), (_AT, "at")):
        match = pattern.search(text)
        if not match:
            continue
        groups = match.groups()
        if kind == "range":
            end_t = _hour(groups[3], groups[4], groups[5] or groups[2], context_pm)
            start_t = _hour(
                groups[0],
                groups[1],
                groups[2] or groups[5],
                context_pm or bool(end_t and end_t.hour >= 12 and int(groups[0]) < 8),
            )
        else:
            start_t = _hour(groups[0], groups[1], groups[2], context_pm or int(groups[0]) < 8)
            if start_t:
                end_t = (
                    datetime.combine(day, start_t) + (timedelta(hours=1) if kind == "at" else DEFAULT_LENGTH)
                ).time()
        break
    return start_t, end_t


def parse_window(text: str, now: datetime) -> Optional[Window]:
    """A concrete window in `now`'s time zone, or None when the text names no usable time.

    `now` must be timezone-aware; windows in the past are rejected, windows that started already
    begin now.
    """
    lowered = " ".join(text.lower().split())
    if _NOW.search(lowered):
        return Window(now, now + DEFAULT_LENGTH)
    later = _IN_HOURS.search(lowered)
    if later:
        amount = later.group(1) or later.group(2)
        hours = _NUMBER_WORDS.get(amount, None) if not amount.isdigit() else int(amount)
        if hours is not None and 0 < hours <= 72:
            start = now + timedelta(hours=hours)
            return Window(start, start + DEFAULT_LENGTH)
    day, day_named = _day(lowered, now.date())
    if day is None:
        return None
    lowered_wo_date = _DATE.sub(" ", lowered)
    part = next((span for word, span in _PARTS.items() if re.search(rf"\b{word}\b", lowered_wo_date)), None)
    # "morgen" alone is "tomorrow"; "morgens"/"morgen früh" is a part of the day.
    if re.search(r"\bmorgen früh\b", lowered_wo_date):
        part = _PARTS["früh"]
    context_pm = part is not None and part[0] >= 12
    start_t, end_t = _clock_times(lowered_wo_date, day, context_pm)
    if start_t is None and part is None:
        bare = _BARE.search(lowered_wo_date)
        if bare and (bare.group(3) or day_named):
            start_t = _hour(bare.group(1), bare.group(2), bare.group(3), int(bare.group(1)) < 8)
            if start_t:
                end_t = (datetime.combine(day, start_t) + timedelta(hours=1)).time()
    if start_t is None and part is not None:
        start_t, end_t = time(part[0]), time(part[1])
    if start_t is None:
        if not day_named:
            return None
        start_t, end_t = time(BUSINESS_START), time(BUSINESS_END)
    if end_t is None or end_t <= start_t:
        return None
    start = datetime.combine(day, start_t, tzinfo=now.tzinfo)
    end = datetime.combine(day, end_t, tzinfo=now.tzinfo)
    if end <= now:
        return None
    return Window(max(start, now), end)
