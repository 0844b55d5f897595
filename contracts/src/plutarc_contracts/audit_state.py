"""A workspace as of an instant, folded from identity events: the auditors' "who could do what, when".

The fold reads events only, so it gives the same answer wherever the events come from: the identity
service's own store (`plutarc audit replay`, through `WorkspaceAsOfFold`, the identity context's
registered as-of fold) or `identity.events.v1` (the gateway's `GET /v1/workspaces/{id}/audit/state`,
or any other service). Feed it one workspace's events in stream order, up to and including the
instant; the emails of members are looked up at the end.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime

import msgspec

from plutarc_contracts import identity as c
from plutarc_contracts import identity_folds as folds
from plutarc_contracts.envelope import Envelope
from plutarc_contracts.permissions import role_rank
from plutarc_contracts.registry import Registry

USER_REGISTERED = "identity.user_registered"


class MemberState(msgspec.Struct):
    user_id: str
    email: str | None
    role: str


class InvitationState(msgspec.Struct):
    invitation_id: str
    email: str
    role: str
    expires_at: datetime


class TokenState(msgspec.Struct):
    token_id: str
    user_id: str
    name: str
    permissions: list[str]
    expires_at: datetime


class WorkspaceAsOf(msgspec.Struct):
    workspace_id: str
    as_of: datetime
    exists: bool
    name: str | None
    archived: bool
    members: list[MemberState]
    pending_invitations: list[InvitationState]
    active_tokens: list[TokenState]


class WorkspaceReplay:
    """Applies one workspace's identity event payloads, oldest first; `state()` reads the result."""

    def __init__(self, workspace_id: str) -> None:
        self.workspace_id = workspace_id
        self.exists = self.archived = False
        self.name: str | None = None
        self.members: dict[str, str] = {}
        self.invitations = folds.Invitations()
        self.tokens = folds.Tokens()

    def apply(self, p: object) -> None:
        match p:
            case c.WorkspaceCreated():
                self.exists, self.name = True, p.name
            case c.WorkspaceRenamed():
                self.name = p.name
            case c.WorkspaceArchived():
                self.archived = True
            case c.MemberJoined() | c.MemberRoleChanged() | c.MemberRemoved():
                self._roles(p)
            case c.OwnershipTransferred():
                self._roles(p)
            case _:
                self.invitations.apply(p) or self.tokens.apply(p)

    def _roles(self, p: object) -> None:
        for _, user_id, role in c.role_changes(p):
            if role is None:
                self.members.pop(user_id, None)
            else:
                self.members[user_id] = role

    def state(self, instant: datetime, email_of: Callable[[str], str | None]) -> WorkspaceAsOf:
        """The result at `instant`: invitations and tokens that expired by then are left out."""
        return WorkspaceAsOf(
            workspace_id=self.workspace_id,
            as_of=instant,
            exists=self.exists,
            name=self.name,
            archived=self.archived,
            members=sorted(
                (MemberState(uid, email_of(uid), role) for uid, role in self.members.items()),
                key=lambda m: (-role_rank(m.role), m.email or m.user_id),
            ),
            pending_invitations=sorted(
                (
                    InvitationState(i.invitation_id, i.email, i.role, i.expires_at)
                    for i in self.invitations.by_workspace.get(self.workspace_id, {}).values()
                    if i.open_at(instant)
                ),
                key=lambda i: i.email,
            ),
            active_tokens=sorted(
                (
                    TokenState(t.token_id, t.user_id, t.name, t.permissions, t.expires_at)
                    for t in self.tokens.by_id.values()
                    if t.live_at(instant)
                ),
                key=lambda t: t.token_id,
            ),
        )


class WorkspaceAsOfFold:
    """The identity context's as-of fold (`plutarc_contracts.audit.AsOfFold`) over a whole store:
    the workspace's events, plus every registration for the members' emails."""

    def __init__(self, workspace_id: str) -> None:
        self.replay = WorkspaceReplay(workspace_id)
        self.emails: dict[str, str] = {}

    def wants(self, type_name: str, workspace_id: str | None) -> bool:
        return type_name == USER_REGISTERED or workspace_id == self.replay.workspace_id

    def apply(self, env: Envelope) -> None:
        if isinstance(env.payload, c.UserRegistered):
            self.emails[env.payload.user_id] = env.payload.email
        else:
            self.replay.apply(env.payload)

    def state(self, instant: datetime) -> WorkspaceAsOf:
        return self.replay.state(instant, self.emails.get)


def register_identity_audit(registry: Registry) -> Registry:
    registry.register_as_of_fold(c.IDENTITY, WorkspaceAsOfFold)
    return registry
