"""Invitations, role changes and the rules that guard them."""

from __future__ import annotations

from datetime import timedelta
from uuid import UUID, uuid4

import pytest
from plutarc_contracts import identity as c
from plutarc_identity.domain import Workspace

from .conftest import token_hash


def roles(identity, ws: str) -> dict[str, str]:
    return {u: m.role for u, m in identity.store.get(Workspace, UUID(ws)).members.items()}


def invite(
    identity, ws: str, inviter: str, email: str, role: str, days: int = 7
) -> tuple[str, str]:
    invitation_id, secret = str(uuid4()), uuid4().hex
    identity.ok(
        inviter,
        c.InviteMember(
            workspace_id=ws,
            invitation_id=invitation_id,
            email=email,
            role=role,
            token_hash=token_hash(secret),
            expires_in_days=days,
        ),
    )
    return invitation_id, secret


@pytest.fixture
def desk(identity):
    owner, owner_id = identity.register("olivia")
    ws = identity.organisation(owner)
    return identity, ws, owner, owner_id


def test_invitation_is_accepted_by_its_invitee_once(desk) -> None:
    identity, ws, owner, owner_id = desk
    bob, bob_id = identity.register("bob")
    mallory, _ = identity.register("mallory")
    inv, secret = invite(identity, ws, owner, "bob@example.com", "trader")

    identity.rejected(
        mallory,
        c.AcceptInvitation(workspace_id=ws, invitation_id=inv, token_hash=token_hash(secret)),
        "identity.invitation_mismatch",
    )
    identity.rejected(
        bob,
        c.AcceptInvitation(workspace_id=ws, invitation_id=inv, token_hash=token_hash("guess")),
        "identity.invitation_mismatch",
    )
    identity.rejected(
        bob,
        c.AcceptInvitation(
            workspace_id=ws, invitation_id=str(uuid4()), token_hash=token_hash(secret)
        ),
        "identity.invitation_not_found",
    )
    identity.ok(
        bob, c.AcceptInvitation(workspace_id=ws, invitation_id=inv, token_hash=token_hash(secret))
    )
    assert roles(identity, ws) == {owner_id: "owner", bob_id: "trader"}
    identity.rejected(
        bob,
        c.AcceptInvitation(workspace_id=ws, invitation_id=inv, token_hash=token_hash(secret)),
        "identity.invitation_used",
    )


def test_expired_revoked_and_declined_invitations_cannot_be_accepted(desk) -> None:
    identity, ws, owner, _ = desk
    bob, _ = identity.register("bob")
    expired, s1 = invite(identity, ws, owner, "bob@example.com", "viewer", days=1)
    identity.clock.advance(timedelta(days=1, seconds=1))
    identity.rejected(
        bob,
        c.AcceptInvitation(workspace_id=ws, invitation_id=expired, token_hash=token_hash(s1)),
        "identity.invitation_expired",
    )

    revoked, s2 = invite(identity, ws, owner, "bob@example.com", "viewer")
    identity.ok(owner, c.RevokeInvitation(workspace_id=ws, invitation_id=revoked))
    identity.rejected(
        bob,
        c.AcceptInvitation(workspace_id=ws, invitation_id=revoked, token_hash=token_hash(s2)),
        "identity.invitation_revoked",
    )

    declined, s3 = invite(identity, ws, owner, "bob@example.com", "viewer")
    identity.ok(
        bob, c.DeclineInvitation(workspace_id=ws, invitation_id=declined, token_hash=token_hash(s3))
    )
    identity.rejected(
        bob,
        c.AcceptInvitation(workspace_id=ws, invitation_id=declined, token_hash=token_hash(s3)),
        "identity.invitation_used",
    )


def test_resend_gives_a_new_token_and_kills_the_old_one(desk) -> None:
    identity, ws, owner, _ = desk
    bob, bob_id = identity.register("bob")
    inv, old = invite(identity, ws, owner, "bob@example.com", "manager", days=1)
    identity.clock.advance(timedelta(days=2))
    new = uuid4().hex
    identity.ok(
        owner, c.ResendInvitation(workspace_id=ws, invitation_id=inv, token_hash=token_hash(new))
    )
    identity.rejected(
        bob,
        c.AcceptInvitation(workspace_id=ws, invitation_id=inv, token_hash=token_hash(old)),
        "identity.invitation_mismatch",
    )
    identity.ok(
        bob, c.AcceptInvitation(workspace_id=ws, invitation_id=inv, token_hash=token_hash(new))
    )
    assert roles(identity, ws)[bob_id] == "manager"


def test_nobody_invites_or_grants_above_their_own_role(desk) -> None:
    identity, ws, owner, _ = desk
    manager, manager_id = identity.register("mia")
    admin, admin_id = identity.register("adam")
    viewer, viewer_id = identity.register("vic")
    identity.join(ws, owner, manager_id, "manager")
    identity.join(ws, owner, admin_id, "admin")
    identity.join(ws, manager, viewer_id, "viewer")

    identity.rejected(
        manager,
        c.InviteMember(
            workspace_id=ws,
            invitation_id=str(uuid4()),
            email="z@example.com",
            role="admin",
            token_hash=token_hash("t"),
        ),
        "access.role_escalation",
    )
    identity.rejected(
        admin,
        c.InviteMember(
            workspace_id=ws,
            invitation_id=str(uuid4()),
            email="z@example.com",
            role="owner",
            token_hash=token_hash("t"),
        ),
        "access.role_escalation",
    )
    identity.rejected(
        admin,
        c.ChangeMemberRole(workspace_id=ws, user_id=viewer_id, role="owner"),
        "access.role_escalation",
    )
    identity.rejected(
        viewer,
        c.ChangeMemberRole(workspace_id=ws, user_id=manager_id, role="viewer"),
        "access.forbidden",
    )
    identity.rejected(
        admin,
        c.ChangeMemberRole(workspace_id=ws, user_id=admin_id, role="manager"),
        "access.self_role_change",
    )
    identity.rejected(
        owner,
        c.ChangeMemberRole(workspace_id=ws, user_id=str(uuid4()), role="viewer"),
        "identity.member_not_found",
    )
    identity.ok(admin, c.ChangeMemberRole(workspace_id=ws, user_id=viewer_id, role="admin"))
    identity.ok(owner, c.ChangeMemberRole(workspace_id=ws, user_id=admin_id, role="owner"))


def test_the_last_owner_cannot_leave_be_removed_or_be_demoted(desk) -> None:
    identity, ws, owner, owner_id = desk
    admin, admin_id = identity.register("adam")
    identity.join(ws, owner, admin_id, "admin")
    identity.rejected(owner, c.LeaveWorkspace(workspace_id=ws), "identity.last_owner")
    identity.rejected(
        admin, c.RemoveMember(workspace_id=ws, user_id=owner_id), "access.role_escalation"
    )
    identity.rejected(
        admin,
        c.ChangeMemberRole(workspace_id=ws, user_id=owner_id, role="viewer"),
        "access.role_escalation",
    )

    # With a second owner, the first may go.
    identity.ok(owner, c.ChangeMemberRole(workspace_id=ws, user_id=admin_id, role="owner"))
    identity.ok(owner, c.LeaveWorkspace(workspace_id=ws))
    identity.rejected(admin, c.LeaveWorkspace(workspace_id=ws), "identity.last_owner")
    assert roles(identity, ws) == {admin_id: "owner"}


def test_members_are_removed_only_from_below(desk) -> None:
    identity, ws, owner, owner_id = desk
    admin, admin_id = identity.register("adam")
    trader, trader_id = identity.register("tom")
    identity.join(ws, owner, admin_id, "admin")
    identity.join(ws, owner, trader_id, "trader")
    identity.rejected(trader, c.RemoveMember(workspace_id=ws, user_id=admin_id), "access.forbidden")
    identity.ok(admin, c.RemoveMember(workspace_id=ws, user_id=trader_id))
    assert roles(identity, ws) == {owner_id: "owner", admin_id: "admin"}
