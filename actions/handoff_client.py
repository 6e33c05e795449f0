"""Client for the handoff service's bot API: an HTTP implementation and an in-memory fake."""
from __future__ import annotations

import itertools
import logging
import time
from typing import Any, Dict, List, Optional, Protocol

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

    def __init__(
        self, base_url: str, token: str, timeout: float = 5.0, retries: int = 2, backoff: float = 0.3
    ) -> None:
        self.base_url = base_url.rstrip("/")
        self.timeout = timeout
        self.retries = retries
        self.backoff = backoff
        self._session = requests.Session()
        self._session.headers.update({"Authorization": f"Bearer {token}"})

    def _request(
        self, method: str, path: str, json: Optional[Dict[str, Any]] = None, retries: Optional[int] = None,
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
                raise HandoffRejected(f"{method} {path}: {response.status_code} {response.text[:500]}",
                                      response.status_code, body if isinstance(body, dict) else None)
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


class InMemoryHandoffClient:
    """Same interface, kept in memory, for unit tests. `accepting` and `down` steer its answers."""

    def __init__(self, accepting: bool = True, down: bool = False) -> None:
        self.accepting = accepting
        self.down = down
        self.escalations: Dict[int, Dict[str, Any]] = {}
        self.messages: Dict[int, List[Dict[str, Any]]] = {}
        self.callbacks: Dict[str, Dict[str, Any]] = {}
        self.feedback: List[Dict[str, Any]] = []
        self.satisfaction: List[Dict[str, Any]] = []
        self.events: List[Dict[str, Any]] = []
        self._keys: Dict[str, Any] = {}
        self._ids = itertools.count(1)

    def _check(self) -> None:
        if self.down:
            raise HandoffUnavailable("in-memory handoff service is down")

    def _once(self, key: Optional[str], make: Any) -> Dict[str, Any]:
        if key and key in self._keys:
            return self._keys[key]
        result = make()
        if key:
            self._keys[key] = result
        return result

    def create_escalation(self, payload: Dict[str, Any]) -> Dict[str, Any]:
        self._check()

        def make() -> Dict[str, Any]:
            conversation_id = next(self._ids)
            waiting = sum(1 for e in self.escalations.values() if e["status"] == "pending")
            self.escalations[conversation_id] = {**payload, "status": "pending"}
            self.messages[conversation_id] = []
            return {
                "conversation_id": conversation_id,
                "status": "pending",
                "accepting": self.accepting,
                "reason_not_accepting": None if self.accepting else "no_agents_online",
                "queue": {"position": waiting + 1, "expected_wait_seconds": 120 * (waiting + 1)},
            }

        return self._once(payload.get("idempotency_key"), make)

    def post_message(self, conversation_id: int, payload: Dict[str, Any]) -> Dict[str, Any]:
        self._check()
        if conversation_id not in self.escalations:
            raise HandoffRejected(f"no conversation {conversation_id}")

        def make() -> Dict[str, Any]:
            self.messages[conversation_id].append(payload)
            return {"ok": True}

        return self._once(payload.get("idempotency_key"), make)

    def get_escalation(self, conversation_id: int) -> Dict[str, Any]:
        self._check()
        return {"conversation_id": conversation_id, **self.escalations[conversation_id]}

    def cancel_escalation(self, conversation_id: int, reason: str) -> Dict[str, Any]:
        self._check()
        self.escalations[conversation_id]["status"] = "cancelled"
        self.escalations[conversation_id]["cancel_reason"] = reason
        return {"conversation_id": conversation_id, "status": "cancelled"}

    def create_callback(self, payload: Dict[str, Any]) -> Dict[str, Any]:
        self._check()

        def make() -> Dict[str, Any]:
            callback_id = next(self._ids)
            reference = f"CB-{callback_id:06d}"
            self.callbacks[reference] = {**payload, "status": "requested"}
            return {"callback_id": callback_id, "reference": reference}

        return self._once(payload.get("idempotency_key"), make)

    def cancel_callback(self, reference: str) -> Dict[str, Any]:
        self._check()
        if reference not in self.callbacks:
            raise HandoffRejected(f"no callback {reference}")
        self.callbacks[reference]["status"] = "cancelled"
        return {"reference": reference, "status": "cancelled"}

    def send_feedback(self, payload: Dict[str, Any]) -> Dict[str, Any]:
        self._check()
        return self._once(payload.get("idempotency_key"), lambda: self.feedback.append(payload) or {"ok": True})

    def send_satisfaction(self, payload: Dict[str, Any]) -> Dict[str, Any]:
        self._check()
        return self._once(payload.get("idempotency_key"), lambda: self.satisfaction.append(payload) or {"ok": True})

    def send_event(self, payload: Dict[str, Any]) -> Dict[str, Any]:
        self._check()
        return self._once(payload.get("idempotency_key"), lambda: self.events.append(payload) or {"ok": True})
