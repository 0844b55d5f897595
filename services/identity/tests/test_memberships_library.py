"""The shared Memberships library answers like the identity service, from identity events alone."""

from __future__ import annotations

from typing import Any
from uuid import UUID, uuid4

from plutarc_access import Authorizer, Memberships
from plutarc_contracts import default_registry
from plutarc_contracts import identity as c
from plutarc_contracts.rejections import DomainError
from plutarc_identity.domain import User

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


def refusal(authorizer: Authorizer, actor: str, ws: str, permission: str, **res: Any) -> str:
    """ "" when allowed, else the refusal's code."""
    try:
        authorizer.require(authorizer.principal(actor), ws, permission, **res)
    except DomainError as exc:
        return exc.code
    return ""


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
    a = m.authorizer()

    personal = identity.store.get(User, UUID(trader_id)).personal_workspace_id
    assert m.workspaces_of(trader_id) == {ws: "trader", personal: "owner"}
    assert not refusal(a, f"user:{trader_id}", ws, "trading:paper")
    assert refusal(a, f"user:{trader_id}", ws, "trading:live")
    assert refusal(a, f"user:{trader_id}", other, "bots:read") == "workspace.not_found"
    assert not refusal(a, f"token:{token_id}", ws, "bots:read")
    assert refusal(a, f"token:{token_id}", ws, "bots:create")
    assert refusal(a, f"token:{token_id}", other, "bots:read")

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
    assert refusal(a, f"token:{token_id}", ws, "trading:paper"), "the token shrinks with its holder"
    assert not refusal(a, f"user:{owner_id}", ws, "invitations:create", target_role="admin")
    assert refusal(a, f"user:{trader_id}", ws, "invitations:create", target_role="viewer")


def test_identity_and_the_projection_authorize_alike(identity, policy) -> None:
    """One authorizer over two sources: identity's aggregates and any service's projection give
    the same answer, code for code, for every actor, workspace and permission."""
    from plutarc_contracts.permissions import PERMISSIONS
    from plutarc_identity.memberships import StoreMemberships

    owner, _ = identity.register("olivia")
    ws = identity.organisation(owner, "Desk")
    actors = [owner]
    for role in ("admin", "manager", "trader", "viewer"):
        actor, user_id = identity.register(role)
        identity.join(ws, owner, user_id, role)
        actors.append(actor)
    outsider, _ = identity.register("eve")
    token_id = str(uuid4())
    identity.ok(
        actors[3],
        c.IssueApiToken(
            workspace_id=ws,
            token_id=token_id,
            name="bot",
            permissions=["bots:read"],
            token_hash=token_hash("t"),
        ),
    )
    actors += [outsider, f"token:{token_id}", "token:nope", "anonymous"]
    m = Memberships(policy, now=identity.clock.now)
    feed(identity, m)
    projection = m.authorizer()
    own = Authorizer(policy, StoreMemberships(identity.store), identity.clock.now)
    compared = 0
    for actor in actors:
        for permission in PERMISSIONS:
            for resource in ({}, {"target_role": "admin"}):
                assert refusal(own, actor, ws, permission, **resource) == refusal(
                    projection, actor, ws, permission, **resource
                ), (actor, permission, resource)
                compared += 1
    assert compared == len(actors) * len(PERMISSIONS) * 2
