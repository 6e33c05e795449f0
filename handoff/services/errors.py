"""Errors a service raises when a precondition fails; the web layers turn them into responses."""
from __future__ import annotations


class ServiceError(Exception):
    status = 400
    code = "bad_request"

    def __init__(self, message: str, code: str | None = None, details: list[dict] | None = None):
        super().__init__(message)
        self.message = message
        if code:
            self.code = code
        self.details = details or []


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
