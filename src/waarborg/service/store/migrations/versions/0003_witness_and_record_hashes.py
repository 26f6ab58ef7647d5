"""Bound records in the log, existing records bound, and the log guarded by triggers.

* ``auditlog.records``: the records (kind, id, content hash) an entry binds.
* Records that exist already are bound by ``records.baseline`` entries (trust on first
  use: their content as it is at this upgrade).
* Triggers refuse UPDATE and DELETE (and TRUNCATE on PostgreSQL) on ``auditlog``, refuse
  DELETE on ``auditlog_head``, and let the head move only forward, to an entry of the
  log. A later migration that must change the log drops them first, explicitly.

Revision ID: 0003
Revises: 0002
Create Date: 2026-12-01 10:40:00
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0003"
down_revision = "0002"
branch_labels = None
depends_on = None

BASELINE_CHUNK = 5000

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
    """Bind the cases, decisions and users that exist now, in chunks of entries."""
    from sqlalchemy.orm import Session

    from waarborg.service import auditlog, records

    session = Session(bind=op.get_bind())
    refs = list(records.live(session, kinds=("case", "decision", "user")))
    for start in range(0, len(refs), BASELINE_CHUNK):
        chunk = refs[start : start + BASELINE_CHUNK]
        auditlog.append_now(
            session,
            auditlog.SYSTEM,
            "records.baseline",
            detail={"records": len(chunk)},
            bound=[[kind, id_, hash_] for (kind, id_), hash_ in chunk],
        )
    session.flush()


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
