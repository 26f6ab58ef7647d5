"""Fixtures for the service tests: a fresh database on SQLite and on PostgreSQL, an app, users.

Every API test runs on both backends. PostgreSQL is expected at 127.0.0.1:5432 (trust
authentication, database ``test``; override with ``WAARBORG_TEST_PG``, a
``postgresql://`` URL); each test gets a schema of its own, dropped afterwards. Without a
reachable server those tests are skipped with a message saying so, except on CI
(``CI=true``), where that is a failure.
"""

from __future__ import annotations

import hashlib
import os
import tempfile
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest
from argon2 import PasswordHasher
from fastapi.testclient import TestClient
from sqlalchemy import text
from sqlalchemy.orm import Session

from waarborg.service import auth
from waarborg.service.app import create_app
from waarborg.service.auditlog import Actor
from waarborg.service.settings import Settings
from waarborg.service.store import Database

PASSWORD = "correct horse battery"
PG_CANDIDATES = (
    "postgresql://postgres@127.0.0.1:5432/test",
    "postgresql://root@127.0.0.1:5432/test",
)
BACKENDS = ("sqlite", "postgresql")

GENERIC_INPUTS = {"education_type": "mbo", "age": 19, "distance_to_parents_km": 0.4}  # band 6
LOW_INPUTS = {"education_type": "wo", "age": 30, "distance_to_parents_km": 50}  # band 1


@pytest.fixture(autouse=True, scope="session")
def _cheap_password_hashes() -> Iterator[None]:
    """argon2 at its lowest cost: the tests log in hundreds of times."""
    saved = auth._hasher
    auth._hasher = PasswordHasher(time_cost=1, memory_cost=8, parallelism=1)
    yield
    auth._hasher = saved


def _reachable_postgres() -> str | None:
    import psycopg

    candidates = [os.environ["WAARBORG_TEST_PG"]] if "WAARBORG_TEST_PG" in os.environ else []
    for url in [*candidates, *PG_CANDIDATES]:
        try:
            with psycopg.connect(url, connect_timeout=3) as conn:
                conn.execute("select 1")
            return url
        except psycopg.Error:
            continue
    return None


@pytest.fixture(scope="session")
def postgres_server() -> str:
    """The base URL of a reachable PostgreSQL server (skip, or fail on CI, if none)."""
    url = _reachable_postgres()
    if url is None:
        message = "PostgreSQL is not reachable at 127.0.0.1:5432 (set WAARBORG_TEST_PG)"
        if os.environ.get("CI", "").lower() == "true":
            pytest.fail(f"{message}: CI must run the PostgreSQL tests")
        pytest.skip(f"{message}: PostgreSQL tests skipped")
    return url


def postgres_schema_url(server: str) -> tuple[str, str]:
    """A fresh schema on ``server``: its SQLAlchemy URL and its name."""
    import psycopg

    schema = f"wb_test_{uuid.uuid4().hex[:12]}"
    with psycopg.connect(server, autocommit=True) as conn:
        conn.execute(f'CREATE SCHEMA "{schema}"')
    sa_url = server.replace("postgresql://", "postgresql+psycopg://", 1)
    return f"{sa_url}?options=-csearch_path%3D{schema}", schema


def drop_postgres_schema(server: str, schema: str) -> None:
    """Drop a schema made by :func:`postgres_schema_url`."""
    import psycopg

    with psycopg.connect(server, autocommit=True) as conn:
        conn.execute(f'DROP SCHEMA IF EXISTS "{schema}" CASCADE')


@pytest.fixture(params=BACKENDS)
def database_url(
    request: pytest.FixtureRequest, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> Iterator[str]:
    """A fresh, empty database: a SQLite file, or a PostgreSQL schema of its own.

    The audit log's witness is a file in the test's folder: beside the SQLite file by
    default, named by ``WAARBORG_WITNESS`` for PostgreSQL (which requires it).
    """
    if request.param == "sqlite":
        yield f"sqlite:///{tmp_path / 'waarborg.sqlite'}"
        return
    monkeypatch.setenv("WAARBORG_WITNESS", str(tmp_path / "postgresql.witness"))
    server = request.getfixturevalue("postgres_server")
    url, schema = postgres_schema_url(server)
    try:
        yield url
    finally:
        drop_postgres_schema(server, schema)


@dataclass
class Service:
    """A running app with its database, and a client that logs users in on demand."""

    client: TestClient
    db: Database
    tokens: dict[str, str] = field(default_factory=dict)
    ids: dict[str, int] = field(default_factory=dict)

    def add_user(self, name: str, role: str, team: str | None = None) -> None:
        """Add an active user straight into the database (the mechanism, without four-eyes)."""
        with self.db.transaction() as session:
            auth.add_user(
                session,
                Actor("test", "admin"),
                name=name,
                password=PASSWORD,
                role=role,
                team_name=team,
            )

    def headers(self, user: str | None) -> dict[str, str]:
        """Authorization headers for ``user`` (None: not logged in)."""
        if user is None:
            return {}
        if user not in self.tokens:
            response = self.client.post("/api/token", data={"username": user, "password": PASSWORD})
            assert response.status_code == 200, response.text
            self.tokens[user] = response.json()["access_token"]
        return {"Authorization": f"Bearer {self.tokens[user]}"}

    def call(self, user: str | None, method: str, path: str, **kwargs: Any) -> Any:
        """A request as ``user``."""
        headers = {**self.headers(user), **kwargs.pop("headers", {})}
        return self.client.request(method, path, headers=headers, **kwargs)

    def ok(self, user: str | None, method: str, path: str, status: int = 200, **kw: Any) -> Any:
        """A request that must succeed with ``status``; its JSON."""
        response = self.call(user, method, path, **kw)
        assert response.status_code == status, response.text
        return response.json()

    def process(self, name: str, team: str | list[str], **extra: Any) -> int:
        """Register a generic-selection process as the admin; its id."""
        body = {
            "name": name,
            "instrument": "generic-selection",
            "team": team,
            "purpose": "Checking claims of living away from home.",
            "retention_days": 365,
            **extra,
        }
        self.ids[name] = self.ok("admin", "POST", "/api/processes", 201, json=body)["id"]
        return self.ids[name]

    def case(
        self, user: str, process: int, inputs: dict[str, Any] | None = None, *, open: bool = True
    ) -> dict:
        """Add a case as ``user`` and, unless ``open`` is false, open it as ``user``; its JSON.

        Adding a case does not start the time to decide: opening it (seeing its score) does.
        """
        body = {"subject_ref": f"subj-{uuid.uuid4().hex[:8]}", "inputs": inputs or GENERIC_INPUTS}
        case = self.ok(user, "POST", f"/api/processes/{process}/cases", 201, json=body)
        return self.ok(user, "GET", f"/api/cases/{case['id']}") if open else case


SECRETS = Path(tempfile.mkdtemp(prefix="waarborg-test-secrets-"))
"""Secret files of PostgreSQL test schemas (SQLite ones sit beside their database)."""


def secret_file_for(url: str) -> Path | None:
    """Where the app on ``url`` keeps its secret in the tests (never the working folder)."""
    if url.startswith("sqlite"):
        return None
    return SECRETS / f"{hashlib.sha256(url.encode()).hexdigest()[:16]}.secret"


def make_app(url: str, **settings: Any) -> Any:
    """The app on ``url``, without the scheduled retention (tests run it themselves)."""
    defaults = {"retention_interval_s": 0, "secret_file": secret_file_for(url)}
    return create_app(settings=Settings(database_url=url, **(defaults | settings)))


@pytest.fixture
def service(database_url: str) -> Iterator[Service]:
    """An app on a fresh database with an admin ("admin") and nothing else."""
    app = make_app(database_url)
    with TestClient(app) as client:
        svc = Service(client, app.state.waarborg.db)
        svc.add_user("admin", "admin")
        yield svc


@pytest.fixture
def world(service: Service) -> Service:
    """Two teams with a process each, a case worker and a supervisor per team, an auditor.

    ``ann`` (case worker) and ``sue`` (supervisor) are in team A, which works in process
    "A"; ``bob`` (case worker) and ``sam`` (supervisor) in team B (process "B"); ``aud``
    is the auditor. Process "A" has one case, added by ann (``service.ids["case"]``).
    """
    for name, role, team in [
        ("ann", "caseworker", "team-a"),
        ("sue", "supervisor", "team-a"),
        ("bob", "caseworker", "team-b"),
        ("sam", "supervisor", "team-b"),
        ("aud", "auditor", None),
    ]:
        service.add_user(name, role, team)
    service.process("A", "team-a", register_ref="AR-2026-001", contact="Call 0800-123")
    service.process("B", "team-b")
    service.ids["case"] = service.case("ann", service.ids["A"])["id"]
    return service


def make_revalidation_overdue(service: Service, process_id: int) -> None:
    """Backdate the process's pinned spec's last validation to 2015 (due 2020-01-01)."""
    from waarborg.instruments.spec import parse_spec, spec_hash
    from waarborg.service.store.models import Process

    with service.db.transaction() as session:
        process = session.get(Process, process_id)
        assert process is not None
        spec = dict(process.spec)
        spec["revalidation"] = {**spec["revalidation"], "last_validated": "2015-01-01"}
        process.spec = spec
        process.spec_hash = spec_hash(parse_spec(spec))


@contextmanager
def tampering(db: Database) -> Iterator[Session]:
    """A transaction with the audit log's triggers off: an insider who owns the database.

    On PostgreSQL the owner (here a superuser) skips triggers with
    ``session_replication_role = replica``; on SQLite anyone who can write the file can
    drop them (they are dropped for the rest of the test).
    """
    with db.transaction() as session:
        if db.backend == "postgresql":
            session.execute(text("SET LOCAL session_replication_role = replica"))
        else:
            triggers = text("SELECT name FROM sqlite_master WHERE type = 'trigger'")
            for name in session.execute(triggers).scalars().all():
                session.execute(text(f'DROP TRIGGER "{name}"'))
        yield session
