"""Crash test: a server killed mid-write keeps every decision it acknowledged.

The server runs as a real subprocess (``waarborg serve``) on a free loopback port.
Case workers in threads open cases and decide; once enough decisions are acknowledged
the server gets SIGKILL. After a restart every acknowledged decision is there, and
``waarborg auditlog verify`` passes.
"""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager

import httpx
from sqlalchemy import select
from typer.testing import CliRunner

from tests.service.conftest import GENERIC_INPUTS, PASSWORD, secret_file_for
from waarborg.cli import app as cli
from waarborg.service import auth, casework
from waarborg.service.auditlog import Actor
from waarborg.service.schemas import CaseIn, ProcessIn
from waarborg.service.store import Database
from waarborg.service.store.models import Decision

WORKERS = 8
CASES_PER_WORKER = 15
KILL_AFTER = 30
DECIDE = {"outcome": "selected", "rationale": "Band 6 and the file agree.", "follows_score": True}


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@contextmanager
def _server(url: str, port: int) -> Iterator[subprocess.Popen[bytes]]:
    env = {**os.environ, "WAARBORG_RETENTION_INTERVAL": "0"}
    secret_file = secret_file_for(url)
    if secret_file is not None:  # PostgreSQL: not the working folder's default
        env["WAARBORG_SECRET_FILE"] = str(secret_file)
    command = [
        sys.executable,
        "-c",
        "from waarborg.cli import app; app()",
        "serve",
        "--database-url",
        url,
        "--port",
        str(port),
    ]
    process = subprocess.Popen(
        command, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL
    )
    try:
        deadline = time.monotonic() + 60
        while True:
            try:
                if httpx.get(f"http://127.0.0.1:{port}/openapi.json", timeout=1).is_success:
                    break
            except httpx.HTTPError:
                pass
            if process.poll() is not None or time.monotonic() > deadline:
                raise RuntimeError("the server did not start")
            time.sleep(0.1)
        yield process
    finally:
        if process.poll() is None:
            process.kill()
        process.wait()


def _prepare(url: str) -> dict[str, list[int]]:
    """Users w0..w7 in one team and their cases, straight into the database."""
    db = Database(url)
    db.upgrade()
    cases: dict[str, list[int]] = {}
    with db.transaction() as session:
        admin = auth.add_user(
            session, Actor("test", "admin"), name="admin", password=PASSWORD, role="admin"
        )
        process = casework.create_process(
            session,
            admin,
            ProcessIn(
                name="P", instrument="generic-selection", team="t", purpose="p", retention_days=30
            ),
        )
        for w in range(WORKERS):
            user = auth.add_user(
                session,
                Actor("test", "admin"),
                name=f"w{w}",
                password=PASSWORD,
                role="caseworker",
                team_name="t",
            )
            cases[user.name] = [
                casework.create_case(
                    session,
                    user,
                    process.id,
                    CaseIn(subject_ref=f"s{w}-{i}", inputs=GENERIC_INPUTS),
                ).id
                for i in range(CASES_PER_WORKER)
            ]
    db.dispose()
    return cases


def _work(
    base: str, name: str, case_ids: list[int], acked: list[int], stop: threading.Event
) -> None:
    try:
        with httpx.Client(base_url=base, timeout=10) as client:
            token = client.post("/api/token", data={"username": name, "password": PASSWORD})
            headers = {"Authorization": f"Bearer {token.json()['access_token']}"}
            for case_id in case_ids:
                if stop.is_set():
                    return
                client.get(f"/api/cases/{case_id}", headers=headers)
                response = client.post(
                    f"/api/cases/{case_id}/decision", json=DECIDE, headers=headers
                )
                if response.status_code == 200:
                    acked.append(case_id)
    except httpx.HTTPError:
        return  # the server was killed under us


def test_acknowledged_decisions_survive_sigkill(database_url: str) -> None:
    cases = _prepare(database_url)
    port = _free_port()
    acked: list[int] = []
    stop = threading.Event()
    with _server(database_url, port) as server:
        base = f"http://127.0.0.1:{port}"
        threads = [
            threading.Thread(target=_work, args=(base, n, ids, acked, stop))
            for n, ids in cases.items()
        ]
        for t in threads:
            t.start()
        deadline = time.monotonic() + 60
        while len(acked) < KILL_AFTER and time.monotonic() < deadline:
            time.sleep(0.01)
        os.kill(server.pid, signal.SIGKILL)
        stop.set()
        for t in threads:
            t.join()
    assert len(acked) >= KILL_AFTER
    assert len(acked) < WORKERS * CASES_PER_WORKER, "killed too late to be mid-way"
    with _server(database_url, _free_port()):  # restarts cleanly on the same database
        db = Database(database_url)
        with db.transaction() as session:
            stored = set(session.execute(select(Decision.case_id)).scalars())
        db.dispose()
    assert set(acked) <= stored
    result = CliRunner().invoke(cli, ["auditlog", "verify", "--database-url", database_url])
    assert result.exit_code == 0, result.output
