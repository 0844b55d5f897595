"""Who belongs where, from identity events: the library other services use to authorize.

Feed it every event of ``identity.events.v1`` (in partition order, duplicates allowed) and ask
``may(actor, workspace_id, permission)``. It answers from its own projection, never by calling the
identity service, so each service enforces authorization again with its own data (defence in depth).
Duplicates from a republishing relay are dropped by stream position: the relay keeps each stream's
order, so anything at or below the last applied position of its stream was applied already.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

import msgspec
from plutarc_contracts import Envelope
from plutarc_contracts import identity as c

from plutarc_access.engine import AccessEngine, AccessRequest, Decision

NOT_A_MEMBER = "the actor is not a member of this workspace"


@dataclass
class WorkspaceView:
    workspace_id: str
    kind: str
    name: str
    archived: bool = False
    members: dict[str, str] = field(default_factory=dict)


@dataclass
class TokenView:
    token_id: str
    user_id: str
    workspace_id: str
    permissions: frozenset[str]
    expires_at: datetime
    revoked: bool = False


class _State(msgspec.Struct):
    workspaces: dict[str, WorkspaceView]
    tokens: dict[str, TokenView]
    by_user: dict[str, dict[str, str]]
    positions: dict[str, int]


class Memberships:
    def __init__(self, engine: AccessEngine, now: Callable[[], datetime] | None = None) -> None:
        self.engine = engine
        self.now = now or (lambda: datetime.now(UTC))
        self.workspaces: dict[str, WorkspaceView] = {}
        self.tokens: dict[str, TokenView] = {}
        self.by_user: dict[str, dict[str, str]] = {}
        self.positions: dict[str, int] = {}

    # -- projection -------------------------------------------------------------------------------
    def apply(self, env: Envelope) -> bool:
        """Apply one event; False if it was seen before or is not about memberships."""
        if env.stream_position <= self.positions.get(env.stream_id, 0):
            return False
        p: Any = env.payload
        match p:
            case c.WorkspaceCreated():
                self.workspaces[p.workspace_id] = WorkspaceView(p.workspace_id, p.kind, p.name)
            case c.WorkspaceRenamed():
                self.workspaces[p.workspace_id].name = p.name
            case c.WorkspaceArchived():
                self.workspaces[p.workspace_id].archived = True
            case c.MemberJoined() | c.MemberRoleChanged():
                self._set_role(p.workspace_id, p.user_id, p.role)
            case c.MemberRemoved():
                self.workspaces[p.workspace_id].members.pop(p.user_id, None)
                self.by_user.get(p.user_id, {}).pop(p.workspace_id, None)
            case c.OwnershipTransferred():
                self._set_role(p.workspace_id, p.to_user_id, "owner")
                self._set_role(p.workspace_id, p.from_user_id, "admin")
            case c.ApiTokenIssued():
                self.tokens[p.token_id] = TokenView(
                    p.token_id, p.user_id, p.workspace_id, frozenset(p.permissions), p.expires_at
                )
            case c.ApiTokenRevoked():
                if p.token_id in self.tokens:
                    self.tokens[p.token_id].revoked = True
            case _:
                return False
        # Recorded only for the events handled here: they all travel on identity.events.v1, so
        # their order within a stream is the order they arrive in.
        self.positions[env.stream_id] = env.stream_position
        return True

    # -- checkpoints (plutarc_runtime.checkpoint) -------------------------------------------------
    def export_state(self) -> bytes:
        return msgspec.msgpack.encode(
            _State(self.workspaces, self.tokens, self.by_user, self.positions)
        )

    def restore_state(self, raw: bytes) -> None:
        state = msgspec.msgpack.decode(raw, type=_State)
        self.workspaces, self.tokens = state.workspaces, state.tokens
        self.by_user, self.positions = state.by_user, state.positions

    def _set_role(self, workspace_id: str, user_id: str, role: str) -> None:
        self.workspaces[workspace_id].members[user_id] = role
        self.by_user.setdefault(user_id, {})[workspace_id] = role

    # -- queries ----------------------------------------------------------------------------------
    def role_of(self, user_id: str, workspace_id: str) -> str | None:
        return self.by_user.get(user_id, {}).get(workspace_id)

    def workspaces_of(self, user_id: str) -> dict[str, str]:
        """Every workspace the user belongs to, with their role in it (the account switcher)."""
        return dict(self.by_user.get(user_id, {}))

    def resolve(self, actor: str) -> tuple[str, TokenView | None] | None:
        """(user id, token) for ``user:<id>`` or a live ``token:<id>``; None for anything else."""
        kind, _, ident = actor.partition(":")
        if kind == "user" and ident:
            return ident, None
        if kind == "token":
            token = self.tokens.get(ident)
            if token is not None and not token.revoked and token.expires_at > self.now():
                return token.user_id, token
        return None

    def may(self, actor: str, workspace_id: str, permission: str, **resource: Any) -> Decision:
        resolved = self.resolve(actor)
        if resolved is None:
            return Decision(False, ("unknown, revoked or expired actor",))
        user_id, token = resolved
        role = self.role_of(user_id, workspace_id)
        if role is None:
            return Decision(False, (NOT_A_MEMBER,))
        if token is not None:
            if token.workspace_id != workspace_id:
                return Decision(False, (NOT_A_MEMBER,))
            if permission not in token.permissions:
                return Decision(False, (f"the API token does not carry {permission}",))
        return self.engine.decide(
            AccessRequest(actor_id=user_id, role=role, permission=permission, resource=resource)
        )
