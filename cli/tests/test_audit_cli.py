"""`plutarc audit verify|replay|export --service NAME` works for any service, on SQLite and
PostgreSQL, and bad input gets a clear error and a non-zero exit.

The stores here belong to `vault`, a test context (`plutarc_testkit.vault`) that is not in the
catalogue: the tests stand for a deployment whose catalogue has it, by giving the CLI a registry
with the vault's types. The identity service's store is tested in services/identity/tests.
"""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import timedelta
from pathlib import Path
from uuid import uuid4

import psycopg
import pytest
from plutarc_cli import audit_cmd
from plutarc_cli.main import app
from plutarc_contracts import Registry, default_registry
from plutarc_testkit.vault import OpenSafe, StoreItem, TakeItem, Vault, vault_registry
from typer.testing import CliRunner, Result

PIN = "9f86d081884c7d659a2feaa0c55ad015a3bf4f1b2b0b822cd15d6c15b0f00a08"


def catalogue_with(vault: Registry) -> Registry:
    return default_registry().merge(vault).freeze()


@pytest.fixture(autouse=True)
def deployment_with_a_vault(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(audit_cmd, "default_registry", lambda: catalogue_with(vault_registry()))
    monkeypatch.delenv("PLUTARC_DATABASE_URL", raising=False)
    monkeypatch.delenv("PLUTARC_DATA_DIR", raising=False)


@dataclass
class Store:
    vault: Vault
    args: list[str]  # where the CLI finds it
    desk: str
    safe: str


def make_store(backend: str, request: pytest.FixtureRequest, tmp_path: Path) -> Store:
    if backend == "postgres":
        url = request.getfixturevalue("postgres_server").create_database(
            f"vault_{uuid4().hex[:12]}"
        )
        vault, args = Vault(database_url=url), ["--database-url", url]
    else:
        vault = Vault(sqlite_path=tmp_path / "data" / "vault.sqlite")
        args = ["--data-dir", str(tmp_path / "data")]
    desk, safe = str(uuid4()), str(uuid4())
    olivia, bob = "user:olivia", "user:bob"
    vault.ok(olivia, OpenSafe(safe_id=safe, workspace_id=desk, label="Gold", pin_hash=PIN), desk)
    vault.ok(bob, StoreItem(safe_id=safe, item="bar"), desk)
    vault.clock.advance(timedelta(hours=1))
    vault.ok(bob, TakeItem(safe_id=safe, item="bar"), desk)
    return Store(vault, [*args, "--service", "vault"], desk, safe)


@pytest.fixture(params=["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)])
def store(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Store]:
    made = make_store(request.param, request, tmp_path)
    yield made
    made.vault.close()


@pytest.fixture
def sqlite_store(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Store]:
    made = make_store("sqlite", request, tmp_path)
    yield made
    made.vault.close()


def run(*args: str) -> Result:
    return CliRunner().invoke(app, ["audit", *args])


def lines(result: Result) -> list[dict[str, object]]:
    return [json.loads(line) for line in result.stdout.splitlines() if line.startswith("{")]


def tamper(vault: Vault, notification_id: int) -> None:
    store = vault.store
    recorder = store.recorder
    if store.backend == "sqlite":
        with recorder.datastore.transaction(commit=True) as cur:
            cur.execute(
                f"UPDATE {recorder.events_table_name} SET state = CAST(replace(CAST(state AS TEXT), 'bar', 'gun') AS BLOB) WHERE rowid = ?",
                (notification_id,),
            )
    else:
        with recorder.datastore.get_connection() as conn, conn.cursor() as cur:
            cur.execute(
                f"UPDATE {recorder.events_table_name} SET state = convert_to(replace(convert_from(state, 'UTF8'), 'bar', 'gun'), 'UTF8') WHERE notification_id = %s",
                (notification_id,),
            )
            conn.commit()


def test_verify_names_a_tampered_event(store: Store) -> None:
    clean = run("verify", "--json", *store.args)
    assert clean.exit_code == 0, clean.output
    assert json.loads(clean.stdout) | {"head_hash": None} == {
        "service": "vault",
        "ok": True,
        "checked": 6,
        "head_position": 6,
        "head_hash": None,
        "broken_at": None,
        "reason": None,
    }
    stored = next(
        n.id for n in store.vault.store.notifications(1, 100) if n.topic == "vault.item_stored"
    )
    tamper(store.vault, stored)
    broken = run("verify", "--json", *store.args)
    assert broken.exit_code == 3
    report = json.loads(broken.stdout)
    assert (report["ok"], report["broken_at"], report["checked"]) == (False, stored, stored - 1)
    assert run("verify", *store.args).exit_code == 3


def test_export_lists_the_services_events_with_secrets_redacted(store: Store) -> None:
    out = run("export", *store.args)
    assert out.exit_code == 0, out.output
    entries = lines(out)
    assert [e["action"] for e in entries] == [
        "vault.safe_opened",
        "vault.item_stored",
        "vault.item_taken",
    ]
    assert entries[0]["after"] == {"safe_id": store.safe, "label": "Gold", "pin_hash": "[redacted]"}
    assert PIN not in out.stdout and "3 entries exported" in out.stderr

    by_bob = lines(run("export", "--actor", "user:bob", "--workspace", store.desk, *store.args))
    assert [e["action"] for e in by_bob] == ["vault.item_stored", "vault.item_taken"]
    taken_at = str(entries[2]["occurred_at"])
    late = lines(run("export", "--since", taken_at, *store.args))
    early = lines(run("export", "--until", str(entries[1]["occurred_at"]), *store.args))
    assert [e["action"] for e in late] == ["vault.item_taken"]
    assert [e["action"] for e in early] == ["vault.safe_opened", "vault.item_stored"]
    assert lines(run("export", "--workspace", str(uuid4()), *store.args)) == []


def test_export_writes_a_file(sqlite_store: Store, tmp_path: Path) -> None:
    out = run("export", "-o", str(tmp_path / "audit.jsonl"), *sqlite_store.args)
    assert out.exit_code == 0, out.output
    written = (tmp_path / "audit.jsonl").read_text().splitlines()
    assert [json.loads(line)["action"] for line in written][-1] == "vault.item_taken"


def test_replay_uses_the_fold_the_services_contracts_register(store: Store) -> None:
    opened = lines(run("export", *store.args))[1]["occurred_at"]
    out = run("replay", "--workspace", store.desk, "--as-of", str(opened), "--json", *store.args)
    assert out.exit_code == 0, out.output
    state = json.loads(out.stdout)
    assert (state["exists"], state["safes"]) == (
        True,
        [{"safe_id": store.safe, "label": "Gold", "items": ["bar"]}],
    )
    table = run("replay", "--workspace", store.desk, "--as-of", str(opened), *store.args)
    assert table.exit_code == 0, table.output
    assert "safes" in table.stdout and "Gold" in table.stdout and "bar" in table.stdout
    before = run(
        "replay", "--workspace", store.desk, "--as-of", "2000-01-01T00:00:00Z", *store.args
    )
    assert before.exit_code == 4 and "did not exist as of 2000-01-01" in before.output


def test_replay_of_a_service_whose_contracts_register_no_fold_exits_2(
    store: Store, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(
        audit_cmd, "default_registry", lambda: catalogue_with(vault_registry(fold=False))
    )
    out = run("replay", "--workspace", store.desk, "--as-of", "2030-01-01T00:00:00Z", *store.args)
    assert out.exit_code == 2
    assert "`vault` contracts register no as-of fold" in out.output
    assert run("export", *store.args).exit_code == 0


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["replay", "--workspace", "w", "--as-of", "yesterday"], "ISO 8601"),
        (["replay", "--workspace", "w", "--as-of", "2026-01-01T00:00:00"], "needs a time zone"),
        (["export", "--since", "2026-02-01T00:00:00Z", "--until", "2026-01-01T00:00:00Z"], "after"),
        (["export", "--until", "tomorrow"], "--until must be an ISO 8601"),
        (["verify", "--service", "../etc/passwd"], "must be a service name"),
        (["export", "--service", "Vault"], "must be a service name"),
        (["verify", "--service", "nosuch"], "no event store for 'nosuch'"),
        (
            [
                "replay",
                "--service",
                "nosuch",
                "--workspace",
                "w",
                "--as-of",
                "2026-01-01T00:00:00Z",
            ],
            "no event store",
        ),
        (["export", "--context", "billing"], "declare no `billing` events"),
        (["export", "--database-url", "mysql://db/vault"], "unsupported database URL scheme"),
    ],
)
def test_bad_input_gets_a_clear_error_and_exit_2(
    args: list[str], message: str, sqlite_store: Store
) -> None:
    data_dir = sqlite_store.args[:2]
    out = run(*args, *data_dir, *([] if "--service" in args else ["--service", "vault"]))
    assert out.exit_code == 2, out.output
    assert message in out.output and "Traceback" not in out.output


def test_a_store_whose_context_the_contracts_do_not_know_verifies_but_does_not_export(
    tmp_path: Path,
) -> None:
    vault = Vault(sqlite_path=tmp_path / "vault.sqlite")
    vault.ok(
        "user:olivia",
        OpenSafe(safe_id=str(uuid4()), workspace_id="w", label="G", pin_hash=PIN),
        "w",
    )
    vault.close()
    shutil.copy(tmp_path / "vault.sqlite", tmp_path / "ledger.sqlite")
    args = ["--data-dir", str(tmp_path), "--service", "ledger"]
    assert run("verify", *args).exit_code == 0
    out = run("export", *args)
    assert out.exit_code == 2 and "declare no `ledger` events" in out.output
    assert run("export", *args, "--context", "vault").exit_code == 0


def test_export_to_a_folder_that_does_not_exist_exits_2(
    sqlite_store: Store, tmp_path: Path
) -> None:
    out = run("export", "-o", str(tmp_path / "nope" / "audit.jsonl"), *sqlite_store.args)
    assert out.exit_code == 2 and "cannot write" in out.output


@pytest.mark.postgres
def test_an_unknown_service_in_postgresql_exits_2_and_creates_nothing(postgres_server) -> None:
    url = postgres_server.create_database(f"audit_{uuid4().hex[:12]}")
    for command in (["verify"], ["export"]):
        out = run(*command, "--service", "nosuch", "--database-url", url)
        assert out.exit_code == 2, out.output
        assert "no readable event store for 'nosuch'" in out.output
        assert f":{postgres_server.password}@" not in out.output  # no credentials shown
    with psycopg.connect(url) as conn:
        tables = conn.execute(
            "SELECT table_name FROM information_schema.tables WHERE table_schema = 'public'"
        ).fetchall()
    assert tables == []


def test_the_cli_imports_no_service_package() -> None:
    code = (
        "import sys, plutarc_cli.main, plutarc_cli.audit_cmd; "
        "print(sorted({m.split('.')[0] for m in sys.modules if m.startswith('plutarc_')}))"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    loaded = set(json.loads(out.stdout.replace("'", '"')))
    services = {
        package.name
        for service in (Path(__file__).parents[2] / "services").iterdir()
        for package in (service / "src").iterdir()
        if package.name.startswith("plutarc_")
    }
    assert {"plutarc_identity", "plutarc_api", "plutarc_exchange", "plutarc_bots"} <= services
    assert not loaded & services, "the CLI must import no service package"
    assert loaded <= {
        "plutarc_cli",
        "plutarc_contracts",
        "plutarc_runtime",
        "plutarc_access",
        "plutarc_localkafka",
    }
