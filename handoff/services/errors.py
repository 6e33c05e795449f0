"""Errors a service raises when a precondition fails; the web layers turn them into responses."""

from __future__ import annotations


from typing import Any, Callable, Mapping

Part = tuple[str, dict[str, Any]]
# How a reader names each kind of Term, e.g. the console's {"status": words.status}; a Term of a kind not named
# reads as its key.
Terms = Mapping[str, Callable[[str], str]]


class Term(str):
    """A stored key among a sentence's values, e.g. a status: the bot API and logs read the key (``pending``),
    the console the word it shows for it in the agent's language (``waiting``, ``wartend``): see ``Terms``."""

    def __new__(cls, key: str, kind: str) -> "Term":
        term = super().__new__(cls, key)
        term.kind = kind
        return term


def translatable(message: str) -> str:
    """Marks a sentence a person reads in the console (``make translations`` collects it): raise it with its
    values apart, ``Invalid(translatable("at least %(n)d characters"), n=8)``, so the console translates it."""
    return message


class ServiceError(Exception):
    """``message`` is English (the bot API and logs read it); ``parts`` keep each sentence's template and values,
    so the console can show it in the agent's language (``translated``). A list of parts reads as one message."""

    status = 400
    code = "bad_request"

    def __init__(
        self, message: str | list[Part], code: str | None = None, details: list[dict] | None = None, **values: Any
    ):
        self.parts: list[Part] = list(message) if isinstance(message, list) else [(message, values)]
        self.message = "; ".join(template % given if given else template for template, given in self.parts)
        super().__init__(self.message)
        if code:
            self.code = code
        self.details = details or []

    def translated(self, gettext: Callable[..., str], terms: Terms | None = None) -> str:
        """The message through ``gettext`` (e.g. Flask-Babel's), each sentence translated before its values go in,
        its Terms named by ``terms``."""
        return "; ".join(self.sentences(gettext, terms))

    def sentences(self, gettext: Callable[..., str], terms: Terms | None = None) -> list[str]:
        """Each sentence through ``gettext``, its Terms named by ``terms`` (e.g. the console's words)."""
        return [str(gettext(template, **_worded(given, terms or {}))) for template, given in self.parts]


def _worded(values: dict[str, Any], terms: Terms) -> dict[str, Any]:
    return {
        name: terms[value.kind](value) if isinstance(value, Term) and value.kind in terms else value
        for name, value in values.items()
    }


def invalid_fields(problems: list[tuple[str, str, dict[str, Any]]]) -> "Invalid":
    """One refusal of several form fields, each ``(field, sentence, values)`` with a sentence that starts with
    ``%(field)s`` ("%(field)s must not be empty"): the message reads "answer must not be empty; ...", ``details``
    give the API each field and its sentence without it."""
    parts = [(sentence, {**values, "field": name}) for name, sentence, values in problems]
    details = [
        {"field": name, "message": (sentence % {**values, "field": ""}).strip()} for name, sentence, values in problems
    ]
    return Invalid(parts, details=details)


class NotFound(ServiceError):
    status = 404
    code = "not_found"


class Conflict(ServiceError):
    status = 409
    code = "conflict"


class Invalid(ServiceError):
    status = 422
    code = "validation_error"


class Forbidden(ServiceError):
    status = 403
    code = "forbidden"


class TooMany(ServiceError):
    """A cap on what one customer may have open at once (e.g. callback requests)."""

    status = 429
    code = "too_many"
