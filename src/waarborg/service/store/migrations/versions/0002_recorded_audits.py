"""Recorded audits per process, and each process's re-test interval (conditions 1 and 2).

Revision ID: 0002
Revises: 0001
Create Date: 2026-11-23 05:10:00
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0002"
down_revision = "0001"
branch_labels = None
depends_on = None


def upgrade() -> None:
    """Apply this revision."""
    op.create_table(
        "recorded_audits",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("process_id", sa.Integer(), nullable=False),
        sa.Column("kind", sa.String(length=20), nullable=False),
        sa.Column("result", sa.JSON(), nullable=False),
        sa.Column("justification", sa.Text(), nullable=True),
        sa.Column("recorded_by", sa.String(length=200), nullable=False),
        sa.Column("recorded_at", sa.DateTime(), nullable=False),
        sa.ForeignKeyConstraint(["process_id"], ["processes.id"]),
        sa.PrimaryKeyConstraint("id"),
    )
    op.create_index("ix_recorded_audits_process", "recorded_audits", ["process_id", "recorded_at"])
    with op.batch_alter_table("processes") as batch:
        batch.add_column(
            sa.Column("retest_interval_days", sa.Integer(), nullable=False, server_default="365")
        )


def downgrade() -> None:
    """Undo this revision."""
    with op.batch_alter_table("processes") as batch:
        batch.drop_column("retest_interval_days")
    op.drop_index("ix_recorded_audits_process", table_name="recorded_audits")
    op.drop_table("recorded_audits")
