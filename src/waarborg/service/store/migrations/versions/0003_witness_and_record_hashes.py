"""Bound records in the log, existing records bound, and the log guarded by triggers.

* ``auditlog.records``: the records (kind, id, content hash) an entry binds.
* Records that exist already are bound by ``records.baseline`` entries (trust on first
  use: their content as it is at this upgrade), read through this revision's own tables
  (:data:`CASES`, :data:`DECISIONS`, :data:`USERS`), never the live models.
* Triggers refuse UPDATE and DELETE (and TRUNCATE on PostgreSQL) on ``auditlog``, refuse
  DELETE on ``auditlog_head``, and let the head move only forward, to an entry of the
  log. A later migration that must change the log drops them first, explicitly.

Revision ID: 0003
Revises: 0002
Create Date: 2026-12-01 10:40:00
"""

from __future__ import annotations

from datetime import UTC, datetime

import sqlalchemy as sa
from alembic import op
from sqlalchemy.engine import Dialect

revision = "0003"
down_revision = "0002"
branch_labels = None
depends_on = None

BASELINE_CHUNK = 5000
"""Records bound per ``records.baseline`` entry."""


class _StoredUTC(sa.TypeDecorator[datetime]):
    """A timestamp stored as naive UTC, read back aware (as the models read it at 0003)."""

    impl = sa.DateTime
    cache_ok = True

    def process_result_value(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        """Naive UTC as stored → aware UTC (never the machine's local time)."""
        return None if value is None else value.replace(tzinfo=UTC)


_TABLES = sa.MetaData()
CASES = sa.Table(
    "cases",
    _TABLES,
    *[sa.Column(name, sa.Integer()) for name in ("id", "process_id", "created_by")],
    *[sa.Column(name, sa.JSON()) for name in ("inputs", "score")],
    *[sa.Column(name, sa.Text()) for name in ("subject_ref", "band", "spec_hash")],
    sa.Column("suggests_selection", sa.Boolean()),
    sa.Column("created_at", _StoredUTC()),
)
DECISIONS = sa.Table(
    "decisions",
    _TABLES,
    *[sa.Column(name, sa.Integer()) for name in ("id", "case_id", "user_id")],
    *[
        sa.Column(name, sa.Text())
        for name in (
            "decider_name",
            "decider_role",
            "team",
            "outcome",
            "rationale",
            "band_shown",
            "spec_hash_shown",
        )
    ],
    sa.Column("follows_score", sa.Boolean()),
    *[sa.Column(name, _StoredUTC()) for name in ("opened_at", "decided_at")],
    sa.Column("seconds_to_decide", sa.Float()),
)
USERS = sa.Table(
    "users",
    _TABLES,
    *[sa.Column(name, sa.Integer()) for name in ("id", "team_id")],
    *[sa.Column(name, sa.Text()) for name in ("name", "role")],
    sa.Column("active", sa.Boolean()),
)
BASELINE = {"case": CASES, "decision": DECISIONS, "user": USERS}
"""Kind of record → its table at this revision, with exactly the columns its hash covered
then (``records.BOUND_FIELDS`` as 0003 was written); bound in this order, each by id."""

SQLITE_TRIGGERS = {
    "auditlog_no_update": "BEFORE UPDATE ON auditlog BEGIN "
    "SELECT RAISE(ABORT, 'the audit log is append-only: UPDATE refused'); END",
    "auditlog_no_delete": "BEFORE DELETE ON auditlog BEGIN "
    "SELECT RAISE(ABORT, 'the audit log is append-only: DELETE refused'); END",
    "auditlog_head_no_delete": "BEFORE DELETE ON auditlog_head BEGIN "
    "SELECT RAISE(ABORT, 'the chain head cannot be deleted'); END",
    "auditlog_head_forward": "BEFORE UPDATE ON auditlog_head WHEN NEW.id <> OLD.id "
    "OR NEW.seq < OLD.seq OR NOT EXISTS "
    "(SELECT 1 FROM auditlog WHERE seq = NEW.seq AND hash = NEW.hash) BEGIN "
    "SELECT RAISE(ABORT, 'the chain head only moves forward, to an entry of the log'); END",
}

POSTGRESQL = """
CREATE FUNCTION waarborg_log_append_only() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  RAISE EXCEPTION 'the audit log is append-only: % refused on %', TG_OP, TG_TABLE_NAME
    USING ERRCODE = 'insufficient_privilege';
END $$;
CREATE FUNCTION waarborg_head_forward() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  IF NEW.id <> OLD.id OR NEW.seq < OLD.seq OR NOT EXISTS
     (SELECT 1 FROM auditlog WHERE seq = NEW.seq AND hash = NEW.hash) THEN
    RAISE EXCEPTION 'the chain head only moves forward, to an entry of the log'
      USING ERRCODE = 'insufficient_privilege';
  END IF;
  RETURN NEW;
END $$;
CREATE TRIGGER auditlog_append_only BEFORE UPDATE OR DELETE ON auditlog
  FOR EACH ROW EXECUTE FUNCTION waarborg_log_append_only();
CREATE TRIGGER auditlog_no_truncate BEFORE TRUNCATE ON auditlog
  FOR EACH STATEMENT EXECUTE FUNCTION waarborg_log_append_only();
CREATE TRIGGER auditlog_head_no_delete BEFORE DELETE OR TRUNCATE ON auditlog_head
  FOR EACH STATEMENT EXECUTE FUNCTION waarborg_log_append_only();
CREATE TRIGGER auditlog_head_forward BEFORE UPDATE ON auditlog_head
  FOR EACH ROW EXECUTE FUNCTION waarborg_head_forward();
"""


def upgrade() -> None:
    """Apply this revision."""
    with op.batch_alter_table("auditlog") as batch:
        batch.add_column(sa.Column("records", sa.Text(), nullable=True))
    _bind_existing_records()
    bind = op.get_bind()
    if bind.dialect.name == "postgresql":
        bind.execute(sa.text(POSTGRESQL))
    else:
        for name, body in SQLITE_TRIGGERS.items():
            bind.exec_driver_sql(f"CREATE TRIGGER {name} {body}")


def _bind_existing_records() -> None:
    """Bind the cases, decisions and users that exist now, in chunks of entries.

    Frozen: the tables are this revision's own (:data:`BASELINE`) and the entries are
    written by :mod:`waarborg.service.store.migrations.frozen`; what it keeps from the
    code is the log's format (the hash of a record's content and of an entry).
    """
    from waarborg.service.records import content_hash
    from waarborg.service.store.migrations.frozen import append_entry

    bind = op.get_bind()
    bound = []
    for kind, table in BASELINE.items():
        rows = bind.execute(sa.select(table).order_by(table.c.id)).mappings()
        bound += [[kind, row["id"], content_hash(dict(row))] for row in rows]
    for start in range(0, len(bound), BASELINE_CHUNK):
        chunk = bound[start : start + BASELINE_CHUNK]
        append_entry(bind, "records.baseline", {"records": len(chunk)}, chunk)


def downgrade() -> None:
    """Revert this revision (refused once entries bind records: the chain would break)."""
    bind = op.get_bind()
    binding = bind.exec_driver_sql("SELECT count(*) FROM auditlog WHERE records IS NOT NULL")
    if binding.scalar_one():
        raise RuntimeError(
            "cannot downgrade below 0003: entries of the audit log bind records, and "
            "dropping auditlog.records would break their hashes"
        )
    if bind.dialect.name == "postgresql":
        for trigger, table in [
            ("auditlog_append_only", "auditlog"),
            ("auditlog_no_truncate", "auditlog"),
            ("auditlog_head_no_delete", "auditlog_head"),
            ("auditlog_head_forward", "auditlog_head"),
        ]:
            bind.exec_driver_sql(f"DROP TRIGGER {trigger} ON {table}")
        bind.exec_driver_sql("DROP FUNCTION waarborg_log_append_only(); "
                             "DROP FUNCTION waarborg_head_forward()")  # fmt: skip
    else:
        for name in SQLITE_TRIGGERS:
            bind.exec_driver_sql(f"DROP TRIGGER {name}")
    with op.batch_alter_table("auditlog") as batch:
        batch.drop_column("records")
