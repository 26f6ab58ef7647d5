"""Least privilege on PostgreSQL: the owner migrates, the service runs as an app role.

Two roles:

* the **owner** owns the schema and its tables; it runs ``waarborg db upgrade`` (Alembic,
  DDL) and ``waarborg db grant``, and nothing else;
* the **app role** (``waarborg db grant --app-role NAME``) is what ``waarborg serve``
  connects as. It may read and write the service's tables, but on the audit log only
  SELECT and INSERT (no UPDATE, DELETE or TRUNCATE); on the chain head SELECT and
  UPDATE, and a trigger lets the head only move forward, to an entry of the log. It has
  no CREATE on the schema, so no DDL, and may not write ``alembic_version``.

The triggers of migration 0003 refuse UPDATE and DELETE on the log for every role, the
owner included; only a migration that drops them first can change the log.

Run ``waarborg db grant`` again after an upgrade that adds tables.
"""

from __future__ import annotations

import re

from sqlalchemy import text

from waarborg.errors import WaarborgError
from waarborg.service.store.db import Database

ROLE_NAME = re.compile(r"[a-z_][a-z0-9_]{0,62}")
LOG_TABLES = ("auditlog", "auditlog_head")


def app_role_sql(schema: str, role: str) -> list[str]:
    """The statements that create ``role`` (if new) and grant it what the service needs.

    Examples
    --------
    >>> app_role_sql("waarborg", "waarborg_app")[-3]
    'REVOKE UPDATE, DELETE, TRUNCATE ON "waarborg".auditlog FROM "waarborg_app"'
    """
    if not ROLE_NAME.fullmatch(role):
        raise WaarborgError(f"role name {role!r}: use lower-case letters, digits and _")
    s, r = f'"{schema.replace(chr(34), chr(34) * 2)}"', f'"{role}"'
    return [
        f"DO $$ BEGIN IF NOT EXISTS (SELECT FROM pg_roles WHERE rolname = '{role}') "
        f"THEN CREATE ROLE {r} LOGIN; END IF; END $$",
        f"REVOKE ALL ON SCHEMA {s} FROM {r}",
        f"GRANT USAGE ON SCHEMA {s} TO {r}",
        f"REVOKE ALL ON ALL TABLES IN SCHEMA {s} FROM {r}",
        f"GRANT SELECT, INSERT, UPDATE, DELETE ON ALL TABLES IN SCHEMA {s} TO {r}",
        f"GRANT USAGE, SELECT ON ALL SEQUENCES IN SCHEMA {s} TO {r}",
        f"REVOKE INSERT, UPDATE, DELETE ON {s}.alembic_version FROM {r}",
        f"REVOKE UPDATE, DELETE, TRUNCATE ON {s}.auditlog FROM {r}",
        f"REVOKE DELETE, TRUNCATE ON {s}.auditlog_head FROM {r}",
        f"REVOKE CREATE ON SCHEMA {s} FROM PUBLIC",
    ]


def grant_app_role(db: Database, role: str, password: str | None = None) -> str:
    """Create (if new) and grant the app role on ``db``'s schema, as its owner; the schema.

    Raises
    ------
    WaarborgError
        On SQLite (one file, no roles: protect the file and its folder instead).
    """
    if db.backend != "postgresql":
        raise WaarborgError("roles exist on PostgreSQL only; on SQLite, protect the file")
    with db.engine.begin() as conn:
        schema = conn.execute(text("SELECT current_schema()")).scalar_one()
        for statement in app_role_sql(schema, role):
            conn.execute(text(statement))
        if password is not None:
            quoted = conn.execute(text("SELECT quote_literal(:p)"), {"p": password}).scalar_one()
            conn.execute(text(f'ALTER ROLE "{role}" PASSWORD {quoted}'))
    return schema
