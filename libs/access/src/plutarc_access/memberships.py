"""Who belongs where, from identity events: the library other services use to authorize.

Feed it every event of ``identity.events.v1`` (in partition order, duplicates allowed) and
authorize with ``memberships.authorizer()`` (plutarc_access.authorizer). It answers from its own projection, never by calling the
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
from plutarc_contracts.identity_folds import Tokens

from plutarc_access.authorizer import Authorizer, Grant
from plutarc_access.engine import AccessEngine


@dataclass
class WorkspaceView:
    workspace_id: str
    kind: str
    name: str
    archived: bool = False
    members: dict[str, str] = field(default_factory=dict)


class _State(msgspec.Struct):
    workspaces: dict[str, WorkspaceView]
    tokens: Tokens
    by_user: dict[str, dict[str, str]]
    positions: dict[str, int]


class Memberships:
    def __init__(self, engine: AccessEngine, now: Callable[[], datetime] | None = None) -> None:
        self.engine = engine
        self.now = now or (lambda: datetime.now(UTC))
        self.workspaces: dict[str, WorkspaceView] = {}
        self.tokens = Tokens()  # the one reading of token events (plutarc_contracts.identity_folds)
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
            case (
                c.MemberJoined()
                | c.MemberRoleChanged()
                | c.MemberRemoved()
                | c.OwnershipTransferred()
            ):
                for workspace_id, user_id, role in c.role_changes(p):
                    self._set_role(workspace_id, user_id, role)
            case c.ApiTokenIssued() | c.ApiTokenRevoked():
                self.tokens.apply(p)
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

    def _set_role(self, workspace_id: str, user_id: str, role: str | None) -> None:
        if role is None:
            self.workspaces[workspace_id].members.pop(user_id, None)
            self.by_user.get(user_id, {}).pop(workspace_id, None)
            return
        self.workspaces[workspace_id].members[user_id] = role
        self.by_user.setdefault(user_id, {})[workspace_id] = role

    # -- queries ----------------------------------------------------------------------------------
    def role_of(self, user_id: str, workspace_id: str) -> str | None:
        return self.by_user.get(user_id, {}).get(workspace_id)

    def workspaces_of(self, user_id: str) -> dict[str, str]:
        """Every workspace the user belongs to, with their role in it (the account switcher)."""
        return dict(self.by_user.get(user_id, {}))

    def grant(self, token_id: str) -> Grant | None:
        token = self.tokens.by_id.get(token_id)
        if token is None:
            return None
        return Grant(
            token.token_id,
            token.user_id,
            token.workspace_id,
            frozenset(token.permissions),
            token.expires_at,
            token.revoked,
        )

    def authorizer(self, now: Callable[[], datetime] | None = None) -> Authorizer:
        """The one authorizer, answering from this projection."""
        return Authorizer(self.engine, self, now or self.now)
