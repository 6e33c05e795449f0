"""What a waiting customer reads when nobody on duty can take their conversation, in their language."""

from __future__ import annotations

import logging
from datetime import datetime, timezone
from typing import Any, Dict, List, Optional
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from actions.opening import back_at

logger = logging.getLogger(__name__)

# Replaces utter_queue_update's text when the handoff service says nobody can take the conversation now
# (the response name stays, so the widget keeps its queue hint). Honest: no wait is named, the place is
# kept, the customer hears again once someone is back, and the callback is one click away.
NOBODY = {
    "de": "Gerade ist leider niemand aus unserem Service-Team im Dienst. Sie bleiben auf Platz {position} der "
    "Warteschlange, und ich sage Ihnen Bescheid, sobald wieder jemand da ist. Oder wir rufen Sie zurück, wann "
    "es Ihnen passt; Ihr bisheriges Gespräch geht dabei nicht verloren.",
    "en": "Nobody from our service team is on duty right now, sorry. You keep number {position} in the queue, "
    "and I'll let you know as soon as someone is back. Or we call you back at a time that suits you; our "
    "conversation so far is kept.",
}
CLOSED = {
    "de": "Unser Service-Team ist jetzt nicht mehr im Dienst. {back} Bis dahin bleiben Sie auf Platz {position} "
    "der Warteschlange. Oder wir rufen Sie zurück, wann es Ihnen passt; Ihr bisheriges Gespräch geht dabei "
    "nicht verloren.",
    "en": "Our service team is off duty now. {back} Until then you keep number {position} in the queue. Or we "
    "call you back at a time that suits you; our conversation so far is kept.",
}
CALL_ME_BACK = {"de": "Lieber Rückruf", "en": "Call me back instead"}  # as utter_handoff_queued's button
DEFAULT_LANGUAGE = "en"


def _back(news: Dict[str, Any], language: str, now: datetime) -> Optional[str]:
    try:
        opening = datetime.fromisoformat(str(news["next_opening"]))
        zone = ZoneInfo(str(news["timezone"])) if news.get("timezone") else opening.tzinfo
    except (KeyError, ValueError, ZoneInfoNotFoundError):
        logger.warning("unusable opening time %r / zone %r", news.get("next_opening"), news.get("timezone"))
        return None
    return back_at(opening, language, zone, now) if zone is not None else None


def nobody_on_duty(news: Dict[str, Any], language: str, now: Optional[datetime] = None) -> Optional[str]:
    """The message for a ``queue_update`` that carries ``reason_not_accepting``; None for a plain place and wait."""
    reason = news.get("reason_not_accepting")
    if not reason or not news.get("queue_position"):
        return None
    language = language if language in NOBODY else DEFAULT_LANGUAGE
    position = int(news["queue_position"])
    if reason == "outside_business_hours" and news.get("next_opening"):
        back = _back(news, language, now or datetime.now(timezone.utc))
        if back:
            return CLOSED[language].format(back=back, position=position)
    return NOBODY[language].format(position=position)


def callback_button(language: str) -> List[Dict[str, str]]:
    return [{"title": CALL_ME_BACK.get(language, CALL_ME_BACK[DEFAULT_LANGUAGE]), "payload": "/request_callback"}]
