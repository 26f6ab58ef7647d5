"""The database: engine, one transaction per unit of work, schema upgrades with Alembic.

SQLite (the embedded default) is opened in WAL mode with full fsync, and every
transaction starts with ``BEGIN IMMEDIATE``: it takes the write lock at once, so writers
queue (up to the busy timeout) instead of failing when one of them upgrades a read lock,
and the audit log's appends are serialised. PostgreSQL serialises appends with a row lock
on the log's chain head (see :mod:`waarborg.service.auditlog`).

:meth:`Database.snapshot` is the other kind of transaction: read-only, for long reads
(verifying the log) and for short reads that must not queue behind the writers (the
sign-in's look-up of a password hash). On SQLite it begins with a plain ``BEGIN`` (a WAL
snapshot that takes no write lock); on PostgreSQL it is ``REPEATABLE READ, READ ONLY``.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from alembic import command
from alembic.config import Config
from sqlalchemy import create_engine, event
from sqlalchemy.engine import Connection, Engine, make_url
from sqlalchemy.orm import Session, sessionmaker

from waarborg.service.witness import Witness, WitnessSettings

MIGRATIONS = Path(__file__).parent / "migrations"


def make_engine(url: str) -> Engine:
    """An engine for ``url``; SQLite gets WAL, full fsync, foreign keys and immediate writes."""
    parsed = make_url(url)
    if parsed.get_backend_name() != "sqlite":
        return create_engine(url, pool_size=10, max_overflow=40, pool_pre_ping=True)
    engine = create_engine(url, connect_args={"check_same_thread": False, "timeout": 60})
    event.listen(engine, "connect", _sqlite_connect)
    event.listen(engine, "begin", _sqlite_begin)
    return engine


READ_ONLY = "waarborg_read_only"


def _sqlite_begin(conn: Any) -> None:
    read_only = conn.get_execution_options().get(READ_ONLY, False)
    conn.exec_driver_sql("BEGIN" if read_only else "BEGIN IMMEDIATE")


def _sqlite_connect(dbapi_connection: Any, _record: Any) -> None:
    dbapi_connection.isolation_level = None  # transactions are begun by the "begin" hook
    cursor = dbapi_connection.cursor()
    for pragma in ("journal_mode=WAL", "synchronous=FULL", "foreign_keys=ON"):
        cursor.execute(f"PRAGMA {pragma}")
    cursor.close()


@contextmanager
def _foreign_keys_off(connection: Connection) -> Iterator[None]:
    """SQLite: foreign keys off while migrating (a rebuilt table is dropped and renamed).

    The pragma only works outside a transaction, so it is set on the driver's connection
    before the migration's transaction begins; ``foreign_key_check`` runs before commit.
    """
    if connection.dialect.name != "sqlite":
        yield
        return
    raw = connection.connection.driver_connection
    raw.execute("PRAGMA foreign_keys=OFF")
    try:
        yield
    finally:
        raw.execute("PRAGMA foreign_keys=ON")


class Database:
    """The service's database at ``url``.

    Examples
    --------
    >>> db = Database("sqlite://")
    >>> db.upgrade()
    >>> db.backend
    'sqlite'
    """

    def __init__(self, url: str, witness: WitnessSettings | None = None) -> None:
        from waarborg.service.auditlog import DATABASE

        self.url = url
        self.engine = make_engine(url)
        self.sessions = sessionmaker(self.engine, expire_on_commit=False, info={DATABASE: self})
        options: dict[str, Any] = {READ_ONLY: True}
        if self.engine.dialect.name == "postgresql":
            options |= {"isolation_level": "REPEATABLE READ", "postgresql_readonly": True}
        self.snapshots = sessionmaker(self.engine.execution_options(**options))
        self._witness_settings = witness
        self._witness: Witness | None = None

    @property
    def witness(self) -> Witness | None:
        """The witness of the audit log's head (:mod:`waarborg.service.witness`).

        From the ``witness`` argument, else the environment (``WAARBORG_WITNESS``...);
        None for an in-memory SQLite database.

        Raises
        ------
        WitnessError
            PostgreSQL without ``WAARBORG_WITNESS``.
        """
        if self._witness is None:
            settings = self._witness_settings or WitnessSettings.from_env(self.url)
            if settings is None:
                return None
            self._witness = Witness(settings)
        return self._witness

    @property
    def backend(self) -> str:
        """``sqlite`` or ``postgresql``."""
        return self.engine.dialect.name

    def upgrade(self, revision: str = "head") -> None:
        """Bring the schema to ``revision`` with Alembic (safe to run on every start)."""
        config = Config()
        config.set_main_option("script_location", str(MIGRATIONS))
        with (
            self.engine.connect() as connection,
            _foreign_keys_off(connection),
            connection.begin(),
        ):
            config.attributes["connection"] = connection
            command.upgrade(config, revision)
            if self.backend == "sqlite":
                broken = connection.exec_driver_sql("PRAGMA foreign_key_check").first()
                if broken is not None:
                    raise RuntimeError(f"migration broke a foreign key: {tuple(broken)}")

    @contextmanager
    def transaction(self) -> Iterator[Session]:
        """A session in one transaction: committed on success, rolled back on any error."""
        with self.sessions() as session, session.begin():
            yield session

    @contextmanager
    def snapshot(self) -> Iterator[Session]:
        """A read-only session on one consistent snapshot, without the write lock."""
        with self.snapshots() as session, session.begin():
            yield session

    def dispose(self) -> None:
        """Close every pooled connection (and the witness file)."""
        self.engine.dispose()
        if self._witness is not None:
            self._witness.close()
