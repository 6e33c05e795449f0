"""Errors a service raises when a precondition fails; the web layers turn them into responses."""
from __future__ import annotations


from typing import Any, Callable

Part = tuple[str, dict[str, Any]]


def translatable(message: str) -> str:
    """Marks a sentence a person reads in the console (``make translations`` collects it): raise it with its
    values apart, ``Invalid(translatable("at least %(n)d characters"), n=8)``, so the console translates it."""
    return message


class ServiceError(Exception):
    """``message`` is English (the bot API and logs read it); ``parts`` keep each sentence's template and values,
    so the console can show it in the agent's language (``translated``). A list of parts reads as one message."""

    status = 400
    code = "bad_request"

    def __init__(self, message: str | list[Part], code: str | None = None, details: list[dict] | None = None,
                 **values: Any):
        self.parts: list[Part] = list(message) if isinstance(message, list) else [(message, values)]
        self.message = "; ".join(template % given if given else template for template, given in self.parts)
        super().__init__(self.message)
        if code:
            self.code = code
        self.details = details or []

    def translated(self, gettext: Callable[..., str]) -> str:
        """The message through ``gettext`` (e.g. Flask-Babel's), each sentence translated before its values go in."""
        return "; ".join(str(gettext(template, **given)) for template, given in self.parts)


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
