"""The Workspace aggregate: a personal workspace or an organisation, its members and invitations.

Invariants live here, whatever the caller checked before: a workspace always keeps an owner,
nobody grants a role above their own, only an owner makes owners, archives or transfers ownership,
nobody changes their own role, and invitations are single-use and expire.
"""

from __future__ import annotations

import hmac
from datetime import datetime, timedelta
from typing import ClassVar
from uuid import UUID

import msgspec
from plutarc_contracts import identity as c
from plutarc_contracts.permissions import role_rank
from plutarc_runtime.domain import Aggregate

from . import errors
from .ids import check_name


class Member(msgspec.Struct, kw_only=True):
    role: c.Role
    joined_at: datetime


class Invitation(msgspec.Struct, kw_only=True):
    invitation_id: str
    email: str
    role: c.Role
    token_hash: str
    expires_at: datetime
    status: str = "pending"  # pending | accepted | declined | revoked | expired


class Workspace(Aggregate):
    stream_type: ClassVar[str] = "identity.workspace"

    workspace_id: str
    kind: c.WorkspaceKind
    name: str
    archived: bool
    members: dict[str, Member]
    invitations: dict[str, Invitation]
    risk: c.RiskDefaults
    billing_contact: str | None

    # -- creation ---------------------------------------------------------------------------------
    @classmethod
    def create(
        cls, workspace_id: str, kind: c.WorkspaceKind, name: str, creator: str, at: datetime
    ) -> Workspace:
        check_name(name, "name")
        ws = cls(UUID(workspace_id))
        ws._trigger(
            c.WorkspaceCreated(workspace_id=workspace_id, kind=kind, name=name, created_by=creator),
            at,
        )
        ws._trigger(
            c.MemberJoined(
                workspace_id=workspace_id, user_id=creator, role="owner", via="creation"
            ),
            at,
        )
        return ws

    # -- queries ----------------------------------------------------------------------------------
    def role_of(self, user_id: str) -> c.Role | None:
        member = self.members.get(user_id)
        return member.role if member else None

    def owners(self) -> list[str]:
        return [uid for uid, m in self.members.items() if m.role == "owner"]

    def _require_active(self) -> None:
        if self.archived:
            raise errors.WorkspaceArchived(f"workspace {self.workspace_id} is archived")

    def _require_organisation(self, what: str) -> None:
        if self.kind == "personal":
            raise errors.PersonalWorkspace(f"a personal workspace cannot {what}")

    def _actor_role(self, actor: str) -> c.Role:
        role = self.role_of(actor)
        if role is None:
            raise errors.WorkspaceNotFound(f"workspace {self.workspace_id} not found")
        return role

    def _member(self, user_id: str) -> Member:
        member = self.members.get(user_id)
        if member is None:
            raise errors.NotAMember(f"user {user_id} is not a member", field="user_id")
        return member

    def _guard_last_owner(self, user_id: str, what: str) -> None:
        if self.members[user_id].role == "owner" and len(self.owners()) == 1:
            raise errors.LastOwner(f"the last owner cannot {what}: make another owner first")

    # -- commands ---------------------------------------------------------------------------------
    def rename(self, actor: str, name: str, at: datetime) -> None:
        self._actor_role(actor)
        self._require_active()
        check_name(name, "name")
        if name != self.name:
            self._trigger(
                c.WorkspaceRenamed(
                    workspace_id=self.workspace_id, previous_name=self.name, name=name
                ),
                at,
            )

    def change_settings(
        self, actor: str, risk: c.RiskDefaults, billing_contact: str | None, at: datetime
    ) -> None:
        self._actor_role(actor)
        self._require_active()
        if risk != self.risk or billing_contact != self.billing_contact:
            self._trigger(
                c.WorkspaceSettingsChanged(
                    workspace_id=self.workspace_id,
                    previous_risk=self.risk,
                    risk=risk,
                    previous_billing_contact=self.billing_contact,
                    billing_contact=billing_contact,
                ),
                at,
            )

    def archive(self, actor: str, at: datetime) -> None:
        if self._actor_role(actor) != "owner":
            raise errors.OwnerOnly("only an owner archives a workspace")
        self._require_organisation("be archived")
        self._require_active()
        self._trigger(c.WorkspaceArchived(workspace_id=self.workspace_id), at)

    def transfer_ownership(self, actor: str, to_user: str, at: datetime) -> None:
        if self._actor_role(actor) != "owner":
            raise errors.OwnerOnly("only an owner transfers ownership")
        self._require_organisation("change owner")
        self._require_active()
        target = self._member(to_user)
        if to_user == actor:
            raise errors.SelfRoleChange("you are the owner already", field="to_user_id")
        self._trigger(
            c.OwnershipTransferred(
                workspace_id=self.workspace_id,
                from_user_id=actor,
                to_user_id=to_user,
                to_previous_role=target.role,
                from_new_role="admin",
            ),
            at,
        )

    def change_role(self, actor: str, user_id: str, role: c.Role, at: datetime) -> None:
        actor_role = self._actor_role(actor)
        self._require_active()
        if user_id == actor:
            raise errors.SelfRoleChange("nobody changes their own role", field="user_id")
        target = self._member(user_id)
        self._check_grant(actor_role, role)
        if role_rank(target.role) > role_rank(actor_role):
            raise errors.RoleEscalation(f"a {actor_role} cannot change the role of a {target.role}")
        if target.role == role:
            return
        if target.role == "owner":
            self._guard_last_owner(user_id, "be demoted")
        self._trigger(
            c.MemberRoleChanged(
                workspace_id=self.workspace_id,
                user_id=user_id,
                previous_role=target.role,
                role=role,
            ),
            at,
        )

    def remove_member(self, actor: str, user_id: str, at: datetime) -> None:
        actor_role = self._actor_role(actor)
        self._require_active()
        if user_id == actor:
            raise errors.InvalidInput("to leave a workspace, leave it", field="user_id")
        target = self._member(user_id)
        if role_rank(target.role) > role_rank(actor_role):
            raise errors.RoleEscalation(f"a {actor_role} cannot remove a {target.role}")
        self._guard_last_owner(user_id, "be removed")
        self._trigger(
            c.MemberRemoved(
                workspace_id=self.workspace_id,
                user_id=user_id,
                previous_role=target.role,
                reason="removed",
            ),
            at,
        )

    def leave(self, actor: str, at: datetime) -> None:
        role = self._actor_role(actor)
        self._require_organisation("be left by its owner")
        self._guard_last_owner(actor, "leave")
        self._trigger(
            c.MemberRemoved(
                workspace_id=self.workspace_id,
                user_id=actor,
                previous_role=role,
                reason="left",
            ),
            at,
        )

    @staticmethod
    def _check_grant(actor_role: str, role: str) -> None:
        if role == "owner" and actor_role != "owner":
            raise errors.RoleEscalation("only an owner makes owners", field="role")
        if role_rank(role) > role_rank(actor_role):
            raise errors.RoleEscalation(f"a {actor_role} cannot grant {role}", field="role")

    # -- invitations ------------------------------------------------------------------------------
    def invite(
        self,
        actor: str,
        invitation_id: str,
        email: str,
        role: c.Role,
        token_hash: str,
        expires_in: timedelta,
        at: datetime,
    ) -> None:
        actor_role = self._actor_role(actor)
        self._require_organisation("have invitations")
        self._require_active()
        self._check_grant(actor_role, role)
        if invitation_id in self.invitations:
            raise errors.AlreadyInvited(f"invitation {invitation_id} exists", field="invitation_id")
        for inv in self.invitations.values():
            if inv.email == email and inv.status == "pending" and inv.expires_at > at:
                raise errors.AlreadyInvited(f"{email} has a pending invitation", field="email")
        self._trigger(
            c.InvitationCreated(
                workspace_id=self.workspace_id,
                invitation_id=invitation_id,
                email=email,
                role=role,
                expires_at=at + expires_in,
            ),
            at,
        )
        self._set_token(invitation_id, token_hash, at + expires_in, at)

    def _set_token(
        self, invitation_id: str, token_hash: str, expires_at: datetime, at: datetime
    ) -> None:
        self._trigger(
            c.InvitationTokenSet(
                workspace_id=self.workspace_id,
                invitation_id=invitation_id,
                token_hash=token_hash,
                expires_at=expires_at,
            ),
            at,
        )

    def invitation(self, invitation_id: str) -> Invitation:
        inv = self.invitations.get(invitation_id)
        if inv is None:
            raise errors.InvitationNotFound(f"invitation {invitation_id} not found")
        return inv

    def _open_invitation(
        self, invitation_id: str, at: datetime, *, allow_expired: bool = False
    ) -> Invitation:
        inv = self.invitation(invitation_id)
        if inv.status == "revoked":
            raise errors.InvitationRevoked("this invitation was revoked")
        if inv.status == "expired" and not allow_expired:
            raise errors.InvitationExpired("this invitation has expired; ask for it to be resent")
        if inv.status in ("accepted", "declined"):
            raise errors.InvitationUsed(f"this invitation was {inv.status} already")
        if not allow_expired and inv.expires_at <= at:
            raise errors.InvitationExpired("this invitation has expired; ask for it to be resent")
        return inv

    def resend_invitation(
        self, actor: str, invitation_id: str, token_hash: str, expires_in: timedelta, at: datetime
    ) -> None:
        actor_role = self._actor_role(actor)
        self._require_active()
        inv = self._open_invitation(invitation_id, at, allow_expired=True)
        self._check_grant(actor_role, inv.role)
        self._trigger(
            c.InvitationResent(
                workspace_id=self.workspace_id,
                invitation_id=invitation_id,
                expires_at=at + expires_in,
            ),
            at,
        )
        self._set_token(invitation_id, token_hash, at + expires_in, at)

    def revoke_invitation(self, actor: str, invitation_id: str, at: datetime) -> None:
        actor_role = self._actor_role(actor)
        inv = self._open_invitation(invitation_id, at, allow_expired=True)
        self._check_grant(actor_role, inv.role)
        self._trigger(
            c.InvitationRevoked(workspace_id=self.workspace_id, invitation_id=invitation_id), at
        )

    def _check_invitee(self, inv: Invitation, user_id: str, email: str, token_hash: str) -> None:
        if not hmac.compare_digest(inv.token_hash, token_hash) or inv.email != email:
            raise errors.InvitationMismatch("this invitation is not for you, or its token is wrong")

    def accept_invitation(
        self, invitation_id: str, user_id: str, email: str, token_hash: str, at: datetime
    ) -> None:
        self._require_active()
        inv = self._open_invitation(invitation_id, at)
        self._check_invitee(inv, user_id, email, token_hash)
        if user_id in self.members:
            raise errors.AlreadyMember("you are a member of this workspace already")
        self._trigger(
            c.InvitationAccepted(
                workspace_id=self.workspace_id, invitation_id=invitation_id, user_id=user_id
            ),
            at,
        )
        self._trigger(
            c.MemberJoined(
                workspace_id=self.workspace_id,
                user_id=user_id,
                role=inv.role,
                via="invitation",
                invitation_id=invitation_id,
            ),
            at,
        )

    def decline_invitation(
        self, invitation_id: str, user_id: str, email: str, token_hash: str, at: datetime
    ) -> None:
        inv = self._open_invitation(invitation_id, at)
        self._check_invitee(inv, user_id, email, token_hash)
        self._trigger(
            c.InvitationDeclined(
                workspace_id=self.workspace_id, invitation_id=invitation_id, user_id=user_id
            ),
            at,
        )

    def expire_invitation(self, invitation_id: str, at: datetime) -> bool:
        """Record that a pending invitation passed its expiry; False if there is nothing to do."""
        inv = self.invitations.get(invitation_id)
        if inv is None or inv.status != "pending" or inv.expires_at > at:
            return False
        self._trigger(
            c.InvitationExpired(
                workspace_id=self.workspace_id, invitation_id=invitation_id, expired_at=at
            ),
            at,
        )
        return True

    # -- state ------------------------------------------------------------------------------------
    def apply(self, payload: msgspec.Struct, at: datetime) -> None:
        match payload:
            case c.WorkspaceCreated():
                self.workspace_id, self.kind, self.name = (
                    payload.workspace_id,
                    payload.kind,
                    payload.name,
                )
                self.archived, self.members, self.invitations = False, {}, {}
                self.risk, self.billing_contact = c.RiskDefaults(), None
            case c.WorkspaceRenamed():
                self.name = payload.name
            case c.WorkspaceSettingsChanged():
                self.risk, self.billing_contact = payload.risk, payload.billing_contact
            case c.WorkspaceArchived():
                self.archived = True
            case (
                c.MemberJoined()
                | c.MemberRoleChanged()
                | c.MemberRemoved()
                | c.OwnershipTransferred()
            ):
                for _, user_id, role in c.role_changes(payload):
                    if role is None:
                        del self.members[user_id]
                    elif user_id in self.members:
                        self.members[user_id].role = role
                    else:
                        self.members[user_id] = Member(role=role, joined_at=at)
            case c.InvitationCreated():
                self.invitations[payload.invitation_id] = Invitation(
                    invitation_id=payload.invitation_id,
                    email=payload.email,
                    role=payload.role,
                    token_hash="",
                    expires_at=payload.expires_at,
                )
            case c.InvitationResent():
                inv = self.invitations[payload.invitation_id]
                inv.expires_at, inv.status = payload.expires_at, "pending"
            case c.InvitationExpired():
                self.invitations[payload.invitation_id].status = "expired"
            case c.InvitationTokenSet():
                self.invitations[payload.invitation_id].token_hash = payload.token_hash
            case c.InvitationAccepted():
                self.invitations[payload.invitation_id].status = "accepted"
            case c.InvitationDeclined():
                self.invitations[payload.invitation_id].status = "declined"
            case c.InvitationRevoked():
                self.invitations[payload.invitation_id].status = "revoked"
