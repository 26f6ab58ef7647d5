"""Alembic environment: runs on the connection that :meth:`Database.upgrade` hands over."""

from __future__ import annotations

from alembic import context

from waarborg.service.store.models import Base

connection = context.config.attributes["connection"]
if connection.dialect.name == "postgresql":  # two servers starting at once migrate in turn
    connection.exec_driver_sql("SELECT pg_advisory_xact_lock(727472)")
context.configure(
    connection=connection,
    target_metadata=Base.metadata,
    render_as_batch=connection.dialect.name == "sqlite",
    compare_type=True,
)
with context.begin_transaction():
    context.run_migrations()
