"""`plutarc audit verify` names a tampered event, on SQLite and on PostgreSQL."""

from __future__ import annotations

import json

from plutarc_cli.main import app
from typer.testing import CliRunner


def tamper(store, notification_id: int) -> None:
    recorder = store.recorder
    if store.backend == "sqlite":
        with recorder.datastore.transaction(commit=True) as cur:
            cur.execute(
                f"UPDATE {recorder.events_table_name} SET state = CAST(replace(CAST(state AS TEXT), 'trader', 'owner') AS BLOB) WHERE rowid = ?",
                (notification_id,),
            )
    else:
        with recorder.datastore.get_connection() as conn, conn.cursor() as cur:
            cur.execute(
                f"UPDATE {recorder.events_table_name} SET state = convert_to(replace(convert_from(state, 'UTF8'), 'trader', 'owner'), 'UTF8') WHERE notification_id = %s",
                (notification_id,),
            )
            conn.commit()


def test_verify_catches_a_promoted_member(identity, tmp_path) -> None:
    owner, _ = identity.register("olivia")
    _, bob_id = identity.register("bob")
    ws = identity.organisation(owner)
    identity.join(ws, owner, bob_id, "trader")
    joined = next(
        n.id
        for n in identity.store.notifications(1, 10_000)
        if n.topic == "identity.member_joined"
        and bob_id.encode() in n.state
        and b'"trader"' in n.state
    )
    if identity.store.backend == "sqlite":
        args = ["--data-dir", str(tmp_path)]
        (tmp_path / "identity.sqlite").symlink_to(identity.store.sqlite_path)
    else:
        args = ["--database-url", identity.store.database_url]
    runner = CliRunner()
    clean = runner.invoke(app, ["audit", "verify", "--json", *args])
    assert clean.exit_code == 0, clean.output

    tamper(identity.store, joined)
    broken = runner.invoke(app, ["audit", "verify", "--json", *args])
    assert broken.exit_code == 3
    report = json.loads(broken.stdout)
    assert (report["ok"], report["broken_at"]) == (False, joined)
