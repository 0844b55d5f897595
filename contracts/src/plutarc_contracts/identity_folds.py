"""The one reading of identity's invitation and API-token events, shared by every fold of them.

The gateway's views, the `Memberships` projection every service authorizes with, and the auditors'
as-of fold all keep invitations or tokens; each keeps them through these folds, so what an event
means is written once (as `identity.role_changes` is for memberships). Events state outcomes, so
each case is a plain read. Identity's own aggregates are its write model and fold their own events.
"""

from __future__ import annotations

from datetime import datetime

import msgspec

from plutarc_contracts import identity as c


class InvitationState(msgspec.Struct, kw_only=True):
    invitation_id: str
    workspace_id: str
    email: str
    role: str
    expires_at: datetime
    status: str = "pending"  # pending | accepted | declined | revoked | expired

    def open_at(self, instant: datetime) -> bool:
        return self.status == "pending" and self.expires_at > instant


class Invitations(msgspec.Struct):
    """Invitations by workspace, then by id."""

    by_workspace: dict[str, dict[str, InvitationState]] = {}

    def get(self, workspace_id: str, invitation_id: str) -> InvitationState | None:
        return self.by_workspace.get(workspace_id, {}).get(invitation_id)

    def apply(self, p: object) -> bool:
        match p:
            case c.InvitationCreated():
                self.by_workspace.setdefault(p.workspace_id, {})[p.invitation_id] = InvitationState(
                    invitation_id=p.invitation_id,
                    workspace_id=p.workspace_id,
                    email=p.email,
                    role=p.role,
                    expires_at=p.expires_at,
                )
            case c.InvitationResent():
                if inv := self.get(p.workspace_id, p.invitation_id):
                    inv.expires_at, inv.status = p.expires_at, "pending"
            case c.InvitationAccepted() | c.InvitationDeclined() | c.InvitationRevoked():
                if inv := self.get(p.workspace_id, p.invitation_id):
                    inv.status = _CLOSED[type(p)]
            case c.InvitationExpired():
                if inv := self.get(p.workspace_id, p.invitation_id):
                    inv.status = "expired"
            case _:
                return False
        return True


_CLOSED: dict[type, str] = {
    c.InvitationAccepted: "accepted",
    c.InvitationDeclined: "declined",
    c.InvitationRevoked: "revoked",
}


class TokenState(msgspec.Struct, kw_only=True):
    token_id: str
    user_id: str
    workspace_id: str
    name: str
    permissions: list[str]
    expires_at: datetime
    revoked: bool = False

    def live_at(self, instant: datetime) -> bool:
        return not self.revoked and self.expires_at > instant


class Tokens(msgspec.Struct):
    """API tokens by id (no secrets: the hash travels on the credentials topic only)."""

    by_id: dict[str, TokenState] = {}

    def apply(self, p: object) -> bool:
        match p:
            case c.ApiTokenIssued():
                earlier = self.by_id.get(p.token_id)
                self.by_id[p.token_id] = TokenState(
                    token_id=p.token_id,
                    user_id=p.user_id,
                    workspace_id=p.workspace_id,
                    name=p.name,
                    permissions=list(p.permissions),
                    expires_at=p.expires_at,
                    revoked=earlier.revoked if earlier else False,
                )
            case c.ApiTokenRevoked():
                if token := self.by_id.get(p.token_id):
                    token.revoked = True
            case _:
                return False
        return True
