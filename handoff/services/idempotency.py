"""Run a bot request at most once per client-chosen key; a retry gets the first answer back."""

from __future__ import annotations

import hashlib
import json
import logging
from dataclasses import dataclass
from typing import Any, Callable

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from handoff.models import IdempotencyRecord

logger = logging.getLogger(__name__)


@dataclass(frozen=True)
class Outcome:
    status: int
    body: dict[str, Any]
    replayed: bool = False


def request_hash(payload: Any) -> str:
    return hashlib.sha256(json.dumps(payload, sort_keys=True, default=str).encode()).hexdigest()


def _replay(session: Session, scope: str, key: str, digest: str) -> Outcome | None:
    record = session.scalar(
        select(IdempotencyRecord).where(IdempotencyRecord.scope == scope, IdempotencyRecord.key == key)
    )
    if record is None:
        return None
    if record.request_hash != digest:
        logger.warning("idempotency key %s/%s reused with a different body; replaying the first answer", scope, key)
    return Outcome(200, dict(record.response), replayed=True)


def run_once(
    session: Session,
    scope: str,
    key: str,
    payload: Any,
    work: Callable[[Session], tuple[int, dict[str, Any]]],
) -> Outcome:
    """Do ``work`` and remember its answer under (scope, key) in the same transaction.

    ``work`` changes the session without committing. Two requests racing with the same key
    both run it, the unique key lets exactly one commit, and the other replays its answer; a
    unique-constraint race elsewhere (a contact created twice) is retried once.
    """
    digest = request_hash(payload)
    for attempt in range(2):
        replay = _replay(session, scope, key, digest)
        if replay is not None:
            return replay
        try:
            status, body = work(session)
            session.add(IdempotencyRecord(scope=scope, key=key, request_hash=digest, status_code=status, response=body))
            session.commit()
            return Outcome(status, body)
        except IntegrityError:
            session.rollback()
            if attempt:
                raise
        except Exception:
            session.rollback()
            raise
    raise AssertionError("unreachable")
