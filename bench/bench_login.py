"""Wrong logins under load: how long does another user wait for ``GET /api/me``?

The service runs as a real server (``waarborg serve``, one uvicorn process, production
argon2 cost) on a fresh SQLite file. ``ATTACKERS`` threads post wrong passwords for user
``victim`` to ``POST /api/token`` as fast as the server answers, for ``DURATION_S``
seconds (the sign-in limits are raised so that every attempt reaches argon2). Meanwhile
user ``reader``, logged in beforehand, asks ``GET /api/me`` again and again, one request
at a time; its latency is what another user of the service waits for.

Recorded: ``GET /api/me`` latency idle and under the load (median, p90, max), wrong logins
answered per second, and the answers' status codes. Run it as
``.venv/bin/python -m bench.bench_login --label after``; each label is kept beside the
others in ``results/login.json``.
"""

from __future__ import annotations

import argparse
import json
import tempfile
import threading
import time
from collections import Counter
from pathlib import Path
from typing import Any

import httpx
import numpy as np

from bench.bench_service import free_port, server
from bench.common import RESULTS, machine
from waarborg.service import auth
from waarborg.service.auditlog import Actor
from waarborg.service.store import Database

ATTACKERS = 32
DURATION_S = 20.0
IDLE_SAMPLES = 30
PASSWORD = "plum orbit cactus seventy"
NO_LIMITS = {  # every wrong login reaches argon2 (settings unknown to a version are ignored)
    "WAARBORG_LOGIN_FAILURES": "1000000000",
    "WAARBORG_LOGIN_ADDRESS_FAILURES": "1000000000",
    "WAARBORG_LOGIN_GLOBAL_FAILURES": "1000000000",
}


def prepare(url: str) -> None:
    """The two users (through the library, not timed)."""
    db = Database(url)
    db.upgrade()
    with db.transaction() as session:
        for name in ("victim", "reader"):
            auth.add_user(
                session, Actor("bench", "operator"), name=name, password=PASSWORD, role="auditor"
            )
    db.dispose()


def attack(base: str, stop: threading.Event, statuses: Counter[int], lock: threading.Lock) -> None:
    """Post wrong passwords for ``victim`` until ``stop`` is set."""
    with httpx.Client(base_url=base, timeout=120) as client:
        while not stop.is_set():
            answer = client.post(
                "/api/token", data={"username": "victim", "password": "wrong guess 123"}
            )
            with lock:
                statuses[answer.status_code] += 1


def me_latencies(
    client: httpx.Client, headers: dict[str, str], until: float, at_most: int
) -> list[float]:
    """Seconds per ``GET /api/me``, one after another, until ``until`` or ``at_most`` requests."""
    seconds = []
    while time.monotonic() < until and len(seconds) < at_most:
        start = time.perf_counter()
        answer = client.get("/api/me", headers=headers)
        seconds.append(time.perf_counter() - start)
        answer.raise_for_status()
    return seconds


def figures(seconds: list[float]) -> dict[str, float]:
    """Median, p90 and max in milliseconds, and the number of requests."""
    ms = np.array(seconds) * 1000
    return {
        "n": len(ms),
        "p50_ms": float(np.median(ms)),
        "p90_ms": float(np.percentile(ms, 90)),
        "max_ms": float(ms.max()),
    }


def run() -> dict[str, Any]:
    """Start the server, measure idle, then under ``ATTACKERS`` threads of wrong logins."""
    with tempfile.TemporaryDirectory() as folder:
        url = f"sqlite:///{Path(folder) / 'bench.sqlite'}"
        prepare(url)
        port = free_port()
        base = f"http://127.0.0.1:{port}"
        with (
            server(url, port, processes=1, env=NO_LIMITS),
            httpx.Client(base_url=base, timeout=120) as client,
        ):
            token = client.post("/api/token", data={"username": "reader", "password": PASSWORD})
            headers = {"Authorization": f"Bearer {token.raise_for_status().json()['access_token']}"}
            idle = me_latencies(client, headers, time.monotonic() + 30, IDLE_SAMPLES)
            stop, lock, statuses = threading.Event(), threading.Lock(), Counter[int]()
            threads = [
                threading.Thread(target=attack, args=(base, stop, statuses, lock))
                for _ in range(ATTACKERS)
            ]
            for thread in threads:
                thread.start()
            time.sleep(2.0)  # let the attack fill the server's queue
            start = time.monotonic()
            loaded = me_latencies(client, headers, start + DURATION_S, 10**9)
            with lock:
                answered = sum(statuses.values())
            elapsed = time.monotonic() - start
            stop.set()
            for thread in threads:
                thread.join()
    return {
        "attackers": ATTACKERS,
        "duration_s": DURATION_S,
        "me_idle": figures(idle),
        "me_under_wrong_logins": figures(loaded),
        "wrong_logins_per_s": answered / (elapsed + 2.0),
        "login_statuses": {str(k): v for k, v in sorted(statuses.items())},
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--label", default="after", help="name of this run in results/login.json")
    label = parser.parse_args().label
    result = run()
    path = RESULTS / "login.json"
    kept = json.loads(path.read_text()) if path.exists() else {"runs": {}}
    kept["runs"][label] = {"machine": machine(), **result}
    path.write_text(json.dumps(kept, indent=2) + "\n")
    print(json.dumps({label: result}, indent=2))


if __name__ == "__main__":
    main()
