"""The console's words for stored values (statuses, reasons, activity lines), in the agent's language.

The database keeps language-neutral keys (``pending``, ``requested``; an activity line's key and parameters,
``{"key": "claimed", "name": "Sam"}``, handoff/services/state.py); the console shows them in the agent's language.
"""

from __future__ import annotations

from babel.dates import get_day_names
from flask_babel import get_locale
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l

from handoff.services import console, errors
from handoff.services.privacy import MARKER as ERASED

REASONS = {
    "requested": _l("the customer asked for a person"),
    "low_confidence": _l("the bot was not sure of the answer"),
    "repeated_failure": _l("the bot failed repeatedly"),
    "negative_feedback": _l("the customer said the answers did not help"),
    "frustration": _l("the customer seemed frustrated"),
}
STATUSES = {
    "pending": _l("waiting"),
    "open": _l("open"),
    "resolved": _l("resolved"),
    "cancelled": _l("cancelled"),
    "returned": _l("back with the bot"),
    # callbacks
    "claimed": _l("claimed"),
    "done": _l("done"),
    "no_answer": _l("no answer"),
}
CALLBACK_STATUSES = {**STATUSES, "pending": _l("to call")}  # a callback waits for an agent to phone
URGENCY = {"overdue": _l("overdue"), "due": _l("due"), "upcoming": _l("upcoming"), "closed": _l("closed")}
PRESENCE = {"online": _l("Online"), "away": _l("Away"), "offline": _l("Offline")}
ROLES = {"agent": _l("agent"), "admin": _l("admin")}
CALLBACK_EVENTS = {
    "requested": _l("requested"),
    "claimed": _l("claimed"),
    "released": _l("released"),
    "done": _l("done"),
    "no_answer": _l("no answer"),
    "cancelled": _l("cancelled by an agent"),
    "cancelled_by_customer": _l("cancelled by the customer"),
}
CONTACT_METHODS = {"phone": _l("phone"), "email": _l("e-mail")}
END_REASONS = {
    "customer_left": _l("the customer left"),
    "switched_to_callback": _l("the customer chose a callback"),
    "erased": _l("erased on the customer's request"),
}
BANDS = {"answer": _l("answer"), "clarify": _l("clarify"), "decline": _l("decline")}  # the KB's verdict

# Activity lines by their stored key (handoff/services/state.py ACTIVITY_SENTENCES); "handed_over" is composed.
ACTIVITY = {
    "auto_assigned": _l("%(name)s was assigned the conversation automatically."),
    "claimed": _l("%(name)s took the conversation."),
    "requeued": _l("%(name)s put the conversation back in the queue."),
    "transferred": _l("%(name)s transferred the conversation to %(target)s."),
    "resolved": _l("%(name)s resolved the conversation."),
    "returned": _l("%(name)s handed the conversation back to the bot."),
    "customer_left": _l("The customer left the conversation."),
    "switched_to_callback": _l("The customer switched to a callback request."),
    "cancelled": _l("The customer cancelled."),
}


def reason(key: str | None) -> str:
    return str(REASONS.get(key or "", key or ""))


def status(key: str | None) -> str:
    return str(STATUSES.get(key or "", (key or "").replace("_", " ")))


def callback_status(key: str | None) -> str:
    return str(CALLBACK_STATUSES.get(key or "", (key or "").replace("_", " ")))


def customer(item, short: bool = False) -> str:
    """The customer's name, else e.g. "Kunde 1042 · Widget · de" ("Kunde 1042" when ``short``)."""
    return console.customer_label(item, _("Customer"), short)


channel = console.channel_name


def weekdays() -> list[str]:
    """Monday to Sunday in the console's language."""
    names = get_day_names("wide", locale=str(get_locale()))
    return [names[day] for day in range(7)]


def activity(message) -> str:
    """An activity line (a Message) in the agent's language, from its key and parameters; a line without a key
    or erased from the database reads as stored."""
    stored = message.activity or {}
    key = stored.get("key")
    if key is None or message.content == ERASED:
        return message.content
    params = {name: value for name, value in stored.items() if name != "key"}
    try:
        if key == "handed_over":
            return _handed_over(params)
        return str(ACTIVITY[key]) % params
    except (KeyError, TypeError, ValueError):  # a key or parameter this version does not know
        return message.content


def _handed_over(params: dict) -> str:
    words = _("Handed over by the bot: %(reason)s.", reason=reason(params["reason"]))
    if params.get("closed"):
        why = _("outside business hours") if params["closed"] == "outside_business_hours" else _("nobody online")
        words += " " + _("Not taking hand-offs right now (%(why)s); the customer was offered a callback.", why=why)
    if params.get("again"):
        words = _("The bot handed over again.") + " " + words
    return words


# A status among a refusal's values (errors.Term) reads as the console shows it elsewhere: "wartend", not "pending"
# (the console's error handler passes these to ServiceError.translated).
TERMS: errors.Terms = {"status": status, "callback_status": callback_status}
