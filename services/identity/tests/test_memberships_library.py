"""The shared Memberships library answers like the identity service, from identity events alone."""

from __future__ import annotations

from uuid import UUID, uuid4

from plutarc_access import Memberships
from plutarc_contracts import default_registry
from plutarc_contracts import identity as c
from plutarc_identity.accounts import User

from .conftest import token_hash


def feed(identity, memberships: Memberships, twice: bool = False) -> None:
    registry = default_registry()
    for n in identity.store.notifications(1, 1_000_000):
        if n.topic in c.CREDENTIAL_EVENTS or n.topic.startswith("system."):
            continue  # other services read identity.events.v1 only
        env = registry.decode_event(n.state)
        memberships.apply(env)
        if twice:
            assert not memberships.apply(env), "a republished event must be dropped"


def test_memberships_answer_from_identity_events(identity, policy) -> None:
    owner, owner_id = identity.register("olivia")
    ws = identity.organisation(owner, "Desk")
    trader, trader_id = identity.register("tom")
    identity.join(ws, owner, trader_id, "trader")
    token_id = str(uuid4())
    identity.ok(
        trader,
        c.IssueApiToken(
            workspace_id=ws,
            token_id=token_id,
            name="bot",
            permissions=["bots:read", "trading:paper"],
            token_hash=token_hash("t"),
        ),
    )
    other = identity.organisation(owner, "Other")

    m = Memberships(policy, now=identity.clock.now)
    feed(identity, m, twice=True)

    personal = identity.store.get(User, UUID(trader_id)).personal_workspace_id
    assert m.workspaces_of(trader_id) == {ws: "trader", personal: "owner"}
    assert m.may(f"user:{trader_id}", ws, "trading:paper").allowed
    assert not m.may(f"user:{trader_id}", ws, "trading:live").allowed
    assert m.may(f"user:{trader_id}", other, "bots:read").reasons == (
        "the actor is not a member of this workspace",
    )
    assert m.may(f"token:{token_id}", ws, "bots:read").allowed
    assert not m.may(f"token:{token_id}", ws, "bots:create").allowed
    assert not m.may(f"token:{token_id}", other, "bots:read").allowed

    identity.ok(owner, c.ChangeMemberRole(workspace_id=ws, user_id=trader_id, role="viewer"))
    identity.ok(
        owner,
        c.InviteMember(
            workspace_id=ws,
            invitation_id=str(uuid4()),
            email="x@example.com",
            role="admin",
            token_hash=token_hash("x"),
        ),
    )
    feed(identity, m)
    assert m.role_of(trader_id, ws) == "viewer"
    assert not m.may(f"token:{token_id}", ws, "trading:paper").allowed, (
        "the token shrinks with its holder"
    )
    assert m.may(f"user:{owner_id}", ws, "invitations:create", target_role="admin").allowed
    assert not m.may(f"user:{trader_id}", ws, "invitations:create", target_role="viewer").allowed
