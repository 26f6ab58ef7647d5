"""The hash-chained log: every change, insertion or deletion is found, and named."""

from __future__ import annotations

import threading

from sqlalchemy import delete, select, update

from tests.service.conftest import Service, tampering
from waarborg.service import auditlog
from waarborg.service.auditlog import Actor
from waarborg.service.store.models import AuditEntry


def _verify(world: Service) -> auditlog.Verification:
    with world.db.transaction() as session:
        return auditlog.verify(session)


def _entries(world: Service) -> list[AuditEntry]:
    with world.db.transaction() as session:
        return list(session.execute(select(AuditEntry).order_by(AuditEntry.seq)).scalars())


def _copy(entry: AuditEntry, **changes: object) -> AuditEntry:
    names = [c.key for c in AuditEntry.__table__.columns]
    return AuditEntry(**{name: getattr(entry, name) for name in names} | changes)


def test_an_intact_log_verifies(world: Service) -> None:
    result = _verify(world)
    assert result.intact and result.first_bad is None and result.entries == result.head_seq > 5


def test_a_changed_entry_is_named(world: Service) -> None:
    with tampering(world.db) as session:
        session.execute(update(AuditEntry).where(AuditEntry.seq == 3).values(actor="mallory"))
    result = _verify(world)
    assert not result.intact and result.first_bad == 3 and "changed" in (result.reason or "")


def test_a_changed_detail_is_named_even_when_only_spacing_changes(world: Service) -> None:
    seq = _entries(world)[-1].seq
    with tampering(world.db) as session:
        row = session.get(AuditEntry, seq)
        assert row is not None
        row.detail = row.detail.replace(":", ": ", 1) if ":" in row.detail else "{ }"
    assert _verify(world).first_bad == seq


def test_a_deleted_entry_is_named(world: Service) -> None:
    with tampering(world.db) as session:
        session.execute(delete(AuditEntry).where(AuditEntry.seq == 4))
    result = _verify(world)
    assert result.first_bad == 4 and "missing" in (result.reason or "")


def test_a_deleted_last_entry_is_named(world: Service) -> None:
    last = _entries(world)[-1].seq
    with tampering(world.db) as session:
        session.execute(delete(AuditEntry).where(AuditEntry.seq == last))
    result = _verify(world)
    assert result.first_bad == last and "chain head" in (result.reason or "")


def test_an_entry_appended_behind_the_chains_back_is_named(world: Service) -> None:
    last = _entries(world)[-1]
    forged = _copy(last, seq=last.seq + 1, prev_hash=last.hash, actor="mallory")
    forged.hash = auditlog.entry_hash(forged)  # a careful forger: the hash is right
    with tampering(world.db) as session:
        session.add(forged)
    result = _verify(world)
    assert result.first_bad == last.seq + 1 and "inserted" in (result.reason or "")


def test_an_entry_inserted_in_the_middle_is_named(world: Service) -> None:
    entries = _entries(world)
    k = 3
    with tampering(world.db) as session:
        session.execute(delete(AuditEntry).where(AuditEntry.seq >= k))
        session.flush()
        session.add(_copy(entries[k - 1], actor="mallory", hash="f" * 64))  # takes number k
        session.add_all(_copy(e, seq=e.seq + 1) for e in entries[k - 1 :])  # the rest move up
    result = _verify(world)
    assert result.first_bad == k


def test_a_carefully_forged_insertion_breaks_the_next_link(world: Service) -> None:
    entries = _entries(world)
    k = 3
    forged = _copy(entries[k - 1], actor="mallory")
    forged.hash = auditlog.entry_hash(forged)
    with tampering(world.db) as session:
        session.execute(delete(AuditEntry).where(AuditEntry.seq >= k))
        session.flush()
        session.add(forged)
        session.add_all(_copy(e, seq=e.seq + 1) for e in entries[k - 1 :])
    result = _verify(world)
    assert result.first_bad == k + 1 and "does not follow" in (result.reason or "")


def test_concurrent_appends_keep_one_chain(service: Service) -> None:
    def work(i: int) -> None:
        for j in range(10):
            with service.db.transaction() as session:
                auditlog.append(session, Actor(f"t{i}", "test"), "test.append", detail={"j": j})

    threads = [threading.Thread(target=work, args=(i,)) for i in range(8)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    result = _verify(service)
    assert result.intact and result.entries >= 80


def test_a_rolled_back_request_leaves_no_log_entry(world: Service) -> None:
    before = _verify(world).head_seq
    body = {"subject_ref": "x", "inputs": {"age": 19}}
    world.call("ann", "POST", f"/api/processes/{world.ids['A']}/cases", json=body)
    assert _verify(world).head_seq == before


def test_auditors_read_the_log_in_pages(world: Service) -> None:
    first = world.ok("aud", "GET", "/api/auditlog?limit=3")
    assert [e["seq"] for e in first["entries"]] == [1, 2, 3]
    after = world.ok("aud", "GET", "/api/auditlog?after=3&limit=2")["entries"]
    assert [e["seq"] for e in after] == [4, 5] and after[0]["prev_hash"] == first["entries"][2][
        "hash"
    ]
    assert world.ok("aud", "GET", "/api/auditlog/verify")["intact"] is True
    assert "subject_ref" not in str(world.ok("aud", "GET", "/api/auditlog?limit=1000"))
