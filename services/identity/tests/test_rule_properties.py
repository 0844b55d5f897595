"""Property tests: random command sequences by random members never break the workspace rules.

Each example drives the real command path on a real SQLite store; the invariants are checked on the
stored events (with their actors), so a rule broken anywhere in the path shows up.
"""

from __future__ import annotations

from uuid import UUID, uuid4

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from plutarc_contracts import CommandAccepted, default_registry
from plutarc_contracts import identity as c
from plutarc_contracts.permissions import ROLES, role_rank
from plutarc_identity.domain import Workspace

from .conftest import make_identity, token_hash

USERS = 4
step = st.tuples(
    st.sampled_from(["invite_accept", "change_role", "remove", "leave", "transfer"]),
    st.integers(0, USERS - 1),
    st.integers(0, USERS - 1),
    st.sampled_from(ROLES),
)


@settings(
    max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(steps=st.lists(step, min_size=1, max_size=25))
def test_random_command_sequences_keep_every_rule(steps, tmp_path_factory, request, policy) -> None:
    identity = make_identity("sqlite", tmp_path_factory.mktemp("prop"), request, policy)
    try:
        users = [identity.register(f"u{i}") for i in range(USERS)]
        ws = identity.organisation(users[0][0])
        for kind, a, b, role in steps:
            (actor, _), (_, target_id) = users[a], users[b]
            if kind == "invite_accept":
                inv, secret = str(uuid4()), uuid4().hex
                reply = identity.send(
                    actor,
                    c.InviteMember(
                        workspace_id=ws,
                        invitation_id=inv,
                        email=identity.emails[target_id],
                        role=role,
                        token_hash=token_hash(secret),
                    ),
                )
                if isinstance(reply, CommandAccepted):
                    identity.send(
                        f"user:{target_id}",
                        c.AcceptInvitation(
                            workspace_id=ws, invitation_id=inv, token_hash=token_hash(secret)
                        ),
                    )
            elif kind == "change_role":
                identity.send(
                    actor, c.ChangeMemberRole(workspace_id=ws, user_id=target_id, role=role)
                )
            elif kind == "remove":
                identity.send(actor, c.RemoveMember(workspace_id=ws, user_id=target_id))
            elif kind == "leave":
                identity.send(actor, c.LeaveWorkspace(workspace_id=ws))
            else:
                identity.send(actor, c.TransferOwnership(workspace_id=ws, to_user_id=target_id))
            check_invariants(identity, ws)
    finally:
        identity.store.close()


def check_invariants(identity, ws: str) -> None:
    registry = default_registry()
    members: dict[str, str] = {}
    for n in identity.store.notifications(1, 1_000_000):
        if n.originator_id != UUID(ws):
            continue
        env = registry.decode_event(n.state)
        p = env.payload
        actor_id = env.actor.removeprefix("user:")
        actor_role = members.get(actor_id)
        if isinstance(p, c.MemberJoined):
            if p.via == "invitation":
                assert p.user_id not in members
            members[p.user_id] = p.role
        elif isinstance(p, c.InvitationCreated):
            assert actor_role is not None, "only members invite"
            assert role_rank(p.role) <= role_rank(actor_role), "nobody invites above their own role"
            assert p.role != "owner" or actor_role == "owner", "only an owner makes owners"
        elif isinstance(p, c.MemberRoleChanged):
            assert p.user_id != actor_id, "nobody changes their own role"
            assert actor_role is not None and role_rank(p.role) <= role_rank(actor_role)
            assert p.role != "owner" or actor_role == "owner", "only an owner makes owners"
            assert role_rank(p.previous_role) <= role_rank(actor_role)
            members[p.user_id] = p.role
        elif isinstance(p, c.MemberRemoved):
            del members[p.user_id]
        elif isinstance(p, c.OwnershipTransferred):
            assert actor_role == "owner", "only an owner transfers ownership"
            members[p.to_user_id], members[p.from_user_id] = "owner", "admin"
        if not isinstance(p, c.WorkspaceCreated):  # its owner joins in the same transaction
            assert "owner" in members.values(), "a workspace always keeps an owner"
    state = identity.store.get(Workspace, UUID(ws))
    assert {u: m.role for u, m in state.members.items()} == members
