"""Accounts and tokens: token versions, must-change-password, pending access changes.

The users table gets ``token_version`` (revokes every token of a user at once) and
``must_change_password``; on SQLite it is rebuilt with ``AUTOINCREMENT``, so a deleted
user's id is never given to a new one. ``access_changes`` holds the changes that wait
for a second admin (four-eyes).

Revision ID: 0004
Revises: 0003
Create Date: 2026-12-01 10:40:00
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0004"
down_revision = "0003"
branch_labels = None
depends_on = None


def _recreate() -> str:
    """SQLite: rebuild the table (``AUTOINCREMENT`` is fixed when a table is made)."""
    return "always" if op.get_bind().dialect.name == "sqlite" else "auto"


def upgrade() -> None:
    """Apply this revision."""
    with op.batch_alter_table(
        "users", recreate=_recreate(), table_kwargs={"sqlite_autoincrement": True}
    ) as batch:
        batch.add_column(
            sa.Column("token_version", sa.Integer(), nullable=False, server_default="0")
        )
        batch.add_column(
            sa.Column(
                "must_change_password", sa.Boolean(), nullable=False, server_default=sa.false()
            )
        )
    op.create_table(
        "access_changes",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("user_id", sa.Integer(), nullable=False),
        sa.Column("kind", sa.String(length=20), nullable=False),
        sa.Column("role", sa.String(length=20), nullable=True),
        sa.Column("team", sa.String(length=200), nullable=True),
        sa.Column("status", sa.String(length=20), nullable=False),
        sa.Column("requested_by", sa.String(length=200), nullable=False),
        sa.Column("requested_by_id", sa.Integer(), nullable=True),
        sa.Column("requested_at", sa.DateTime(), nullable=False),
        sa.Column("decided_by", sa.String(length=200), nullable=True),
        sa.Column("decided_at", sa.DateTime(), nullable=True),
        sa.ForeignKeyConstraint(["user_id"], ["users.id"]),
        sa.PrimaryKeyConstraint("id"),
        sqlite_autoincrement=True,
    )
    op.create_index("ix_access_changes_status", "access_changes", ["status", "requested_at"])


def downgrade() -> None:
    """Undo this revision (SQLite keeps the rebuilt table's ``AUTOINCREMENT``)."""
    op.drop_index("ix_access_changes_status", table_name="access_changes")
    op.drop_table("access_changes")
    with op.batch_alter_table("users") as batch:
        batch.drop_column("must_change_password")
        batch.drop_column("token_version")
