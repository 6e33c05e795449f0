"""message activity: an activity line's key and parameters, shown in the agent's language

Activity lines used to be stored only as English sentences, which the console translated back with regular
expressions. Existing lines get their key and parameters from those sentences here; a sentence that matches
none keeps no key and reads as stored.

Revision ID: e6c3a9d1f7b2
Revises: b8f3d6a2e4c1
Create Date: 2026-12-01 09:40:00.000000
"""

from __future__ import annotations

import re

from alembic import op
import sqlalchemy as sa


revision = "e6c3a9d1f7b2"
down_revision = "b8f3d6a2e4c1"
branch_labels = None
depends_on = None

_NAME = r"(?P<name>.+?)"
# The sentences handoff/services wrote until this revision, most specific first.
_SENTENCES = [
    (re.compile(rf"^{_NAME} was assigned the conversation automatically\.$"), "auto_assigned"),
    (re.compile(rf"^{_NAME} took the conversation\.$"), "claimed"),
    (re.compile(rf"^{_NAME} put the conversation back in the queue\.$"), "requeued"),
    (re.compile(rf"^{_NAME} transferred the conversation to (?P<target>.+)\.$"), "transferred"),
    (re.compile(rf"^{_NAME} resolved the conversation\.$"), "resolved"),
    (re.compile(rf"^{_NAME} handed the conversation back to the bot\.$"), "returned"),
    (re.compile(r"^The customer left the conversation\.$"), "customer_left"),
    (re.compile(r"^The customer switched to a callback request\.$"), "switched_to_callback"),
    (re.compile(r"^The customer cancelled\.$"), "cancelled"),
]
_HANDED_OVER = re.compile(
    r"^(?P<again>The bot handed over again\. )?Handed over by the bot: (?P<reason>[^.]+)\."
    r"(?: Not taking hand-offs right now \((?P<why>outside business hours|nobody online)\); "
    r"the customer was offered a callback\.)?$"
)
_REASONS = {
    "the customer asked for a person": "requested",
    "the bot was not sure of the answer": "low_confidence",
    "the bot failed repeatedly": "repeated_failure",
    "the customer said the answers did not help": "negative_feedback",
    "the customer seemed frustrated": "frustration",
}
_CLOSED = {"outside business hours": "outside_business_hours", "nobody online": "no_agents_online"}


def activity_of(sentence: str) -> dict | None:
    """The key and parameters of an English activity sentence; None for one no service wrote."""
    for pattern, key in _SENTENCES:
        match = pattern.match(sentence)
        if match:
            return {"key": key, **match.groupdict()}
    match = _HANDED_OVER.match(sentence)
    if match is None:
        return None
    return {
        "key": "handed_over",
        "reason": _REASONS.get(match["reason"], match["reason"]),
        "closed": _CLOSED.get(match["why"]) if match["why"] else None,
        "again": bool(match["again"]),
    }


def upgrade() -> None:
    with op.batch_alter_table("messages", schema=None) as batch_op:
        batch_op.add_column(sa.Column("activity", sa.JSON(), nullable=True))
    messages = sa.table(
        "messages",
        sa.column("id", sa.Integer),
        sa.column("message_type", sa.String),
        sa.column("content", sa.Text),
        sa.column("activity", sa.JSON),
    )
    connection = op.get_bind()
    rows = connection.execute(sa.select(messages.c.id, messages.c.content).where(messages.c.message_type == "activity"))
    updates = [{"row_id": row.id, "activity": found} for row in rows if (found := activity_of(row.content or ""))]
    if updates:
        connection.execute(
            messages.update().where(messages.c.id == sa.bindparam("row_id")).values(activity=sa.bindparam("activity")),
            updates,
        )


def downgrade() -> None:
    with op.batch_alter_table("messages", schema=None) as batch_op:
        batch_op.drop_column("activity")
