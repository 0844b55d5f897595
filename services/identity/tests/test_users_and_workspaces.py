"""Users, sessions and organisations on the real stores."""

from __future__ import annotations

from datetime import timedelta
from uuid import UUID, uuid4

from plutarc_contracts import identity as c
from plutarc_identity.domain import User, Workspace

from .conftest import PASSWORD_HASH, token_hash


def test_registering_creates_a_personal_workspace_owned_by_the_user(identity) -> None:
    _, user_id = identity.register("alice")
    user = identity.store.get(User, UUID(user_id))
    ws = identity.store.get(Workspace, UUID(user.personal_workspace_id))
    assert (ws.kind, ws.name) == ("personal", "Alice")
    assert {uid: m.role for uid, m in ws.members.items()} == {user_id: "owner"}
    assert user.email == "alice@example.com"


def test_registration_rejections_change_nothing(identity) -> None:
    identity.register("alice")
    fresh = {"user_id": str(uuid4()), "personal_workspace_id": str(uuid4()), "display_name": "A"}
    taken = identity.rejected(
        "anonymous",
        c.RegisterUser(email="ALICE@Example.com", password_hash=PASSWORD_HASH, **fresh),
        "identity.email_taken",
    )
    assert taken.field == "email"
    bad = identity.rejected(
        "anonymous",
        c.RegisterUser(email="not-an-email", password_hash=PASSWORD_HASH, **fresh),
        "identity.invalid_email",
    )
    assert bad.field == "email"
    plain = identity.rejected(
        "anonymous",
        c.RegisterUser(email="bob@example.com", password_hash="hunter2", **fresh),
        "identity.invalid_password_hash",
    )
    assert "plaintext" in plain.detail
    identity.rejected(
        "anonymous",
        c.RegisterUser(
            email="bob@example.com",
            password_hash=PASSWORD_HASH,
            user_id="nope",
            personal_workspace_id=str(uuid4()),
            display_name="B",
        ),
        "identity.invalid_id",
    )


def test_sessions_start_and_end_and_unknown_users_cannot_start_one(identity) -> None:
    actor, user_id = identity.register("alice")
    session_id = str(uuid4())
    started = identity.ok(
        actor, c.StartSession(session_id=session_id, user_id=user_id, token_hash=token_hash("s"))
    )
    assert started.result["session_id"] == session_id
    ghost = str(uuid4())
    identity.rejected(
        f"user:{ghost}",
        c.StartSession(session_id=str(uuid4()), user_id=ghost, token_hash=token_hash("x")),
        "identity.unknown_user",
    )
    other, _ = identity.register("bob")
    identity.rejected(other, c.EndSession(session_id=session_id), "identity.session_not_found")
    identity.ok(actor, c.EndSession(session_id=session_id))


def test_organisation_lifecycle(identity) -> None:
    owner, _ = identity.register("olivia")
    ws = identity.organisation(owner, "Tokyo Desk")
    identity.ok(owner, c.RenameWorkspace(workspace_id=ws, name="Tokyo Open Desk"))
    risk = c.RiskDefaults(
        max_order_notional="25000", max_position="100000", daily_loss_limit="5000.50"
    )
    identity.ok(
        owner,
        c.ChangeWorkspaceSettings(
            workspace_id=ws, risk=risk, billing_contact="Billing@Desk.example"
        ),
    )
    state = identity.store.get(Workspace, UUID(ws))
    assert (state.name, state.risk, state.billing_contact) == (
        "Tokyo Open Desk",
        risk,
        "billing@desk.example",
    )

    admin, admin_id = identity.register("adam")
    identity.join(ws, owner, admin_id, "admin")
    identity.rejected(admin, c.ArchiveWorkspace(workspace_id=ws), "access.forbidden")
    identity.rejected(
        admin, c.TransferOwnership(workspace_id=ws, to_user_id=admin_id), "access.forbidden"
    )
    identity.ok(owner, c.ArchiveWorkspace(workspace_id=ws))
    identity.rejected(
        owner, c.RenameWorkspace(workspace_id=ws, name="Again"), "identity.workspace_archived"
    )


def test_personal_workspaces_take_no_invitations_and_cannot_be_archived(identity) -> None:
    actor, user_id = identity.register("alice")
    personal = identity.store.get(User, UUID(user_id)).personal_workspace_id
    identity.rejected(
        actor,
        c.InviteMember(
            workspace_id=personal,
            invitation_id=str(uuid4()),
            email="x@example.com",
            role="viewer",
            token_hash=token_hash("t"),
        ),
        "identity.personal_workspace",
    )
    identity.rejected(
        actor, c.ArchiveWorkspace(workspace_id=personal), "identity.personal_workspace"
    )
    identity.rejected(actor, c.LeaveWorkspace(workspace_id=personal), "identity.personal_workspace")


def test_ownership_transfer_keeps_the_previous_owner_as_admin(identity) -> None:
    owner, owner_id = identity.register("olivia")
    ws = identity.organisation(owner)
    _, trader_id = identity.register("tom")
    identity.join(ws, owner, trader_id, "trader")
    identity.ok(owner, c.TransferOwnership(workspace_id=ws, to_user_id=trader_id))
    members = {u: m.role for u, m in identity.store.get(Workspace, UUID(ws)).members.items()}
    assert members == {owner_id: "admin", trader_id: "owner"}


def test_state_as_of_a_version_is_reconstructed_from_history(identity) -> None:
    owner, _ = identity.register("olivia")
    ws = identity.organisation(owner, "One")
    identity.clock.advance(timedelta(minutes=1))
    identity.ok(owner, c.RenameWorkspace(workspace_id=ws, name="Two"))
    assert identity.store.get(Workspace, UUID(ws), version=2).name == "One"
    assert identity.store.get(Workspace, UUID(ws)).name == "Two"


DANGEROUS = [
    "\x1b[2J",
    "a\x00b",
    "line\nbreak",
    "tab\tbed",
    "del\x7f",
    "c1\x9b31m",
    "\u202egnp.exe",
]
DANGEROUS += ["iso\u2066late\u2069", "zero\u200bwidth", "\ufeffbom", "tag\U000e0041"]


def test_names_with_control_or_format_characters_are_refused(identity) -> None:
    """Whoever sends the command (the gateway refuses them too): a name others will see cannot
    rewrite their terminal or reorder what they read."""
    owner, _ = identity.register("olivia")
    ws = identity.organisation(owner)
    for bad in DANGEROUS:
        fresh = {"user_id": str(uuid4()), "personal_workspace_id": str(uuid4())}
        commands = [
            (
                "anonymous",
                "display_name",
                c.RegisterUser(
                    email=f"{uuid4().hex}@example.com",
                    password_hash=PASSWORD_HASH,
                    display_name=bad,
                    **fresh,
                ),
            ),
            (owner, "name", c.CreateOrganisation(workspace_id=str(uuid4()), name=bad)),
            (owner, "name", c.RenameWorkspace(workspace_id=ws, name=bad)),
            (
                owner,
                "name",
                c.IssueApiToken(
                    workspace_id=ws,
                    token_id=str(uuid4()),
                    name=bad,
                    permissions=["workspace:read"],
                    token_hash=token_hash(bad),
                ),
            ),
        ]
        for actor, field, command in commands:
            refused = identity.rejected(actor, command, "identity.invalid_name")
            assert (refused.field, refused.kind) == (field, "invalid"), (bad, command)
            assert bad not in refused.detail  # the detail names the character, never prints it


def test_names_may_hold_any_script_and_emoji_with_joiners(identity) -> None:
    owner, _ = identity.register("olivia")
    for name in [
        "Zoë's Desk",
        "東京デスク",
        "\u0645\u06cc\u200c\u062e\u0648\u0627\u0647\u0645",
        "👩\u200d💻 team",
        "Ünïcode — ok",
    ]:
        ws = identity.organisation(owner, name)
        assert identity.store.get(Workspace, UUID(ws)).name == name
