"""message seen_at: when the customer's widget showed an agent's reply

Revision ID: 9d4e2b7c1a55
Revises: 5d2b7e9a1c63
Create Date: 2026-12-01 05:50:00.000000
"""

from __future__ import annotations

from alembic import op
import sqlalchemy as sa


revision = "9d4e2b7c1a55"
down_revision = "5d2b7e9a1c63"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("messages", schema=None) as batch_op:
        batch_op.add_column(sa.Column("seen_at", sa.DateTime(), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("messages", schema=None) as batch_op:
        batch_op.drop_column("seen_at")
