"""API tokens, and the wall between workspaces."""

from __future__ import annotations

from uuid import uuid4

import pytest
from plutarc_contracts import identity as c
from plutarc_contracts.permissions import ROLES

from .conftest import token_hash


def issue(identity, actor: str, ws: str, permissions: list[str]) -> str:
    token_id = str(uuid4())
    identity.ok(
        actor,
        c.IssueApiToken(
            workspace_id=ws,
            token_id=token_id,
            name="ci",
            permissions=permissions,
            token_hash=token_hash(token_id),
        ),
    )
    return token_id


def test_token_carries_a_subset_of_its_holders_permissions_and_shrinks_with_them(identity) -> None:
    owner, _ = identity.register("olivia")
    ws = identity.organisation(owner)
    manager, manager_id = identity.register("mia")
    identity.join(ws, owner, manager_id, "manager")

    identity.rejected(
        manager,
        c.IssueApiToken(
            workspace_id=ws,
            token_id=str(uuid4()),
            name="x",
            permissions=["billing:manage"],
            token_hash=token_hash("x"),
        ),
        "identity.token_escalation",
    )
    token_id = issue(identity, manager, ws, ["invitations:create", "workspace:read"])
    as_token = f"token:{token_id}"
    identity.ok(
        as_token,
        c.InviteMember(
            workspace_id=ws,
            invitation_id=str(uuid4()),
            email="a@example.com",
            role="viewer",
            token_hash=token_hash("a"),
        ),
    )
    identity.rejected(as_token, c.RenameWorkspace(workspace_id=ws, name="nope"), "access.forbidden")

    identity.ok(owner, c.ChangeMemberRole(workspace_id=ws, user_id=manager_id, role="trader"))
    identity.rejected(
        as_token,
        c.InviteMember(
            workspace_id=ws,
            invitation_id=str(uuid4()),
            email="b@example.com",
            role="viewer",
            token_hash=token_hash("b"),
        ),
        "access.forbidden",
    )

    identity.ok(manager, c.RevokeApiToken(workspace_id=ws, token_id=token_id))
    identity.rejected(
        as_token,
        c.InviteMember(
            workspace_id=ws,
            invitation_id=str(uuid4()),
            email="c@example.com",
            role="viewer",
            token_hash=token_hash("c"),
        ),
        "access.token_revoked",
    )
    identity.rejected(
        manager, c.RevokeApiToken(workspace_id=ws, token_id=token_id), "identity.token_revoked"
    )


def test_a_token_is_bound_to_its_workspace(identity) -> None:
    owner, _ = identity.register("olivia")
    a, b = identity.organisation(owner, "A"), identity.organisation(owner, "B")
    token_id = issue(identity, owner, a, ["workspace:update"])
    identity.rejected(
        f"token:{token_id}",
        c.RenameWorkspace(workspace_id=b, name="x"),
        "workspace.not_found",
    )
    identity.ok(f"token:{token_id}", c.RenameWorkspace(workspace_id=a, name="A2"))


def b_commands(b: str, target_user: str) -> list:
    fresh = lambda: str(uuid4())  # noqa: E731
    return [
        c.RenameWorkspace(workspace_id=b, name="pwned"),
        c.ChangeWorkspaceSettings(workspace_id=b, risk=c.RiskDefaults(max_position="1")),
        c.ArchiveWorkspace(workspace_id=b),
        c.TransferOwnership(workspace_id=b, to_user_id=target_user),
        c.InviteMember(
            workspace_id=b,
            invitation_id=fresh(),
            email="x@example.com",
            role="viewer",
            token_hash=token_hash("x"),
        ),
        c.ChangeMemberRole(workspace_id=b, user_id=target_user, role="viewer"),
        c.RemoveMember(workspace_id=b, user_id=target_user),
        c.LeaveWorkspace(workspace_id=b),
        c.IssueApiToken(
            workspace_id=b,
            token_id=fresh(),
            name="t",
            permissions=["workspace:read"],
            token_hash=token_hash("t"),
        ),
    ]


@pytest.mark.parametrize("role", ROLES)
def test_a_member_of_a_with_any_role_can_change_nothing_of_b(identity, role: str) -> None:
    owner_a, _ = identity.register("anna")
    owner_b, owner_b_id = identity.register("ben")
    a, b = identity.organisation(owner_a, "A"), identity.organisation(owner_b, "B")
    _, member_id = identity.register("mo")
    identity.join(a, owner_a, member_id, role)
    for command in b_commands(b, owner_b_id):
        identity.rejected(f"user:{member_id}", command, "workspace.not_found")
