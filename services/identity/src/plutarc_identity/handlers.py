"""Command handlers: resolve the actor, authorize with the shared policy, then let aggregates decide.

Authorization here is the second of two checks (the API edge is the first): it uses the service's
own state, not anything the caller claims. A non-member asking about a workspace gets
`identity.workspace_not_found`, the same answer as for a workspace that does not exist.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import timedelta
from typing import Any, Protocol

from plutarc_access import AccessRequest, Decision
from plutarc_contracts import CommandEnvelope
from plutarc_contracts import identity as c
from plutarc_contracts.permissions import ESCALATION_GUARDED, grants, role_rank
from plutarc_runtime.clock import Clock
from plutarc_runtime.commands import Accepted, CommandHandler
from plutarc_runtime.store import EventStore

from . import errors
from .accounts import ApiToken, EmailClaim, Session, User, email_claim_id, normalise_email, parse_id
from .workspace import Workspace


class Policy(Protocol):
    def decide(self, request: AccessRequest) -> Decision: ...


@dataclass(frozen=True)
class Actor:
    user_id: str
    token: ApiToken | None = None


class IdentityHandlers:
    def __init__(self, store: EventStore, clock: Clock, policy: Policy) -> None:
        self.store = store
        self.clock = clock
        self.policy = policy

    # -- plumbing ---------------------------------------------------------------------------------
    def actor(self, command: CommandEnvelope) -> Actor:
        kind, _, ident = command.actor.partition(":")
        if kind == "user" and ident:
            return Actor(ident)
        if kind == "token" and ident:
            token = self.store.find(ApiToken, parse_id(ident, "actor"))
            if token is None:
                raise errors.TokenNotFound("unknown API token")
            if token.revoked:
                raise errors.TokenRevoked("this API token is revoked")
            if not token.active(self.clock.now()):
                raise errors.TokenExpired("this API token has expired")
            return Actor(token.user_id, token)
        raise errors.Forbidden(f"actor `{command.actor}` may not do this")

    def user(self, user_id: str) -> User:
        user = self.store.find(User, parse_id(user_id, "user_id"))
        if user is None:
            raise errors.UnknownUser(f"user {user_id} not found")
        return user

    def workspace(self, workspace_id: str) -> Workspace:
        ws = self.store.find(Workspace, parse_id(workspace_id, "workspace_id"))
        if ws is None:
            raise errors.WorkspaceNotFound(f"workspace {workspace_id} not found")
        return ws

    def authorize(self, ws: Workspace, actor: Actor, permission: str, **resource: Any) -> str:
        """The actor's role in `ws` if the policy allows `permission`; raises otherwise."""
        role = ws.role_of(actor.user_id)
        if role is None:
            raise errors.WorkspaceNotFound(f"workspace {ws.workspace_id} not found")
        if actor.token is not None:
            if actor.token.workspace_id != ws.workspace_id:
                raise errors.WorkspaceNotFound(f"workspace {ws.workspace_id} not found")
            if permission not in actor.token.permissions:
                raise errors.Forbidden(f"this API token does not carry {permission}")
        decision = self.policy.decide(
            AccessRequest(
                actor_id=actor.user_id, role=role, permission=permission, resource=resource
            )
        )
        if not decision.allowed:
            detail = "; ".join(decision.reasons) or f"a {role} may not {permission}"
            if permission in grants(role):
                # The role holds the permission, so the policy refused what it was aimed at.
                if resource.get("target_user_id") == actor.user_id and permission == "roles:assign":
                    raise errors.SelfRoleChange(detail, field="user_id")
                raise errors.RoleEscalation(
                    detail, field="role" if "target_role" in resource else None
                )
            raise errors.Forbidden(detail)
        return role

    # -- users and sessions -----------------------------------------------------------------------
    def register_user(self, p: c.RegisterUser, cmd: CommandEnvelope) -> Accepted:
        now = self.clock.now()
        email = normalise_email(p.email)
        parse_id(p.personal_workspace_id, "personal_workspace_id")
        if self.store.find(EmailClaim, email_claim_id(email)) is not None:
            raise errors.EmailTaken(f"{email} is registered already", field="email")
        if self.store.find(User, parse_id(p.user_id, "user_id")) is not None:
            raise errors.InvalidInput(
                f"user {p.user_id} exists", field="user_id", code="identity.user_exists"
            )
        user = User.register(
            p.user_id, email, p.display_name, p.personal_workspace_id, p.password_hash, now
        )
        claim = EmailClaim.claim(email, p.user_id, now)
        personal = Workspace.create(
            p.personal_workspace_id, "personal", p.display_name, p.user_id, now
        )
        return Accepted(
            [user, claim, personal],
            {"user_id": p.user_id, "personal_workspace_id": p.personal_workspace_id},
        )

    def start_session(self, p: c.StartSession, cmd: CommandEnvelope) -> Accepted:
        actor = self.actor(cmd)
        if actor.user_id != p.user_id or actor.token is not None:
            raise errors.Forbidden("a session is started by its own user")
        self.user(p.user_id)
        if self.store.find(Session, parse_id(p.session_id, "session_id")) is not None:
            raise errors.InvalidInput(
                f"session {p.session_id} exists", field="session_id", code="identity.session_exists"
            )
        session = Session.start(
            p.session_id,
            p.user_id,
            p.token_hash,
            timedelta(seconds=p.ttl_seconds),
            self.clock.now(),
        )
        return Accepted(
            [session], {"session_id": p.session_id, "expires_at": session.expires_at.isoformat()}
        )

    def end_session(self, p: c.EndSession, cmd: CommandEnvelope) -> Accepted:
        actor = self.actor(cmd)
        session = self.store.find(Session, parse_id(p.session_id, "session_id"))
        if session is None:
            raise errors.SessionNotFound(f"session {p.session_id} not found")
        session.end(actor.user_id, self.clock.now())
        return Accepted([session], {"session_id": p.session_id})

    # -- workspaces -------------------------------------------------------------------------------
    def create_organisation(self, p: c.CreateOrganisation, cmd: CommandEnvelope) -> Accepted:
        actor = self.actor(cmd)
        if actor.token is not None:
            raise errors.Forbidden(
                "API tokens are bound to one workspace and cannot create organisations"
            )
        self.user(actor.user_id)
        if self.store.find(Workspace, parse_id(p.workspace_id, "workspace_id")) is not None:
            raise errors.InvalidInput(
                f"workspace {p.workspace_id} exists",
                field="workspace_id",
                code="identity.workspace_exists",
            )
        ws = Workspace.create(
            p.workspace_id, "organisation", p.name, actor.user_id, self.clock.now()
        )
        return Accepted([ws], {"workspace_id": p.workspace_id})

    def rename_workspace(self, p: c.RenameWorkspace, cmd: CommandEnvelope) -> Accepted:
        ws, actor = self.workspace(p.workspace_id), self.actor(cmd)
        self.authorize(ws, actor, "workspace:update")
        ws.rename(actor.user_id, p.name, self.clock.now())
        return Accepted([ws], {"workspace_id": p.workspace_id, "name": ws.name})

    def change_workspace_settings(
        self, p: c.ChangeWorkspaceSettings, cmd: CommandEnvelope
    ) -> Accepted:
        ws, actor = self.workspace(p.workspace_id), self.actor(cmd)
        self.authorize(ws, actor, "workspace:update")
        if p.risk != ws.risk:
            self.authorize(ws, actor, "risk:update")
        contact = normalise_email(p.billing_contact) if p.billing_contact else None
        if contact != ws.billing_contact:
            self.authorize(ws, actor, "billing:manage")
        ws.change_settings(actor.user_id, p.risk, contact, self.clock.now())
        return Accepted([ws], {"workspace_id": p.workspace_id})

    def archive_workspace(self, p: c.ArchiveWorkspace, cmd: CommandEnvelope) -> Accepted:
        ws, actor = self.workspace(p.workspace_id), self.actor(cmd)
        self.authorize(ws, actor, "workspace:archive")
        ws.archive(actor.user_id, self.clock.now())
        return Accepted([ws], {"workspace_id": p.workspace_id})

    def transfer_ownership(self, p: c.TransferOwnership, cmd: CommandEnvelope) -> Accepted:
        ws, actor = self.workspace(p.workspace_id), self.actor(cmd)
        self.authorize(
            ws,
            actor,
            "workspace:transfer_ownership",
            target_user_id=p.to_user_id,
            target_role="owner",
        )
        ws.transfer_ownership(actor.user_id, p.to_user_id, self.clock.now())
        return Accepted([ws], {"workspace_id": p.workspace_id, "owner": p.to_user_id})

    # -- members ----------------------------------------------------------------------------------
    def change_member_role(self, p: c.ChangeMemberRole, cmd: CommandEnvelope) -> Accepted:
        ws, actor = self.workspace(p.workspace_id), self.actor(cmd)
        self.authorize(ws, actor, "roles:assign", target_role=p.role, target_user_id=p.user_id)
        ws.change_role(actor.user_id, p.user_id, p.role, self.clock.now())
        return Accepted(
            [ws], {"workspace_id": p.workspace_id, "user_id": p.user_id, "role": p.role}
        )

    def remove_member(self, p: c.RemoveMember, cmd: CommandEnvelope) -> Accepted:
        ws, actor = self.workspace(p.workspace_id), self.actor(cmd)
        self.authorize(ws, actor, "members:remove", target_user_id=p.user_id)
        ws.remove_member(actor.user_id, p.user_id, self.clock.now())
        return Accepted([ws], {"workspace_id": p.workspace_id, "user_id": p.user_id})

    def leave_workspace(self, p: c.LeaveWorkspace, cmd: CommandEnvelope) -> Accepted:
        ws, actor = self.workspace(p.workspace_id), self.actor(cmd)
        if actor.token is not None:
            raise errors.Forbidden("an API token cannot leave a workspace for its holder")
        ws.leave(actor.user_id, self.clock.now())
        return Accepted([ws], {"workspace_id": p.workspace_id})

    # -- invitations ------------------------------------------------------------------------------
    def invite_member(self, p: c.InviteMember, cmd: CommandEnvelope) -> Accepted:
        ws, actor = self.workspace(p.workspace_id), self.actor(cmd)
        self.authorize(ws, actor, "invitations:create", target_role=p.role)
        parse_id(p.invitation_id, "invitation_id")
        email = normalise_email(p.email)
        ws.invite(
            actor.user_id,
            p.invitation_id,
            email,
            p.role,
            p.token_hash,
            timedelta(days=p.expires_in_days),
            self.clock.now(),
        )
        inv = ws.invitations[p.invitation_id]
        return Accepted(
            [ws], {"invitation_id": p.invitation_id, "expires_at": inv.expires_at.isoformat()}
        )

    def resend_invitation(self, p: c.ResendInvitation, cmd: CommandEnvelope) -> Accepted:
        ws, actor = self.workspace(p.workspace_id), self.actor(cmd)
        self.authorize(ws, actor, "invitations:read")
        inv = ws._invitation(p.invitation_id)
        self.authorize(ws, actor, "invitations:create", target_role=inv.role)
        ws.resend_invitation(
            actor.user_id,
            p.invitation_id,
            p.token_hash,
            timedelta(days=p.expires_in_days),
            self.clock.now(),
        )
        return Accepted(
            [ws],
            {
                "invitation_id": p.invitation_id,
                "expires_at": ws.invitations[p.invitation_id].expires_at.isoformat(),
            },
        )

    def revoke_invitation(self, p: c.RevokeInvitation, cmd: CommandEnvelope) -> Accepted:
        ws, actor = self.workspace(p.workspace_id), self.actor(cmd)
        self.authorize(ws, actor, "invitations:revoke")
        ws.revoke_invitation(actor.user_id, p.invitation_id, self.clock.now())
        return Accepted([ws], {"invitation_id": p.invitation_id})

    def _invitee(self, cmd: CommandEnvelope) -> User:
        actor = self.actor(cmd)
        if actor.token is not None:
            raise errors.Forbidden("invitations are answered by their invitee, not by an API token")
        return self.user(actor.user_id)

    def accept_invitation(self, p: c.AcceptInvitation, cmd: CommandEnvelope) -> Accepted:
        user = self._invitee(cmd)
        ws = self.store.find(Workspace, parse_id(p.workspace_id, "workspace_id"))
        if ws is None or p.invitation_id not in ws.invitations:
            raise errors.InvitationNotFound(f"invitation {p.invitation_id} not found")
        ws.accept_invitation(
            p.invitation_id, user.user_id, user.email, p.token_hash, self.clock.now()
        )
        return Accepted([ws], {"workspace_id": p.workspace_id, "role": ws.role_of(user.user_id)})

    def decline_invitation(self, p: c.DeclineInvitation, cmd: CommandEnvelope) -> Accepted:
        user = self._invitee(cmd)
        ws = self.store.find(Workspace, parse_id(p.workspace_id, "workspace_id"))
        if ws is None or p.invitation_id not in ws.invitations:
            raise errors.InvitationNotFound(f"invitation {p.invitation_id} not found")
        ws.decline_invitation(
            p.invitation_id, user.user_id, user.email, p.token_hash, self.clock.now()
        )
        return Accepted([ws], {"invitation_id": p.invitation_id})

    # -- API tokens -------------------------------------------------------------------------------
    def issue_api_token(self, p: c.IssueApiToken, cmd: CommandEnvelope) -> Accepted:
        ws, actor = self.workspace(p.workspace_id), self.actor(cmd)
        if actor.token is not None:
            raise errors.Forbidden("an API token cannot issue API tokens")
        self.authorize(ws, actor, "api_tokens:manage")
        ws._require_active()
        role = ws.role_of(actor.user_id) or "viewer"
        for permission in sorted(set(p.permissions)):
            # A guarded permission is judged at its weakest use: handing out one's own role.
            resource = {"target_role": role} if permission in ESCALATION_GUARDED else {}
            try:
                self.authorize(ws, actor, permission, **resource)
            except errors.Forbidden:
                raise errors.TokenEscalation(
                    f"a token cannot carry {permission}: your role does not grant it",
                    field="permissions",
                ) from None
        if self.store.find(ApiToken, parse_id(p.token_id, "token_id")) is not None:
            raise errors.InvalidInput(
                f"token {p.token_id} exists", field="token_id", code="identity.token_exists"
            )
        token = ApiToken.issue(
            p.token_id,
            actor.user_id,
            p.workspace_id,
            p.name,
            list(p.permissions),
            p.token_hash,
            timedelta(days=p.expires_in_days),
            self.clock.now(),
        )
        return Accepted(
            [token], {"token_id": p.token_id, "expires_at": token.expires_at.isoformat()}
        )

    def revoke_api_token(self, p: c.RevokeApiToken, cmd: CommandEnvelope) -> Accepted:
        ws, actor = self.workspace(p.workspace_id), self.actor(cmd)
        token = self.store.find(ApiToken, parse_id(p.token_id, "token_id"))
        if token is None or token.workspace_id != p.workspace_id:
            raise errors.TokenNotFound(f"token {p.token_id} not found")
        if token.user_id == actor.user_id:
            self.authorize(ws, actor, "api_tokens:manage")
        else:
            role = self.authorize(ws, actor, "members:remove", target_user_id=token.user_id)
            holder_role = ws.role_of(token.user_id)
            if holder_role is not None and role_rank(holder_role) > role_rank(role):
                raise errors.RoleEscalation(f"a {role} cannot revoke the token of a {holder_role}")
        token.revoke(self.clock.now())
        return Accepted([token], {"token_id": p.token_id})

    def table(self) -> dict[str, CommandHandler]:
        entries: dict[str, Callable[[Any, CommandEnvelope], Accepted]] = {
            name: getattr(self, name.split(".", 1)[1]) for name in c.COMMANDS
        }
        return entries
