"""How fast the service creates cases (each scored, drawn for the reference sample, logged).

Decides how the demo gets thousands of cases for its selectivity report (issue 15):
``create_case`` one by one (the API's path: one transaction per case) against
``create_cases`` (the bulk path: one vectorised scoring pass, one flush, the same draws
and the same log entries, each case bound). SQLite file in a temporary folder.

Run: ``.venv/bin/python -m bench.bench_case_creation [N]``; writes
``bench/results/case_creation.json``.
"""

from __future__ import annotations

import json
import os
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from waarborg.instruments.engine import load_instrument
from waarborg.service import auditlog, auth, casework
from waarborg.service.auditlog import Actor
from waarborg.service.schemas import CaseIn, ProcessIn
from waarborg.service.store import Database
from waarborg.service.store.models import User
from waarborg.synth import synthesize

RESULTS = Path(__file__).parent / "results" / "case_creation.json"


def _setup(folder: Path, name: str) -> tuple[Database, int]:
    db = Database(f"sqlite:///{folder / name}.sqlite")
    db.upgrade()
    by = Actor("bench", "system")
    with db.transaction() as session:
        auth.add_user(session, by, name="admin", password="quiet river lantern", role="admin")
        auth.add_user(
            session,
            by,
            name="worker",
            password="quiet river lantern",
            role="caseworker",
            team_name="t",
        )
    with db.transaction() as session:
        admin = session.execute(select(User).where(User.name == "admin")).scalar_one()
        data = ProcessIn(
            name="p",
            instrument="generic-selection",
            team="t",
            purpose="bench",
            retention_days=365,
            reference_share=0.02,
        )
        process_id = casework.create_process(session, admin, data).id
    return db, process_id


def _items(n: int) -> list[CaseIn]:
    inst = load_instrument("generic-selection")
    fields = [p.name for p in inst.predictors]
    rows = synthesize("generic-selection", n, seed=1).select(fields).to_pylist()
    return [CaseIn(subject_ref=f"b-{i}", inputs=row) for i, row in enumerate(rows)]


def _worker(session: Session) -> User:
    return session.execute(select(User).where(User.name == "worker")).scalar_one()


def measure(n: int) -> dict[str, Any]:
    """Seconds for ``n`` cases, one by one and in bulk, and whether the log verifies."""
    items = _items(n)
    out: dict[str, Any] = {"cases": n}
    with tempfile.TemporaryDirectory() as tmp:
        for mode in ("one_by_one", "bulk"):
            db, process_id = _setup(Path(tmp), mode)
            start = time.perf_counter()
            if mode == "bulk":
                with db.transaction() as session:
                    casework.create_cases(session, _worker(session), process_id, items)
            else:  # as the API does: one transaction per case
                for item in items:
                    with db.transaction() as session:
                        casework.create_case(session, _worker(session), process_id, item)
            out[f"{mode}_s"] = round(time.perf_counter() - start, 2)
            assert auditlog.verify_database(db).intact
            db.dispose()
    out["machine"] = {"cpus": os.cpu_count(), "load_average_1min_after": os.getloadavg()[0]}
    return out


if __name__ == "__main__":
    n = int(sys.argv[1]) if len(sys.argv) > 1 else 3000
    result = measure(n)
    print(json.dumps(result))
    RESULTS.write_text(json.dumps(result, indent=2) + "\n", encoding="utf-8")
