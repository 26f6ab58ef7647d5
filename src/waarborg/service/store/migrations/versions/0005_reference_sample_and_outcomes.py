"""The random reference sample and the outcomes of checks (issue 15).

* ``reference_seeds``: a process's reference share from a moment on, with its seed;
  ``processes.reference_seed_id`` points at the current one.
* ``reference_draws``: per case, the service's draw at creation (seed, share, value,
  whether drawn, whether the band selected, and so how the case came to be checked).
* ``check_outcomes``: the recorded outcomes of checks; a correction supersedes.

Every existing process gets a share of 0 with a fresh seed, bound into the log by a
``reference.baseline`` entry (as 0003 bound the records that existed then). Cases made
before this revision have no draw: they were never in a reference sample.

Revision ID: 0005
Revises: 0004
Create Date: 2026-12-01 13:20:00
"""

from __future__ import annotations

from datetime import UTC, datetime

import sqlalchemy as sa
from alembic import op

revision = "0005"
down_revision = "0004"
branch_labels = None
depends_on = None

_TABLES = sa.MetaData()
PROCESSES = sa.Table(
    "processes",
    _TABLES,
    sa.Column("id", sa.Integer(), primary_key=True),
    sa.Column("reference_seed_id", sa.Integer()),
)
"""The columns of ``processes`` this revision reads and writes."""
SEEDS = sa.Table(
    "reference_seeds",
    _TABLES,
    sa.Column("id", sa.Integer(), primary_key=True),
    sa.Column("process_id", sa.Integer()),
    sa.Column("share", sa.Float()),
    sa.Column("seed", sa.String(64)),
    sa.Column("set_by", sa.String(200)),
    sa.Column("set_at", sa.DateTime()),
)
"""``reference_seeds`` as this revision creates it; its columns are the record's hash fields."""


def upgrade() -> None:
    """Apply this revision."""
    op.create_table(
        "reference_seeds",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("process_id", sa.Integer(), nullable=False),
        sa.Column("share", sa.Float(), nullable=False),
        sa.Column("seed", sa.String(length=64), nullable=False),
        sa.Column("set_by", sa.String(length=200), nullable=False),
        sa.Column("set_at", sa.DateTime(), nullable=False),
        sa.ForeignKeyConstraint(["process_id"], ["processes.id"]),
        sa.PrimaryKeyConstraint("id"),
        sqlite_autoincrement=True,
    )
    op.create_index("ix_reference_seeds_process", "reference_seeds", ["process_id", "id"])
    op.create_table(
        "reference_draws",
        sa.Column("case_id", sa.Integer(), nullable=False),
        sa.Column("seed_id", sa.Integer(), nullable=False),
        sa.Column("share", sa.Float(), nullable=False),
        sa.Column("value", sa.Float(), nullable=False),
        sa.Column("drawn", sa.Boolean(), nullable=False),
        sa.Column("selected", sa.Boolean(), nullable=True),
        sa.Column("route", sa.String(length=20), nullable=False),
        sa.ForeignKeyConstraint(["case_id"], ["cases.id"]),
        sa.ForeignKeyConstraint(["seed_id"], ["reference_seeds.id"]),
        sa.PrimaryKeyConstraint("case_id"),
    )
    op.create_table(
        "check_outcomes",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("case_id", sa.Integer(), nullable=False),
        sa.Column("outcome", sa.Boolean(), nullable=False),
        sa.Column("observed_on", sa.Date(), nullable=False),
        sa.Column("note", sa.Text(), nullable=True),
        sa.Column("user_id", sa.Integer(), nullable=False),
        sa.Column("recorded_by", sa.String(length=200), nullable=False),
        sa.Column("recorded_at", sa.DateTime(), nullable=False),
        sa.Column("supersedes_id", sa.Integer(), nullable=True),
        sa.ForeignKeyConstraint(["case_id"], ["cases.id"]),
        sa.ForeignKeyConstraint(["user_id"], ["users.id"]),
        sa.PrimaryKeyConstraint("id"),
        sqlite_autoincrement=True,
    )
    op.create_index("ix_check_outcomes_case", "check_outcomes", ["case_id", "id"])
    with op.batch_alter_table("processes") as batch:
        batch.add_column(sa.Column("reference_seed_id", sa.Integer(), nullable=True))
    _seed_existing_processes()


def _seed_existing_processes() -> None:
    """A share of 0 with a fresh seed for every process, bound into the log.

    Frozen: the tables as this revision left them are defined here (:data:`PROCESSES`,
    :data:`SEEDS`) and, for the log, in :mod:`waarborg.service.store.migrations.frozen`,
    never the live models, so that a later model cannot change what this revision does.
    What it keeps from the code is the log's format: the hash of a record's content and
    of an entry, which ``waarborg auditlog verify`` checks.
    """
    from waarborg.selectivity.draws import new_seed
    from waarborg.service.records import content_hash
    from waarborg.service.store.migrations.frozen import append_entry

    bind = op.get_bind()
    ids = list(bind.execute(sa.select(PROCESSES.c.id).order_by(PROCESSES.c.id)).scalars())
    if not ids:
        return
    bound = []
    for process_id in ids:
        seed = {"process_id": process_id, "share": 0.0, "seed": new_seed(),
                "set_by": "migration 0005", "set_at": datetime.now(UTC)}  # fmt: skip
        stored = {**seed, "set_at": seed["set_at"].replace(tzinfo=None)}  # naive UTC
        seed_id = bind.execute(SEEDS.insert().values(stored)).inserted_primary_key[0]
        bind.execute(
            PROCESSES.update().where(PROCESSES.c.id == process_id).values(reference_seed_id=seed_id)
        )
        bound.append(["reference_seed", seed_id, content_hash({"id": seed_id, **seed})])
    append_entry(bind, "reference.baseline", {"processes": len(ids)}, bound)


def downgrade() -> None:
    """Revert this revision (refused once the log binds seeds, draws or outcomes)."""
    bind = op.get_bind()
    bound = bind.exec_driver_sql(
        "SELECT count(*) FROM auditlog WHERE records LIKE '%\"reference_seed\"%' "
        "OR records LIKE '%\"draw\"%' OR records LIKE '%\"outcome\"%'"
    )
    if bound.scalar_one():
        raise RuntimeError(
            "cannot downgrade below 0005: entries of the audit log bind reference seeds, "
            "draws or outcomes, and dropping them would look like tampering"
        )
    with op.batch_alter_table("processes") as batch:
        batch.drop_column("reference_seed_id")
    op.drop_index("ix_check_outcomes_case", table_name="check_outcomes")
    op.drop_table("check_outcomes")
    op.drop_table("reference_draws")
    op.drop_index("ix_reference_seeds_process", table_name="reference_seeds")
    op.drop_table("reference_seeds")
