"""A demo organisation: users of every role, two registered processes and scored cases.

Used by ``waarborg demo --serve`` and the browser tests. Everything is made through the
same core functions as the API (so it is logged and purpose-bound like real work), and
seeding twice adds nothing the second time.
"""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import func, select

from waarborg.instruments.engine import load_instrument
from waarborg.service import auth, casework
from waarborg.service.auditlog import Actor
from waarborg.service.schemas import CaseIn, ProcessIn
from waarborg.service.store import Database
from waarborg.service.store.models import Case, Process, User
from waarborg.synth import synthesize

DEMO_PASSWORD = "waarborg-demo"
"""The password of every demo user (demo only: never use a seeded database for real)."""

DEMO_USERS = (
    ("admin", "admin", None),
    ("sanne", "supervisor", "toezicht-studiefinanciering"),
    ("kees", "caseworker", "toezicht-studiefinanciering"),
    ("fatima", "caseworker", "toezicht-studiefinanciering"),
    ("olga", "caseworker", "reclassering-advies"),
    ("aart", "auditor", None),
)

DEMO_PROCESSES = (
    (
        "controle-uitwonendenbeurs",
        "generic-selection",
        "toezicht-studiefinanciering",
        "Studenten met een uitwonendenbeurs kiezen voor een huisbezoek.",
    ),
    (
        "reclasseringsadvies",
        "oxrec-style",
        "reclassering-advies",
        "Het reclasseringsadvies aan de rechter onderbouwen met het risico op recidive.",
    ),
)


@dataclass(frozen=True)
class DemoOrganisation:
    """What :func:`seed_demo` made: users (name, role), processes and cases per process."""

    users: tuple[tuple[str, str], ...]
    processes: dict[str, int]
    cases: dict[str, int]


def seed_demo(db: Database, cases_per_process: int = 12, seed: int = 2026) -> DemoOrganisation:
    """Make the demo organisation in ``db`` (idempotent: an existing one is kept).

    Examples
    --------
    >>> db = Database("sqlite://")  # doctest: +SKIP
    >>> seed_demo(db).processes  # doctest: +SKIP
    {'controle-uitwonendenbeurs': 1, 'reclasseringsadvies': 2}
    """
    db.upgrade()
    by = Actor("demo-seed", "system")
    with db.transaction() as session:
        existing = {u.name for u in session.execute(select(User)).scalars()}
        for name, role, team in DEMO_USERS:
            if name not in existing:
                auth.add_user(
                    session, by, name=name, password=DEMO_PASSWORD, role=role, team_name=team
                )
    processes, cases = {}, {}
    for name, instrument, team, purpose in DEMO_PROCESSES:
        processes[name], cases[name] = _seed_process(db, name, instrument, team, purpose)
        if cases[name] == 0:
            cases[name] = _seed_cases(
                db, processes[name], team, instrument, cases_per_process, seed
            )
    return DemoOrganisation(tuple((n, r) for n, r, _ in DEMO_USERS), processes, cases)


def _seed_process(
    db: Database, name: str, instrument: str, team: str, purpose: str
) -> tuple[int, int]:
    """The process's id (registered by the admin if absent) and how many cases it has."""
    with db.transaction() as session:
        process = session.execute(select(Process).where(Process.name == name)).scalar_one_or_none()
        if process is not None:
            count = select(func.count(Case.id)).where(Case.process_id == process.id)
            return process.id, session.execute(count).scalar_one()
        admin = session.execute(select(User).where(User.name == "admin")).scalar_one()
        data = ProcessIn(
            name=name,
            instrument=instrument,
            team=team,
            purpose=purpose,
            retention_days=730,
            register_ref="AR-DEMO-" + instrument.upper(),
            organisation="Demo-organisatie (fictief)",
            contact="Bel 0800-0000 (fictief), op werkdagen van 9 tot 17 uur.",
            objection="U kunt binnen zes weken bezwaar maken bij de demo-organisatie (fictief).",
        )
        return casework.create_process(session, admin, data).id, 0


def _seed_cases(
    db: Database, process_id: int, team: str, instrument: str, n: int, seed: int
) -> int:
    """Score ``n`` synthetic people into the process, as a case worker of its team."""
    worker = next(name for name, role, t in DEMO_USERS if t == team and role == "caseworker")
    cohort = synthesize(instrument, n, seed=seed)
    inst = load_instrument(instrument)
    fields = [p.name for p in inst.predictors] + [f.name for f in inst.spec.case_fields]
    with db.transaction() as session:
        user = session.execute(select(User).where(User.name == worker)).scalar_one()
        for i, row in enumerate(cohort.select(fields).to_pylist()):
            casework.create_case(
                session, user, process_id, CaseIn(subject_ref=f"demo-{i + 1:04d}", inputs=row)
            )
    return n
