"""Alembic migrations of the service's schema (configured in code: no alembic.ini)."""
