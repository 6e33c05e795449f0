"""The console's words for stored values (statuses, reasons, activity lines), in the agent's language.

The database keeps language-neutral keys (``pending``, ``requested``; an activity line's key and parameters,
``{"key": "claimed", "name": "Sam"}``, handoff/services/state.py); the console shows them in the agent's language.
"""
from __future__ import annotations

import re

from babel.dates import get_day_names
from flask_babel import get_locale
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l

from handoff.services import console
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
_NAME = r"(?P<name>.+?)"
# What handoff/services say when an agent's action cannot happen (errors.ServiceError messages), the everyday ones.
_REFUSALS = [
    (re.compile(rf"^{_NAME} already took this conversation\.$"), _l("%(name)s already took this conversation.")),
    (re.compile(r"^The conversation changed meanwhile; reload\.$"), _l("The conversation changed meanwhile; reload.")),
    (re.compile(r"^You already have (?P<n>\d+) open conversations \(your capacity\); resolve one first\.$"),
     _l("You already have %(n)s open conversations (your capacity); resolve one first.")),
    (re.compile(r"^The conversation is (?P<status>\w+); nothing to claim\.$"),
     _l("The conversation is %(status)s; nothing to claim.")),
    (re.compile(r"^Cannot reply: the conversation is (?P<status>\w+)\. Claim it first\.$"),
     _l("Cannot reply: the conversation is %(status)s. Claim it first.")),
    (re.compile(rf"^Cannot reply: {_NAME} has this conversation\.$"), _l("Cannot reply: %(name)s has this conversation.")),
    (re.compile(r"^The conversation is already (?P<status>\w+)\.$"), _l("The conversation is already %(status)s.")),
    (re.compile(r"^Write something first\.$"), _l("Write something first.")),
    (re.compile(r"^Too long: (?P<n>\d+) characters, at most (?P<limit>\d+)\.$"),
     _l("Too long: %(n)s characters, at most %(limit)s.")),
    (re.compile(rf"^{_NAME} already has this conversation\.$"), _l("%(name)s already has this conversation.")),
    (re.compile(rf"^{_NAME} already took it\.$"), _l("%(name)s already took it.")),
    (re.compile(rf"^{_NAME} is working on this callback\.$"), _l("%(name)s is working on this callback.")),
    (re.compile(r"^Callback (?P<ref>\S+) is (?P<status>\w+) now; reload\.$"), _l("Callback %(ref)s is %(status)s now; reload.")),
]


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


def refusal(text: str) -> str:
    """A service's refusal in the agent's language; one this table does not know stays as written."""
    for pattern, template in _REFUSALS:
        match = pattern.match(text)
        if match:
            values = match.groupdict()
            if "status" in values:
                values["status"] = status(values["status"])
            return str(template) % values
    return text
