"""Writing the security audit, and the keyed hash that names a customer there without naming them."""

from __future__ import annotations

import getpass
import hashlib
import hmac
from datetime import datetime
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from handoff.models import Agent, AuditEvent, utcnow


def customer_ref(secret_key: str, identifier: str) -> str:
    """A stable pseudonym for a customer id, e-mail or phone: equal inputs match, nobody can read it back."""
    digest = hmac.new(secret_key.encode(), identifier.strip().encode(), hashlib.sha256).hexdigest()
    return f"hmac:{digest[:24]}"


def cli_actor() -> str:
    try:
        user = getpass.getuser()
    except Exception:  # noqa: BLE001 - no user name in some containers
        user = "unknown"
    return f"cli:{user}"


def record(
    session: Session,
    action: str,
    actor: str | Agent,
    subject: str | None = None,
    counts: dict[str, Any] | None = None,
    note: str | None = None,
    now: datetime | None = None,
) -> AuditEvent:
    """Add one audit row to the session (the caller commits with the change it describes)."""
    agent = actor if isinstance(actor, Agent) else None
    event = AuditEvent(
        action=action,
        actor=(agent.email if agent else str(actor))[:254],
        actor_agent_id=agent.id if agent else None,
        subject=subject[:254] if subject else None,
        counts=counts,
        note=note[:500] if note else None,
        created_at=now or utcnow(),
    )
    session.add(event)
    return event


def recent(session: Session, actions: tuple[str, ...] | None = None, limit: int = 50) -> list[AuditEvent]:
    query = select(AuditEvent).order_by(AuditEvent.id.desc()).limit(limit)
    if actions:
        query = query.where(AuditEvent.action.in_(actions))
    return list(session.scalars(query))
