"""faq revisions: the published FAQ changes replicas follow

Revision ID: 5d2b7e9a1c63
Revises: 3c1e5a9d2f40
Create Date: 2026-12-01 05:50:00.000000
"""

from __future__ import annotations

from alembic import op
import sqlalchemy as sa
import handoff.models.base


revision = "5d2b7e9a1c63"
down_revision = "3c1e5a9d2f40"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "faq_revisions",
        sa.Column("version", sa.Integer(), autoincrement=False, nullable=False),
        sa.Column("op", sa.String(length=8), nullable=False),
        sa.Column("entry_id", sa.String(length=200), nullable=False),
        sa.Column("language", sa.String(length=8), nullable=False),
        sa.Column("entry", sa.JSON(), nullable=True),
        sa.Column("change_id", sa.Integer(), nullable=True),
        sa.Column("created_at", handoff.models.base.UTCDateTime(), nullable=False),
        sa.CheckConstraint("op IN ('upsert', 'remove')", name=op.f("ck_faq_revisions_op")),
        sa.ForeignKeyConstraint(
            ["change_id"], ["faq_changes.id"], name=op.f("fk_faq_revisions_change_id_faq_changes"), ondelete="SET NULL"
        ),
        sa.PrimaryKeyConstraint("version", name=op.f("pk_faq_revisions")),
    )
    with op.batch_alter_table("faq_revisions", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_faq_revisions_change_id"), ["change_id"], unique=False)
        batch_op.create_index(batch_op.f("ix_faq_revisions_entry_id"), ["entry_id"], unique=False)


def downgrade() -> None:
    with op.batch_alter_table("faq_revisions", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_faq_revisions_entry_id"))
        batch_op.drop_index(batch_op.f("ix_faq_revisions_change_id"))

    op.drop_table("faq_revisions")
