"""conversation queue_told: what a waiting customer was last told about their place and wait

Revision ID: b8f3d6a2e4c1
Revises: 9d4e2b7c1a55
Create Date: 2026-12-01 09:00:00.000000
"""

from __future__ import annotations

from alembic import op
import sqlalchemy as sa


revision = "b8f3d6a2e4c1"
down_revision = "9d4e2b7c1a55"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("conversations", schema=None) as batch_op:
        batch_op.add_column(sa.Column("queue_told", sa.String(length=255), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("conversations", schema=None) as batch_op:
        batch_op.drop_column("queue_told")
