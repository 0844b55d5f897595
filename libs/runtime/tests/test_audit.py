"""The audit reader works for any service: entries with filters, secrets redacted, state as of an
instant from the fold the context registered, on SQLite and PostgreSQL."""

from __future__ import annotations

import json
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import datetime, timedelta
from pathlib import Path
from uuid import uuid4

import msgspec
import pytest
from plutarc_contracts import ContractError
from plutarc_contracts.audit import REDACTED
from plutarc_runtime.audit import AuditReader, NoAsOfFold
from plutarc_testkit.vault import (
    OpenSafe,
    RelabelSafe,
    StoreItem,
    TakeItem,
    Vault,
    VaultAsOf,
    vault_registry,
)

OLIVIA, BOB = "user:olivia", "user:bob"
PIN = "9f86d081884c7d659a2feaa0c55ad015a3bf4f1b2b0b822cd15d6c15b0f00a08"


@pytest.fixture(params=["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)])
def vault(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Vault]:
    if request.param == "postgres":
        pg = request.getfixturevalue("postgres_server")
        v = Vault(database_url=pg.create_database(f"vault_{uuid4().hex[:12]}"))
    else:
        v = Vault(sqlite_path=tmp_path / "vault.sqlite")
    yield v
    v.close()


@dataclass
class History:
    desk: str
    other: str
    gold: str
    t1: datetime
    t2: datetime
    t3: datetime


def scripted(vault: Vault) -> History:
    """Olivia opens a safe on the desk, Bob stores bar; later it is relabelled and bar taken."""
    desk, other, gold, spare = (str(uuid4()) for _ in range(4))
    vault.ok(OLIVIA, OpenSafe(safe_id=gold, workspace_id=desk, label="Gold", pin_hash=PIN), desk)
    vault.ok(BOB, StoreItem(safe_id=gold, item="bar"), desk)
    vault.ok(
        OLIVIA, OpenSafe(safe_id=spare, workspace_id=other, label="Spare", pin_hash=PIN), other
    )
    t1 = vault.clock.advance(timedelta(hours=1))
    vault.clock.advance(timedelta(hours=1))
    vault.ok(OLIVIA, RelabelSafe(safe_id=gold, label="Bullion"), desk)
    vault.ok(BOB, StoreItem(safe_id=gold, item="coin"), desk)
    t2 = vault.clock.advance(timedelta(hours=1))
    vault.clock.advance(timedelta(hours=1))
    vault.ok(BOB, TakeItem(safe_id=gold, item="bar"), desk)
    t3 = vault.clock.advance(timedelta(hours=1))
    return History(desk, other, gold, t1, t2, t3)


def test_every_event_of_the_context_is_an_entry_and_replies_are_not(vault: Vault) -> None:
    scripted(vault)
    seen: list[int] = []
    entries = list(AuditReader(vault.store, batch=4).entries(progress=seen.append))
    assert [e.action for e in entries] == [
        "vault.safe_opened",
        "vault.item_stored",
        "vault.safe_opened",
        "vault.safe_relabelled",
        "vault.item_stored",
        "vault.item_taken",
    ]
    stored = vault.store.max_notification_id()
    assert stored == 12  # each command also stored its reply, which is no audit entry
    assert seen[-1] == stored and seen == sorted(seen)
    positions = [e.position for e in entries]
    assert positions == sorted(positions) and positions[-1] < stored


def test_entries_redact_the_declared_secrets_and_split_before_from_after(vault: Vault) -> None:
    h = scripted(vault)
    entries = list(AuditReader(vault.store).entries())
    opened = entries[0]
    assert (opened.actor, opened.workspace_id, opened.target) == (
        OLIVIA,
        h.desk,
        f"workspace:{h.desk}",
    )
    assert opened.after == {"safe_id": h.gold, "label": "Gold", "pin_hash": REDACTED}
    assert PIN not in json.dumps(msgspec.to_builtins(entries))
    relabelled = entries[3]
    assert (relabelled.before, relabelled.after) == (
        {"label": "Gold"},
        {"safe_id": h.gold, "label": "Bullion"},
    )
    assert relabelled.causation_id == relabelled.correlation_id  # caused by its command


def test_entries_filter_by_workspace_actor_and_an_inclusive_time_range(vault: Vault) -> None:
    h = scripted(vault)
    log = AuditReader(vault.store)
    assert {e.workspace_id for e in log.entries(workspace_id=h.other)} == {h.other}
    assert len(list(log.entries(workspace_id=h.desk))) == 5
    by_bob = list(log.entries(actor=BOB))
    assert [e.action for e in by_bob] == ["vault.item_stored"] * 2 + ["vault.item_taken"]
    late = list(log.entries(workspace_id=h.desk, since=h.t1, until=h.t2))
    assert [e.action for e in late] == ["vault.safe_relabelled", "vault.item_stored"]
    edge = late[0].occurred_at
    assert [e.occurred_at for e in log.entries(since=edge, until=edge)] == [edge, edge]
    assert list(log.entries(actor="user:nobody")) == []


def test_state_as_of_three_instants_comes_from_the_contexts_fold(vault: Vault) -> None:
    h = scripted(vault)
    log = AuditReader(vault.store)

    def safes(at: datetime) -> list[tuple[str, list[str]]]:
        state = log.as_of(h.desk, at)
        assert isinstance(state, VaultAsOf) and state.as_of == at
        return [(s.label, s.items) for s in state.safes]

    assert safes(h.t1) == [("Gold", ["bar"])]
    assert safes(h.t2) == [("Bullion", ["bar", "coin"])]
    assert safes(h.t3) == [("Bullion", ["coin"])]
    before = log.as_of(h.desk, h.t1 - timedelta(days=1))
    assert isinstance(before, VaultAsOf) and not before.exists


def test_a_context_without_a_fold_cannot_be_replayed_but_can_be_exported(tmp_path: Path) -> None:
    vault = Vault(sqlite_path=tmp_path / "vault.sqlite", registry=vault_registry(fold=False))
    try:
        h = scripted(vault)
        log = AuditReader(vault.store)
        with pytest.raises(NoAsOfFold, match="`vault` contracts register no as-of fold"):
            log.as_of(h.desk, h.t3)
        assert len(list(log.entries())) == 6
    finally:
        vault.close()


def test_a_service_named_other_than_its_context_says_which_context(tmp_path: Path) -> None:
    vault = Vault(sqlite_path=tmp_path / "vault-eu.sqlite", name="vault-eu")
    try:
        scripted(vault)
        assert list(AuditReader(vault.store).entries()) == []  # no `vault-eu.*` types
        assert len(list(AuditReader(vault.store, context="vault").entries())) == 6
    finally:
        vault.close()


def test_an_unreadable_stored_event_is_named_by_position(tmp_path: Path) -> None:
    vault = Vault(sqlite_path=tmp_path / "vault.sqlite")
    try:
        scripted(vault)
        recorder = vault.store.recorder
        with recorder.datastore.transaction(commit=True) as cur:
            cur.execute(
                f"UPDATE {recorder.events_table_name} SET state = ? WHERE rowid = 3",
                (b"\x00garbage",),
            )
        with pytest.raises(ContractError, match="stored event 3 is not a readable envelope"):
            list(AuditReader(vault.store).entries())
    finally:
        vault.close()
