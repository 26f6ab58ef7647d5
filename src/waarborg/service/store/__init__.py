"""Persistence: SQLAlchemy models (:mod:`.models`), the database (:mod:`.db`), migrations."""

from waarborg.service.store.db import Database

__all__ = ["Database"]
