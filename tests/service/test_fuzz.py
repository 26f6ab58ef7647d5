"""API fuzzing with schemathesis against the OpenAPI spec: no input gives a 500.

Every operation is fuzzed with valid (positive) and invalid (negative) requests, as a
user whose role may call it, on real ids (the world's process and case) and on
generated ones. Bounded and seeded: at most 30 examples per operation and mode.
"""

from __future__ import annotations

import schemathesis
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from schemathesis.generation.modes import GenerationMode
from sqlalchemy import select

from tests.service.conftest import Service
from waarborg.service.store.models import User

MAX_EXAMPLES = 30


def _user(path: str, method: str) -> str:
    """A user whose role may call the operation (so requests get past the role check)."""
    if path.startswith(("/api/oversight", "/api/auditlog")):
        return "aud"
    if path.endswith(("/reference-seeds", "/selectivity")):
        return "aud"
    if (
        (method, path) == ("POST", "/api/processes")
        or path.startswith(("/api/users", "/api/access-changes"))
        or path.endswith("/reference-share")
    ):
        return "admin"
    if path in ("/api/logout", "/api/me/password"):
        return "sam"  # logging out revokes the token: not the one the others use
    return "ann"


def test_no_input_gives_a_server_error(world: Service) -> None:
    schema = schemathesis.openapi.from_asgi("/openapi.json", world.client.app)
    world.add_user("fuzzy", "caseworker", "team-b")  # the account the lifecycle calls change
    with world.db.transaction() as session:
        fuzzy = session.execute(select(User.id).where(User.name == "fuzzy")).scalar_one()
    real_ids = {
        "process_id": world.ids["A"],
        "case_id": world.ids["case"],
        "user_id": fuzzy,
        "name": "A",
    }
    failures: list[str] = []
    operations = [result.ok() for result in schema.get_all_operations()]
    assert len(operations) >= 14
    for operation in operations:
        headers = world.headers(_user(operation.path, operation.method.upper()))
        names = {p.name for p in operation.path_parameters}
        fixed = {k: v for k, v in real_ids.items() if k in names}
        strategies = [
            operation.as_strategy(mode, headers=headers, path_parameters=ids)
            for mode in (GenerationMode.POSITIVE, GenerationMode.NEGATIVE)
            for ids in ([None, fixed] if fixed else [None])
        ]

        @settings(
            max_examples=MAX_EXAMPLES,
            derandomize=True,
            deadline=None,
            database=None,
            suppress_health_check=list(HealthCheck),
        )
        @given(case=st.one_of(strategies))
        def run(case: schemathesis.Case) -> None:
            response = case.call()
            if response.status_code >= 500:
                failures.append(
                    f"{case.method} {case.formatted_path} {case.query} {case.body!r}: "
                    f"{response.status_code} {response.text[:200]}"
                )

        run()
    assert not failures, "\n".join(failures[:20])
