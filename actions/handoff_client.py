"""Client for the handoff service's bot API: the interface and its HTTP implementation (the tests' in-memory
fake is tests/actions/fake_handoff.py)."""

from __future__ import annotations

import logging
import time
from typing import Any, Dict, Optional, Protocol

import requests

logger = logging.getLogger(__name__)


class HandoffError(Exception):
    """The handoff service could not do what was asked."""


class HandoffUnavailable(HandoffError):
    """The service did not answer (down, timeout, 5xx) even after retries."""


class HandoffRejected(HandoffError):
    """The service answered with a 4xx: the request itself is wrong (or over a cap)."""

    def __init__(self, message: str, status: int = 400, body: Optional[Dict[str, Any]] = None) -> None:
        super().__init__(message)
        self.status = status
        self.error = (body or {}).get("error") or {}

    @property
    def code(self) -> str:
        return str(self.error.get("code") or "")


class HandoffClient(Protocol):
    def create_escalation(self, payload: Dict[str, Any]) -> Dict[str, Any]: ...
    def post_message(self, conversation_id: int, payload: Dict[str, Any]) -> Dict[str, Any]: ...
    def get_escalation(self, conversation_id: int) -> Dict[str, Any]: ...
    def cancel_escalation(self, conversation_id: int, reason: str) -> Dict[str, Any]: ...
    def create_callback(self, payload: Dict[str, Any]) -> Dict[str, Any]: ...
    def cancel_callback(self, reference: str) -> Dict[str, Any]: ...
    def send_feedback(self, payload: Dict[str, Any]) -> Dict[str, Any]: ...
    def send_satisfaction(self, payload: Dict[str, Any]) -> Dict[str, Any]: ...
    def send_event(self, payload: Dict[str, Any]) -> Dict[str, Any]: ...


class HttpHandoffClient:
    """Talks to the handoff service over HTTP with timeouts and retries.

    Every write carries an idempotency key chosen by the caller, so a retry after a lost
    response never creates a second conversation or message.
    """

    def __init__(self, base_url: str, token: str, timeout: float = 5.0, retries: int = 2, backoff: float = 0.3) -> None:
        self.base_url = base_url.rstrip("/")
        self.timeout = timeout
        self.retries = retries
        self.backoff = backoff
        self._session = requests.Session()
        self._session.headers.update({"Authorization": f"Bearer {token}"})

    def _request(
        self,
        method: str,
        path: str,
        json: Optional[Dict[str, Any]] = None,
        retries: Optional[int] = None,
        timeout: Optional[float] = None,
    ) -> Dict[str, Any]:
        url = f"{self.base_url}/api{path}"
        last_error: Optional[Exception] = None
        for attempt in range((self.retries if retries is None else retries) + 1):
            if attempt:
                time.sleep(self.backoff * 2 ** (attempt - 1))
            try:
                response = self._session.request(method, url, json=json, timeout=timeout or self.timeout)
            except requests.RequestException as exc:
                last_error = exc
                logger.warning("handoff service %s %s failed (attempt %d): %s", method, path, attempt + 1, exc)
                continue
            if response.status_code >= 500:
                last_error = HandoffError(f"{response.status_code} {response.text[:200]}")
                logger.warning("handoff service %s %s answered %s", method, path, response.status_code)
                continue
            if response.status_code >= 400:
                try:
                    body = response.json()
                except ValueError:
                    body = None
                raise HandoffRejected(
                    f"{method} {path}: {response.status_code} {response.text[:500]}",
                    response.status_code,
                    body if isinstance(body, dict) else None,
                )
            return response.json() if response.content else {}
        raise HandoffUnavailable(f"{method} {path}: {last_error}")

    def create_escalation(self, payload: Dict[str, Any]) -> Dict[str, Any]:
        return self._request("POST", "/escalations", payload)

    def post_message(self, conversation_id: int, payload: Dict[str, Any]) -> Dict[str, Any]:
        return self._request("POST", f"/escalations/{conversation_id}/messages", payload)

    def get_escalation(self, conversation_id: int) -> Dict[str, Any]:
        return self._request("GET", f"/escalations/{conversation_id}")

    def cancel_escalation(self, conversation_id: int, reason: str) -> Dict[str, Any]:
        return self._request("POST", f"/escalations/{conversation_id}/cancel", {"reason": reason})

    def create_callback(self, payload: Dict[str, Any]) -> Dict[str, Any]:
        return self._request("POST", "/callbacks", payload)

    def cancel_callback(self, reference: str) -> Dict[str, Any]:
        return self._request("POST", f"/callbacks/{reference}/cancel", {})

    def send_feedback(self, payload: Dict[str, Any]) -> Dict[str, Any]:
        return self._request("POST", "/feedback", payload)

    def send_satisfaction(self, payload: Dict[str, Any]) -> Dict[str, Any]:
        return self._request("POST", "/satisfaction", payload)

    def send_event(self, payload: Dict[str, Any]) -> Dict[str, Any]:
        # Analytics only: one quick attempt, so a slow service never delays an answer.
        return self._request("POST", "/events", payload, retries=0, timeout=min(self.timeout, 1.0))
