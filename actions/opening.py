"""Out of business hours: the sentence that tells a customer when the team is back, in their language."""

from __future__ import annotations

import logging
from datetime import datetime, timezone, tzinfo
from typing import Any, Dict, Optional
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from babel.dates import format_date

from core.vocabulary import DEFAULT_LANGUAGE

logger = logging.getLogger(__name__)

# Weekday and month names come from Babel (CLDR); the sentences are ours. A whole week ahead is
# "Monday"; further (holidays) the date is added so nobody reads "Monday" as the coming one.
WHEN = {
    "de": {
        "today": "heute ab {time} Uhr",
        "tomorrow": "morgen ab {time} Uhr",
        "week": "ab {weekday}, {time} Uhr",
        "later": "ab {weekday}, {date}, {time} Uhr",
    },
    "en": {
        "today": "today at {time}",
        "tomorrow": "tomorrow at {time}",
        "week": "{weekday} at {time}",
        "later": "{weekday}, {date} at {time}",
    },
}
DATE_PATTERN = {"de": "d. MMMM", "en": "d MMMM"}
BACK = {"de": "Wir sind {when} wieder da.", "en": "We're back {when}."}
# Replaces utter_handoff_unavailable's text when the team is closed (the response name stays, so the
# widget and analytics still see which response it was).
CLOSED = {
    "de": "Unser Service-Team ist gerade nicht im Dienst. {back} Gern rufen wir Sie zurück, wann es "
    "Ihnen passt; Ihr bisheriges Gespräch geht dabei nicht verloren.",
    "en": "Our service team is not at work right now. {back} We'll gladly call you back at a time that "
    "suits you; our conversation so far is kept.",
}


def back_at(opening: datetime, language: str, zone: tzinfo, now: datetime) -> str:
    """'Wir sind ab Montag, 8:00 Uhr wieder da.' / "We're back Monday at 8:00." in ``zone``'s local time."""
    language = language if language in WHEN else DEFAULT_LANGUAGE
    local = opening.astimezone(zone)
    days = (local.date() - now.astimezone(zone).date()).days
    kind = "today" if days <= 0 else "tomorrow" if days == 1 else "week" if days < 7 else "later"
    when = WHEN[language][kind].format(
        time=f"{local.hour}:{local.minute:02d}",
        weekday=format_date(local.date(), "EEEE", locale=language),
        date=format_date(local.date(), DATE_PATTERN[language], locale=language),
    )
    return BACK[language].format(when=when)


def closed_message(escalation: Dict[str, Any], language: str, now: Optional[datetime] = None) -> Optional[str]:
    """The whole out-of-hours message for the handoff service's answer, or None when it is not about hours.

    ``escalation`` is the answer to POST /escalations: ``reason_not_accepting``, ``next_opening``
    (ISO 8601 with the service's offset) and ``timezone`` (the service's zone, e.g. Europe/Berlin).
    """
    if escalation.get("reason_not_accepting") != "outside_business_hours" or not escalation.get("next_opening"):
        return None
    try:
        opening = datetime.fromisoformat(str(escalation["next_opening"]))
        # Without the zone's name the opening's own offset still gives the right wall-clock time.
        zone = ZoneInfo(str(escalation["timezone"])) if escalation.get("timezone") else opening.tzinfo
    except (ValueError, ZoneInfoNotFoundError):
        logger.warning("unusable opening time %r / zone %r", escalation.get("next_opening"), escalation.get("timezone"))
        return None
    if zone is None:
        return None
    now = now or datetime.now(timezone.utc)
    language = language if language in CLOSED else DEFAULT_LANGUAGE
    return CLOSED[language].format(back=back_at(opening, language, zone, now))
