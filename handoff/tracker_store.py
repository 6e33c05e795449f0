"""Rasa's SQL tracker store (table ``events``), read and pruned with plain SQLAlchemy Core, no Rasa import."""

from __future__ import annotations

import json
from dataclasses import dataclass
from contextlib import contextmanager
from datetime import datetime, timezone
from pathlib import Path
from typing import Any, Iterable, Iterator

from sqlalchemy import (
    Column,
    Connection,
    Engine,
    Float,
    Integer,
    MetaData,
    String,
    Table,
    Text,
    create_engine,
    delete,
    func,
    inspect,
    select,
)
from sqlalchemy.engine import make_url
from sqlalchemy.exc import SQLAlchemyError
from sqlalchemy.pool import NullPool

from handoff.db import normalise_url

# The columns of rasa.core.tracker_store.SQLTrackerStore.SQLEvent (Rasa 3.6).
metadata = MetaData()
events = Table(
    "events",
    metadata,
    Column("id", Integer, primary_key=True),
    Column("sender_id", String(255), nullable=False, index=True),
    Column("type_name", String(255), nullable=False),
    Column("timestamp", Float),
    Column("intent_name", String(255)),
    Column("action_name", String(255)),
    Column("data", Text),
)


class TrackerStoreUnavailable(Exception):
    """The tracker store could not be reached (server down, wrong credentials): try again later."""


class TrackerStoreAbsent(TrackerStoreUnavailable):
    """There is no stored tracker to read or change: in-memory trackers, or Rasa has not written one yet."""


@dataclass(frozen=True)
class TrackerStore:
    """Access to one SQL tracker store; every method opens and closes its own connection."""

    url: str | None

    def describe(self) -> str:
        if not self.url:
            return "none configured (TRACKER_STORE_URL=memory: Rasa keeps trackers in memory only)"
        return make_url(normalise_url(self.url)).render_as_string(hide_password=True)

    def _engine(self) -> Engine:
        if not self.url:
            raise TrackerStoreAbsent(
                "Rasa keeps its trackers in memory (TRACKER_STORE_URL=memory); "
                "they are gone when Rasa restarts and cannot be read from here"
            )
        url = make_url(normalise_url(self.url))
        if url.get_backend_name() == "sqlite":
            # Never create an empty file where Rasa's store is expected.
            if not url.database or url.database == ":memory:" or not Path(url.database).exists():
                raise TrackerStoreAbsent(f"no tracker store file at {url.database!r} (has Rasa run yet?)")
        return create_engine(url, poolclass=NullPool)

    @contextmanager
    def _connection(self) -> Iterator[Connection]:
        """One transaction on the store; a database error becomes TrackerStoreUnavailable."""
        engine = self._engine()
        try:
            with engine.begin() as connection:
                if not inspect(connection).has_table("events"):
                    raise TrackerStoreAbsent(f"{self.describe()} has no events table (has Rasa run yet?)")
                yield connection
        except SQLAlchemyError as exc:
            raise TrackerStoreUnavailable(f"cannot use {self.describe()}: {exc.__class__.__name__}: {exc}") from exc
        finally:
            engine.dispose()

    def events_for(self, sender_ids: Iterable[str]) -> list[dict[str, Any]]:
        """Every stored event of these conversations, oldest first, with ``data`` parsed."""
        ids = sorted(set(sender_ids))
        if not ids:
            return []
        with self._connection() as connection:
            rows = connection.execute(
                select(events).where(events.c.sender_id.in_(ids)).order_by(events.c.sender_id, events.c.id)
            ).all()
        return [_as_dict(row) for row in rows]

    def delete_for(self, sender_ids: Iterable[str]) -> int:
        """Remove every event of these conversations; returns how many."""
        ids = sorted(set(sender_ids))
        if not ids:
            return 0
        with self._connection() as connection:
            return connection.execute(delete(events).where(events.c.sender_id.in_(ids))).rowcount or 0

    def delete_older_than(self, cutoff: datetime, dry_run: bool = False) -> int:
        """Remove (or with ``dry_run`` count) events stamped before ``cutoff``."""
        old = events.c.timestamp < cutoff.astimezone(timezone.utc).timestamp()
        with self._connection() as connection:
            if dry_run:
                return connection.scalar(select(func.count()).select_from(events).where(old)) or 0
            return connection.execute(delete(events).where(old)).rowcount or 0


def _as_dict(row) -> dict[str, Any]:
    try:
        data = json.loads(row.data) if row.data else None
    except ValueError:
        data = row.data
    when = datetime.fromtimestamp(row.timestamp, timezone.utc).isoformat() if row.timestamp is not None else None
    return {
        "sender_id": row.sender_id,
        "type": row.type_name,
        "timestamp": row.timestamp,
        "time": when,
        "intent": row.intent_name,
        "action": row.action_name,
        "data": data,
    }
