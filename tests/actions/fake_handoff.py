"""The handoff service's bot API kept in memory: the fake HandoffClient of the action tests."""

from __future__ import annotations

import itertools
from typing import Any, Dict, List, Optional

from actions.handoff_client import HandoffRejected, HandoffUnavailable
from core.vocabulary import WAITING


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
            waiting = sum(1 for e in self.escalations.values() if e["status"] == WAITING)
            self.escalations[conversation_id] = {**payload, "status": WAITING}
            self.messages[conversation_id] = []
            return {
                "conversation_id": conversation_id,
                "status": WAITING,
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
