"""The bot-facing JSON API under /api/, authenticated with a bearer token."""

from __future__ import annotations

import hmac
import logging

from flask import Blueprint, jsonify, request
from werkzeug.exceptions import HTTPException

from handoff.extensions import db, state
from handoff.services.errors import ServiceError

logger = logging.getLogger(__name__)

bp = Blueprint("api", __name__)


def error(status: int, code: str, message: str, details: list | None = None):
    body = {"error": {"code": code, "message": message}}
    if details:
        body["error"]["details"] = details
    return jsonify(body), status


@bp.before_request
def _authenticate():
    header = request.headers.get("Authorization", "")
    scheme, _, token = header.partition(" ")
    expected = state().settings.api_token
    if scheme.lower() != "bearer" or not token or not hmac.compare_digest(token.strip().encode(), expected.encode()):
        response = error(
            401, "unauthorized", "Missing or wrong bearer token (Authorization: Bearer <HANDOFF_API_TOKEN>)."
        )
        response[0].headers["WWW-Authenticate"] = 'Bearer realm="handoff"'
        return response
    return None


@bp.errorhandler(ServiceError)
def _service_error(exc: ServiceError):
    db().rollback()
    return error(exc.status, exc.code, exc.message, exc.details)


@bp.errorhandler(HTTPException)
def _http_error(exc: HTTPException):
    if exc.response is not None:  # a finished answer, e.g. the rate limiter's (handoff/limits.py)
        return exc.response
    codes = {400: "bad_request", 404: "not_found", 405: "method_not_allowed", 413: "payload_too_large"}
    message = exc.description or exc.name
    if exc.code == 413:
        message = f"The body is larger than {state().settings.max_body_bytes} bytes."
    return error(exc.code or 500, codes.get(exc.code, "http_error"), message)


@bp.errorhandler(Exception)
def _unexpected(exc: Exception):
    logger.exception("unexpected error in %s %s", request.method, request.path)
    db().rollback()
    return error(500, "internal_error", "Something went wrong on our side; the request can be retried.")


from handoff.api import callbacks, escalations, events, faq, feedback  # noqa: E402,F401  (routes register on bp)
