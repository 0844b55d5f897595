"""Identity's command handlers, one function per command, found by class in HANDLERS.

Each authorizes through `ctx.require` (the one authorizer, over identity's own aggregates: the
second of two checks, the API edge being the first), then lets the aggregates decide. A non-member
asking about a workspace gets `workspace.not_found`, the same answer as for one that does not exist.
"""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from plutarc_contracts import identity as c
from plutarc_contracts.permissions import ESCALATION_GUARDED, role_rank
from plutarc_runtime.handling import Accepted, Context, Handler, Intent

from .domain import (
    ApiToken,
    EmailClaim,
    Session,
    User,
    Workspace,
    email_claim_id,
    errors,
    normalise_email,
    parse_id,
)

SERVICE = "identity"


# -- lookups --------------------------------------------------------------------------------------
def _user(ctx: Context, user_id: str) -> User:
    user = ctx.store.find(User, parse_id(user_id, "user_id"))
    if user is None:
        raise errors.UnknownUser(f"user {user_id} not found")
    return user


def _workspace(ctx: Context, workspace_id: str) -> Workspace:
    ws = ctx.store.find(Workspace, parse_id(workspace_id, "workspace_id"))
    if ws is None:
        raise errors.WorkspaceNotFound(f"workspace {workspace_id} not found")
    return ws


def _no_token(ctx: Context, why: str) -> str:
    """The acting user, refusing API tokens for what only a person may do."""
    if ctx.principal.token is not None:
        raise errors.Forbidden(why)
    return ctx.user_id


def _invitation_email(
    ws: Workspace, invitation_id: str, token_hash: str, accept_url: str | None
) -> list[Intent]:
    """One email per token: the key names the invitation and its current token."""
    if accept_url is None:
        return []
    inv = ws.invitations[invitation_id]
    return [
        Intent(
            adapter="email",
            key=f"invitation:{invitation_id}:{token_hash}",
            body={
                "template": "invitation",
                "to": inv.email,
                "workspace_name": ws.name,
                "role": inv.role,
                "expires_at": inv.expires_at.isoformat(),
            },
            secret={"accept_url": accept_url},
        )
    ]


# -- users and sessions ---------------------------------------------------------------------------
def register_user(p: c.RegisterUser, ctx: Context) -> Accepted:
    email = normalise_email(p.email)
    parse_id(p.personal_workspace_id, "personal_workspace_id")
    if ctx.store.find(EmailClaim, email_claim_id(email)) is not None:
        raise errors.EmailTaken(f"{email} is registered already", field="email")
    if ctx.store.find(User, parse_id(p.user_id, "user_id")) is not None:
        raise errors.AlreadyExists(
            f"user {p.user_id} exists", field="user_id", code="identity.user_exists"
        )
    user = User.register(
        p.user_id, email, p.display_name, p.personal_workspace_id, p.password_hash, ctx.now
    )
    claim = EmailClaim.claim(email, p.user_id, ctx.now)
    personal = Workspace.create(
        p.personal_workspace_id, "personal", p.display_name, p.user_id, ctx.now
    )
    return Accepted(
        [user, claim, personal],
        {"user_id": p.user_id, "personal_workspace_id": p.personal_workspace_id},
    )


def start_session(p: c.StartSession, ctx: Context) -> Accepted:
    if ctx.principal.user_id != p.user_id or ctx.principal.token is not None:
        raise errors.Forbidden("a session is started by its own user")
    _user(ctx, p.user_id)
    if ctx.store.find(Session, parse_id(p.session_id, "session_id")) is not None:
        raise errors.AlreadyExists(
            f"session {p.session_id} exists", field="session_id", code="identity.session_exists"
        )
    session = Session.start(
        p.session_id, p.user_id, p.token_hash, timedelta(seconds=p.ttl_seconds), ctx.now
    )
    return Accepted(
        [session], {"session_id": p.session_id, "expires_at": session.expires_at.isoformat()}
    )


def end_session(p: c.EndSession, ctx: Context) -> Accepted:
    session = ctx.store.find(Session, parse_id(p.session_id, "session_id"))
    if session is None:
        raise errors.SessionNotFound(f"session {p.session_id} not found")
    session.end(ctx.user_id, ctx.now)
    return Accepted([session], {"session_id": p.session_id})


def expire_sessions(p: c.ExpireSessions, ctx: Context) -> Accepted:
    ctx.require_system(SERVICE)
    ended = []
    for session_id in dict.fromkeys(p.session_ids):
        session = ctx.store.find(Session, parse_id(session_id, "session_ids"))
        if session is not None and session.expire(ctx.now):
            ended.append(session)
    return Accepted(ended, {"expired": len(ended)})


# -- workspaces -----------------------------------------------------------------------------------
def create_organisation(p: c.CreateOrganisation, ctx: Context) -> Accepted:
    user_id = _no_token(
        ctx, "API tokens are bound to one workspace and cannot create organisations"
    )
    _user(ctx, user_id)
    if ctx.store.find(Workspace, parse_id(p.workspace_id, "workspace_id")) is not None:
        raise errors.AlreadyExists(
            f"workspace {p.workspace_id} exists",
            field="workspace_id",
            code="identity.workspace_exists",
        )
    ws = Workspace.create(p.workspace_id, "organisation", p.name, user_id, ctx.now)
    return Accepted([ws], {"workspace_id": p.workspace_id})


def rename_workspace(p: c.RenameWorkspace, ctx: Context) -> Accepted:
    ws = _workspace(ctx, p.workspace_id)
    ctx.require(p.workspace_id, "workspace:update")
    ws.rename(ctx.user_id, p.name, ctx.now)
    return Accepted([ws], {"workspace_id": p.workspace_id, "name": ws.name})


def change_workspace_settings(p: c.ChangeWorkspaceSettings, ctx: Context) -> Accepted:
    ws = _workspace(ctx, p.workspace_id)
    ctx.require(p.workspace_id, "workspace:update")
    if p.risk != ws.risk:
        ctx.require(p.workspace_id, "risk:update")
    contact = normalise_email(p.billing_contact) if p.billing_contact else None
    if contact != ws.billing_contact:
        ctx.require(p.workspace_id, "billing:manage")
    ws.change_settings(ctx.user_id, p.risk, contact, ctx.now)
    return Accepted([ws], {"workspace_id": p.workspace_id})


def archive_workspace(p: c.ArchiveWorkspace, ctx: Context) -> Accepted:
    ws = _workspace(ctx, p.workspace_id)
    ctx.require(p.workspace_id, "workspace:archive")
    ws.archive(ctx.user_id, ctx.now)
    return Accepted([ws], {"workspace_id": p.workspace_id})


def transfer_ownership(p: c.TransferOwnership, ctx: Context) -> Accepted:
    ws = _workspace(ctx, p.workspace_id)
    ctx.require(
        p.workspace_id,
        "workspace:transfer_ownership",
        target_user_id=p.to_user_id,
        target_role="owner",
    )
    ws.transfer_ownership(ctx.user_id, p.to_user_id, ctx.now)
    return Accepted([ws], {"workspace_id": p.workspace_id, "owner": p.to_user_id})


# -- members --------------------------------------------------------------------------------------
def change_member_role(p: c.ChangeMemberRole, ctx: Context) -> Accepted:
    ws = _workspace(ctx, p.workspace_id)
    ctx.require(p.workspace_id, "roles:assign", target_role=p.role, target_user_id=p.user_id)
    ws.change_role(ctx.user_id, p.user_id, p.role, ctx.now)
    return Accepted([ws], {"workspace_id": p.workspace_id, "user_id": p.user_id, "role": p.role})


def remove_member(p: c.RemoveMember, ctx: Context) -> Accepted:
    ws = _workspace(ctx, p.workspace_id)
    ctx.require(p.workspace_id, "members:remove", target_user_id=p.user_id)
    ws.remove_member(ctx.user_id, p.user_id, ctx.now)
    return Accepted([ws], {"workspace_id": p.workspace_id, "user_id": p.user_id})


def leave_workspace(p: c.LeaveWorkspace, ctx: Context) -> Accepted:
    ws = _workspace(ctx, p.workspace_id)
    user_id = _no_token(ctx, "an API token cannot leave a workspace for its holder")
    ws.leave(user_id, ctx.now)
    return Accepted([ws], {"workspace_id": p.workspace_id})


# -- invitations ----------------------------------------------------------------------------------
def invite_member(p: c.InviteMember, ctx: Context) -> Accepted:
    ws = _workspace(ctx, p.workspace_id)
    ctx.require(p.workspace_id, "invitations:create", target_role=p.role)
    parse_id(p.invitation_id, "invitation_id")
    email = normalise_email(p.email)
    ws.invite(
        ctx.user_id,
        p.invitation_id,
        email,
        p.role,
        p.token_hash,
        timedelta(days=p.expires_in_days),
        ctx.now,
    )
    inv = ws.invitations[p.invitation_id]
    return Accepted(
        [ws],
        {"invitation_id": p.invitation_id, "expires_at": inv.expires_at.isoformat()},
        _invitation_email(ws, p.invitation_id, p.token_hash, p.accept_url),
    )


def resend_invitation(p: c.ResendInvitation, ctx: Context) -> Accepted:
    ws = _workspace(ctx, p.workspace_id)
    ctx.require(p.workspace_id, "invitations:read")
    inv = ws.invitation(p.invitation_id)
    ctx.require(p.workspace_id, "invitations:create", target_role=inv.role)
    ws.resend_invitation(
        ctx.user_id, p.invitation_id, p.token_hash, timedelta(days=p.expires_in_days), ctx.now
    )
    return Accepted(
        [ws],
        {
            "invitation_id": p.invitation_id,
            "expires_at": ws.invitations[p.invitation_id].expires_at.isoformat(),
        },
        _invitation_email(ws, p.invitation_id, p.token_hash, p.accept_url),
    )


def revoke_invitation(p: c.RevokeInvitation, ctx: Context) -> Accepted:
    ws = _workspace(ctx, p.workspace_id)
    ctx.require(p.workspace_id, "invitations:revoke")
    ws.revoke_invitation(ctx.user_id, p.invitation_id, ctx.now)
    return Accepted([ws], {"invitation_id": p.invitation_id})


def _answered(ctx: Context, workspace_id: str, invitation_id: str) -> tuple[User, Workspace]:
    user = _user(ctx, _no_token(ctx, "invitations are answered by their invitee, not by a token"))
    ws = ctx.store.find(Workspace, parse_id(workspace_id, "workspace_id"))
    if ws is None or invitation_id not in ws.invitations:
        raise errors.InvitationNotFound(f"invitation {invitation_id} not found")
    return user, ws


def accept_invitation(p: c.AcceptInvitation, ctx: Context) -> Accepted:
    user, ws = _answered(ctx, p.workspace_id, p.invitation_id)
    ws.accept_invitation(p.invitation_id, user.user_id, user.email, p.token_hash, ctx.now)
    return Accepted([ws], {"workspace_id": p.workspace_id, "role": ws.role_of(user.user_id)})


def decline_invitation(p: c.DeclineInvitation, ctx: Context) -> Accepted:
    user, ws = _answered(ctx, p.workspace_id, p.invitation_id)
    ws.decline_invitation(p.invitation_id, user.user_id, user.email, p.token_hash, ctx.now)
    return Accepted([ws], {"invitation_id": p.invitation_id})


def expire_invitations(p: c.ExpireInvitations, ctx: Context) -> Accepted:
    ctx.require_system(SERVICE)
    changed: dict[str, Workspace] = {}
    expired = 0
    for item in p.invitations:
        ws = changed.get(item.workspace_id) or ctx.store.find(
            Workspace, parse_id(item.workspace_id, "workspace_id")
        )
        if ws is not None and ws.expire_invitation(item.invitation_id, ctx.now):
            changed[item.workspace_id] = ws
            expired += 1
    return Accepted(list(changed.values()), {"expired": expired})


# -- API tokens -----------------------------------------------------------------------------------
def issue_api_token(p: c.IssueApiToken, ctx: Context) -> Accepted:
    ws = _workspace(ctx, p.workspace_id)
    _no_token(ctx, "an API token cannot issue API tokens")
    role = ctx.require(p.workspace_id, "api_tokens:manage")
    if ws.archived:
        raise errors.WorkspaceArchived(f"workspace {ws.workspace_id} is archived")
    for permission in sorted(set(p.permissions)):
        # A guarded permission is judged at its weakest use: handing out one's own role.
        resource = {"target_role": role} if permission in ESCALATION_GUARDED else {}
        try:
            ctx.require(p.workspace_id, permission, **resource)
        except errors.Refused:
            raise errors.TokenEscalation(
                f"a token cannot carry {permission}: your role does not grant it",
                field="permissions",
            ) from None
    if ctx.store.find(ApiToken, parse_id(p.token_id, "token_id")) is not None:
        raise errors.AlreadyExists(
            f"token {p.token_id} exists", field="token_id", code="identity.token_exists"
        )
    token = ApiToken.issue(
        p.token_id,
        ctx.user_id,
        p.workspace_id,
        p.name,
        list(p.permissions),
        p.token_hash,
        timedelta(days=p.expires_in_days),
        ctx.now,
    )
    return Accepted([token], {"token_id": p.token_id, "expires_at": token.expires_at.isoformat()})


def revoke_api_token(p: c.RevokeApiToken, ctx: Context) -> Accepted:
    token = ctx.store.find(ApiToken, parse_id(p.token_id, "token_id"))
    if token is None or token.workspace_id != p.workspace_id:
        _workspace(ctx, p.workspace_id)
        raise errors.TokenNotFound(f"token {p.token_id} not found")
    if token.user_id == ctx.user_id:
        ctx.require(p.workspace_id, "api_tokens:manage")
    else:
        role = ctx.require(p.workspace_id, "members:remove", target_user_id=token.user_id)
        ws = _workspace(ctx, p.workspace_id)
        holder_role = ws.role_of(token.user_id)
        if holder_role is not None and role_rank(holder_role) > role_rank(role):
            raise errors.RoleEscalation(f"a {role} cannot revoke the token of a {holder_role}")
    token.revoke(ctx.now)
    return Accepted([token], {"token_id": p.token_id})


HANDLERS: dict[type[Any], Handler] = {
    c.RegisterUser: register_user,
    c.StartSession: start_session,
    c.EndSession: end_session,
    c.ExpireSessions: expire_sessions,
    c.CreateOrganisation: create_organisation,
    c.RenameWorkspace: rename_workspace,
    c.ChangeWorkspaceSettings: change_workspace_settings,
    c.ArchiveWorkspace: archive_workspace,
    c.TransferOwnership: transfer_ownership,
    c.ChangeMemberRole: change_member_role,
    c.RemoveMember: remove_member,
    c.LeaveWorkspace: leave_workspace,
    c.InviteMember: invite_member,
    c.ResendInvitation: resend_invitation,
    c.RevokeInvitation: revoke_invitation,
    c.AcceptInvitation: accept_invitation,
    c.DeclineInvitation: decline_invitation,
    c.ExpireInvitations: expire_invitations,
    c.IssueApiToken: issue_api_token,
    c.RevokeApiToken: revoke_api_token,
}
