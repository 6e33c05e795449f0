"""agent console language

Revision ID: 3c1e5a9d2f40
Revises: 7aefc69fdc77
Create Date: 2026-12-01 05:40:00.000000
"""

from __future__ import annotations

from alembic import op
import sqlalchemy as sa


revision = "3c1e5a9d2f40"
down_revision = "7aefc69fdc77"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("agents", schema=None) as batch_op:
        batch_op.add_column(sa.Column("ui_language", sa.String(length=8), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("agents", schema=None) as batch_op:
        batch_op.drop_column("ui_language")
