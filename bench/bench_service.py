"""Service load: 50 concurrent case workers open cases and decide, against PostgreSQL.

The service runs as a real server (``waarborg serve``, one uvicorn process) on a free
loopback port, on a fresh schema in the local PostgreSQL database ``test`` (override the
server with ``WAARBORG_BENCH_PG``, a ``postgresql://`` URL); the schema is dropped at the
end. Fifty case workers, each an httpx client (asyncio, in one thread), log in and then, case
after case, open it (``GET /api/cases/{id}``: the score, logged) and decide (``POST
/api/cases/{id}/decision``: a decision and a log entry, the chain head locked).
Bounded: at most ``CASES_PER_WORKER`` cases each and ``TIME_LIMIT_S`` seconds. Every
decision is then checked to be stored and the audit log to verify in full: the chain,
its witness (``WAARBORG_WITNESS``, a file in a temporary folder: every commit appends
a signed record, fsynced) and every case, decision and user against its binding.

Recorded: decisions per second, p50/p99 latency of opening, of deciding and of the pair
(what a case worker waits for), and the server's CPU time per decision (its processes'
user + system time over the run, read from ``/proc``): on a machine shared with other
work, wall-clock throughput swings with the load, CPU time per decision much less.

``WAARBORG_BENCH_WORKERS`` and ``WAARBORG_BENCH_CASES`` set a smaller size (50 and 40 by
default); ``WAARBORG_BENCH_START_S`` how long the server may take to start (300 s).
"""

from __future__ import annotations

import asyncio
import os
import signal
import socket
import subprocess
import sys
import tempfile
import time
import uuid
from collections.abc import Awaitable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path

import httpx
import numpy as np
import psycopg
from sqlalchemy import func, select

from bench.common import write
from waarborg.service import auditlog, auth, casework
from waarborg.service.auditlog import Actor
from waarborg.service.schemas import CaseIn, ProcessIn
from waarborg.service.settings import Settings
from waarborg.service.store import Database
from waarborg.service.store.models import Decision

WORKERS = int(os.environ.get("WAARBORG_BENCH_WORKERS", "50"))
SERVER_PROCESSES = int(os.environ.get("WAARBORG_BENCH_PROCESSES", "2"))
CASES_PER_WORKER = int(os.environ.get("WAARBORG_BENCH_CASES", "40"))
START_S = float(os.environ.get("WAARBORG_BENCH_START_S", "300"))
TIME_LIMIT_S = 60.0
PASSWORD = "bench password"
SERVER = os.environ.get("WAARBORG_BENCH_PG", "postgresql://postgres@127.0.0.1:5432/test")
INPUTS = {"education_type": "mbo", "age": 19, "distance_to_parents_km": 0.4}
DECIDE = {"outcome": "selected", "rationale": "Band 6 and the file agree.", "follows_score": True}


@contextmanager
def fresh_schema() -> Iterator[str]:
    """A new PostgreSQL schema, dropped afterwards; its SQLAlchemy URL."""
    schema = f"wb_bench_{uuid.uuid4().hex[:12]}"
    with psycopg.connect(SERVER, autocommit=True) as conn:
        conn.execute(f'CREATE SCHEMA "{schema}"')
    try:
        url = SERVER.replace("postgresql://", "postgresql+psycopg://", 1)
        yield f"{url}?options=-csearch_path%3D{schema}"
    finally:
        with psycopg.connect(SERVER, autocommit=True) as conn:
            conn.execute(f'DROP SCHEMA IF EXISTS "{schema}" CASCADE')


def prepare(url: str) -> dict[str, list[int]]:
    """One process, 50 case workers, their cases (through the library, not timed)."""
    db = Database(url)
    db.upgrade()
    by = Actor("bench", "operator")
    cases: dict[str, list[int]] = {}
    with db.transaction() as session:
        admin = auth.add_user(session, by, name="admin", password=PASSWORD, role="admin")
        process = casework.create_process(
            session,
            admin,
            ProcessIn(
                name="bench",
                instrument="generic-selection",
                team="t",
                purpose="load test",
                retention_days=30,
            ),
        )
        for w in range(WORKERS):
            user = auth.add_user(
                session, by, name=f"w{w}", password=PASSWORD, role="caseworker", team_name="t"
            )
            cases[user.name] = [
                casework.create_case(
                    session,
                    user,
                    process.id,
                    CaseIn(subject_ref=f"s{w}-{i}", inputs=INPUTS),
                )[0].id
                for i in range(CASES_PER_WORKER)
            ]
    db.dispose()
    return cases


def free_port() -> int:
    """A free TCP port on the loopback interface."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@contextmanager
def server(
    url: str, port: int, processes: int = SERVER_PROCESSES, env: dict[str, str] | None = None
) -> Iterator[subprocess.Popen[bytes]]:
    """``waarborg serve`` in a subprocess, ready when this yields; stopped at the end.

    ``env`` adds ``WAARBORG_*`` settings to the server's environment.
    """
    env = {**os.environ, "WAARBORG_RETENTION_INTERVAL": "0", **(env or {})}
    # the signing key of the throw-away schema: a file of its own, not ./waarborg.secret
    env.setdefault(
        "WAARBORG_SECRET_FILE", str(Path(tempfile.gettempdir()) / f"wb-bench-{port}.secret")
    )
    command = [sys.executable, "-c", "from waarborg.cli import app; app()", "serve",
               "--database-url", url, "--port", str(port),
               "--workers", str(processes)]  # fmt: skip
    process = subprocess.Popen(command, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    try:
        deadline = time.monotonic() + START_S
        while not _ready(port):
            if process.poll() is not None or time.monotonic() > deadline:
                raise RuntimeError("the server did not start")
            time.sleep(0.1)
        yield process
    finally:
        process.send_signal(signal.SIGINT)
        try:
            process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            process.kill()


def tree_cpu_seconds(pid: int) -> float:
    """User + system CPU seconds of process ``pid`` and its living descendants."""
    children: dict[int, list[int]] = {}
    times: dict[int, float] = {}
    tick = os.sysconf("SC_CLK_TCK")
    for entry in os.listdir("/proc"):
        if not entry.isdigit():
            continue
        try:
            with open(f"/proc/{entry}/stat") as handle:
                fields = handle.read().rsplit(")", 1)[1].split()
        except OSError:
            continue
        ppid, utime, stime = int(fields[1]), int(fields[11]), int(fields[12])
        children.setdefault(ppid, []).append(int(entry))
        times[int(entry)] = (utime + stime) / tick
    total, todo = 0.0, [pid]
    while todo:
        current = todo.pop()
        total += times.get(current, 0.0)
        todo.extend(children.get(current, []))
    return total


def _ready(port: int) -> bool:
    try:
        return httpx.get(f"http://127.0.0.1:{port}/openapi.json", timeout=1).is_success
    except httpx.HTTPError:
        return False


@dataclass
class Worker:
    """A case worker: log in, then open and decide each of their cases, one after another."""

    name: str
    case_ids: list[int]
    open_s: list[float] = field(default_factory=list)
    decide_s: list[float] = field(default_factory=list)
    errors: int = 0

    async def run(self, base: str, stop_at: float) -> None:
        """Work until the cases or the time run out."""
        async with httpx.AsyncClient(base_url=base, timeout=60) as client:
            form = {"username": self.name, "password": PASSWORD}
            token = (await client.post("/api/token", data=form)).json()["access_token"]
            headers = {"Authorization": f"Bearer {token}"}
            for case_id in self.case_ids:
                if time.monotonic() > stop_at:
                    return
                opened = client.get(f"/api/cases/{case_id}", headers=headers)
                await self._timed(opened, self.open_s)
                path = f"/api/cases/{case_id}/decision"
                await self._timed(client.post(path, json=DECIDE, headers=headers), self.decide_s)

    async def _timed(self, request: Awaitable[httpx.Response], into: list[float]) -> None:
        start = time.perf_counter()
        response = await request
        into.append(time.perf_counter() - start)
        if response.status_code >= 300:
            self.errors += 1


async def drive(base: str, cases: dict[str, list[int]]) -> tuple[list[Worker], float]:
    """All case workers at once; the workers and the seconds they took."""
    workers = [Worker(name, ids) for name, ids in cases.items()]
    start = time.monotonic()
    await asyncio.gather(*(w.run(base, start + TIME_LIMIT_S) for w in workers))
    return workers, time.monotonic() - start


def _latency(seconds: list[float]) -> dict[str, float]:
    values = np.array(seconds) * 1000
    return {
        "p50_ms": float(np.percentile(values, 50)),
        "p99_ms": float(np.percentile(values, 99)),
        "max_ms": float(values.max()),
    }


def main() -> None:
    load_before = os.getloadavg()[0]
    witness_dir = tempfile.TemporaryDirectory(prefix="waarborg-bench-")
    os.environ["WAARBORG_WITNESS"] = os.path.join(witness_dir.name, "bench.witness")
    with witness_dir, fresh_schema() as url:
        cases = prepare(url)
        port = free_port()
        with server(url, port) as process:
            cpu_before = tree_cpu_seconds(process.pid)
            workers, elapsed = asyncio.run(drive(f"http://127.0.0.1:{port}", cases))
            cpu = tree_cpu_seconds(process.pid) - cpu_before
        db = Database(url)
        with db.transaction() as session:
            stored = session.execute(select(func.count(Decision.id))).scalar_one()
        verified = auditlog.verify_database(db)
        intact = verified.intact and verified.witnessed_seq == verified.entries
        db.dispose()
    decided = sum(len(w.decide_s) for w in workers)
    errors = sum(w.errors for w in workers)
    pairs = [o + d for w in workers for o, d in zip(w.open_s, w.decide_s, strict=False)]
    result = {
        "backend": "postgresql (loopback)",
        "server": f"waarborg serve --workers {SERVER_PROCESSES} (uvicorn processes)",
        "threads_per_process": Settings.from_env().threads,
        "load_average_1min_after": os.getloadavg()[0],
        "note": "one 2-core machine runs the load generator, PostgreSQL and the server",
        "load_average_1min_before": load_before,
        "case_workers": WORKERS,
        "decisions": decided,
        "decisions_stored": stored,
        "errors": errors,
        "audit_log_intact": intact,
        "witness": "file, one signed (Ed25519) record per commit, fsync",
        "records_verified": verified.records_checked,
        "elapsed_s": elapsed,
        "decisions_per_second": decided / elapsed,
        "server_cpu_ms_per_decision": 1000 * cpu / decided,
        "requests_per_second": 2 * decided / elapsed,
        "open_case": _latency([s for w in workers for s in w.open_s]),
        "decide": _latency([s for w in workers for s in w.decide_s]),
        "open_and_decide": _latency(pairs),
    }
    print(
        f"{decided} decisions by {WORKERS} case workers in {elapsed:.1f} s: "
        f"{result['decisions_per_second']:.0f} decisions/s; open p50 "
        f"{result['open_case']['p50_ms']:.0f} ms p99 {result['open_case']['p99_ms']:.0f} ms; "
        f"decide p50 {result['decide']['p50_ms']:.0f} ms p99 {result['decide']['p99_ms']:.0f} ms; "
        f"errors {errors}; stored {stored}; log intact {intact}; "
        f"server CPU {result['server_cpu_ms_per_decision']:.1f} ms per decision"
    )
    print(f"results → {write('service', result)}")


if __name__ == "__main__":
    main()
