"""The identity audit log, read by the runtime's reader: entries derived from the store, the
workspace as of an instant from identity's registered fold, credential hashes redacted, and the
`plutarc audit` commands on an identity store. (The reader and the CLI for any service, bad input
and tamper detection are tested in libs/runtime/tests/test_audit.py and cli/tests.)"""

from __future__ import annotations

import json
from datetime import timedelta
from uuid import uuid4

from plutarc_contracts import identity as c
from plutarc_contracts.audit import REDACTED
from plutarc_contracts.audit_state import WorkspaceAsOf
from plutarc_runtime.audit import AuditReader
from typer.testing import CliRunner

from .conftest import token_hash


def scripted_history(identity):
    """Olivia founds a desk, invites Bob (trader) and Carol (viewer), promotes Bob, removes Carol."""
    clock = identity.clock
    owner, owner_id = identity.register("olivia")
    bob, bob_id = identity.register("bob")
    _, carol_id = identity.register("carol")
    ws = identity.organisation(owner, "Desk")
    clock.advance(timedelta(hours=1))
    identity.join(ws, owner, bob_id, "trader")
    identity.join(ws, owner, carol_id, "viewer")
    pending = str(uuid4())
    identity.ok(
        owner,
        c.InviteMember(
            workspace_id=ws,
            invitation_id=pending,
            email="dan@example.com",
            role="manager",
            token_hash=token_hash("d"),
        ),
    )
    t1 = clock.advance(timedelta(hours=1))
    clock.advance(timedelta(hours=1))
    identity.ok(owner, c.ChangeMemberRole(workspace_id=ws, user_id=bob_id, role="admin"))
    token_id = str(uuid4())
    identity.ok(
        bob,
        c.IssueApiToken(
            workspace_id=ws,
            token_id=token_id,
            name="ci",
            permissions=["bots:read"],
            token_hash=token_hash("ci"),
        ),
    )
    t2 = clock.advance(timedelta(hours=1))
    clock.advance(timedelta(hours=1))
    identity.ok(bob, c.RemoveMember(workspace_id=ws, user_id=carol_id))
    identity.ok(owner, c.RevokeInvitation(workspace_id=ws, invitation_id=pending))
    t3 = clock.advance(timedelta(hours=1))
    return ws, (owner_id, bob_id, carol_id), (t1, t2, t3), token_id


def test_replay_at_three_instants_gives_exactly_the_expected_members(identity) -> None:
    ws, (olivia, bob, carol), (t1, t2, t3), token_id = scripted_history(identity)
    log = AuditReader(identity.store)

    def as_of(at) -> WorkspaceAsOf:
        state = log.as_of(ws, at)
        assert isinstance(state, WorkspaceAsOf)
        return state

    def members(at):
        return {m.user_id: m.role for m in as_of(at).members}

    assert members(t1) == {olivia: "owner", bob: "trader", carol: "viewer"}
    assert [i.email for i in as_of(t1).pending_invitations] == ["dan@example.com"]
    assert as_of(t1).active_tokens == []

    assert members(t2) == {olivia: "owner", bob: "admin", carol: "viewer"}
    assert [t.token_id for t in as_of(t2).active_tokens] == [token_id]

    state = as_of(t3)
    assert {m.user_id: m.role for m in state.members} == {olivia: "owner", bob: "admin"}
    assert state.pending_invitations == []
    assert [m.email for m in state.members] == ["olivia@example.com", "bob@example.com"]
    assert not as_of(t1 - timedelta(days=1)).exists


def test_export_filters_by_workspace_actor_and_time_and_redacts_secrets(identity) -> None:
    ws, (olivia, bob, _), (t1, _, _), _ = scripted_history(identity)
    log = AuditReader(identity.store)
    entries = list(log.entries(workspace_id=ws))
    actions = [e.action for e in entries]
    assert actions[0] == "identity.workspace_created"
    assert "identity.member_role_changed" in actions and all(e.workspace_id == ws for e in entries)

    changed = next(e for e in entries if e.action == "identity.member_role_changed")
    assert (changed.actor, changed.target) == (f"user:{olivia}", f"user:{bob}")
    assert (changed.before, changed.after) == (
        {"role": "trader"},
        {"user_id": bob, "role": "admin"},
    )

    by_bob = list(log.entries(workspace_id=ws, actor=f"user:{bob}", since=t1))
    assert {e.action for e in by_bob} >= {"identity.member_removed", "identity.api_token_issued"}
    assert all(e.actor == f"user:{bob}" and e.occurred_at >= t1 for e in by_bob)

    everything = list(log.entries())
    credentials = [e for e in everything if e.action in c.CREDENTIAL_EVENTS]
    assert credentials and all(REDACTED in e.after.values() for e in credentials)
    assert "token_hash" not in json.dumps([e.after for e in everything]).replace(
        f'"token_hash": "{REDACTED}"', ""
    )


def test_audit_cli_exports_replays_and_verifies_an_identity_store(identity, tmp_path) -> None:
    from plutarc_cli.main import app

    ws, (_, bob, _), (t1, t2, _), _ = scripted_history(identity)
    if identity.store.backend == "sqlite":
        args = ["--data-dir", str(tmp_path / "data")]
        (tmp_path / "data").mkdir()
        (tmp_path / "data" / "identity.sqlite").symlink_to(identity.store.sqlite_path)
    else:
        args = ["--database-url", identity.store.database_url]
    runner = CliRunner()

    out = runner.invoke(app, ["audit", "export", *args])
    assert out.exit_code == 0, out.output
    lines = [json.loads(line) for line in out.stdout.splitlines() if line.startswith("{")]
    assert lines and set(lines[0]) == {
        "position",
        "event_id",
        "occurred_at",
        "actor",
        "action",
        "workspace_id",
        "target",
        "before",
        "after",
        "correlation_id",
        "causation_id",
    }
    assert {line["action"].split(".")[0] for line in lines} == {"identity"}
    passwords = [line for line in lines if line["action"] == "identity.password_set"]
    assert len(passwords) == 3 and {p["after"]["password_hash"] for p in passwords} == {REDACTED}
    assert "$argon2id$" not in out.stdout

    out = runner.invoke(
        app, ["audit", "export", "--workspace", ws, "--actor", f"user:{bob}", *args]
    )
    assert out.exit_code == 0, out.output
    by_bob = [json.loads(line) for line in out.stdout.splitlines() if line.startswith("{")]
    assert by_bob and {(e["workspace_id"], e["actor"]) for e in by_bob} == {(ws, f"user:{bob}")}

    out = runner.invoke(
        app, ["audit", "replay", "--workspace", ws, "--as-of", t2.isoformat(), "--json", *args]
    )
    assert out.exit_code == 0, out.output
    assert len(json.loads(out.stdout)["members"]) == 3

    out = runner.invoke(
        app, ["audit", "replay", "--workspace", ws, "--as-of", t1.isoformat(), *args]
    )
    assert out.exit_code == 0, out.output
    assert "olivia@example.com" in out.stdout and "dan@example.com" in out.stdout
    assert "pending invitations" in out.stdout and "owner" in out.stdout

    before = (t1 - timedelta(days=1)).isoformat()
    out = runner.invoke(app, ["audit", "replay", "--workspace", ws, "--as-of", before, *args])
    assert out.exit_code == 4 and "did not exist" in out.output

    out = runner.invoke(app, ["audit", "verify", "--json", *args])
    assert out.exit_code == 0 and json.loads(out.stdout)["ok"] is True
