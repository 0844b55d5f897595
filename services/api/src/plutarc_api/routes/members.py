"""Members, roles, invitations and personal access tokens of a workspace."""

from __future__ import annotations

from datetime import UTC, datetime
from uuid import UUID

from fastapi import APIRouter, Response
from plutarc_contracts import identity as c

from ..auth import INVITATION_PREFIX, PAT_PREFIX, authorize, derived_secret, new_secret, sha256_hex
from ..gateway import command_id_for, derived_id
from ..problems import Problem
from ..runtime import ApiRuntime, Caller, IdempotencyKey, Runtime
from ..schemas import (
    WRITE_ERRORS,
    InvitationCreatedOut,
    InvitationOut,
    InvitationTokenIn,
    InviteIn,
    MemberOut,
    ResendIn,
    RoleIn,
    TokenCreatedOut,
    TokenIn,
    TokenOut,
)

router = APIRouter(prefix="/v1", tags=["members"], responses=WRITE_ERRORS)


def members_out(rt: ApiRuntime, workspace_id: str) -> list[MemberOut]:
    view = rt.memberships.workspaces.get(workspace_id)
    out = []
    for user_id, role in view.members.items() if view else ():
        user = rt.view.users.get(user_id)
        out.append(
            MemberOut(
                user_id=user_id,
                email=user.email if user else None,
                display_name=user.display_name if user else None,
                role=role,  # type: ignore[arg-type]  # a role name from identity's events
            )
        )
    return sorted(out, key=lambda m: (m.email or "", m.user_id))


def invitation_out(rt: ApiRuntime, workspace_id: str, invitation_id: str) -> InvitationOut:
    inv = rt.view.invitations.by_workspace[workspace_id][invitation_id]
    status = (
        "expired" if inv.status == "pending" and inv.expires_at <= datetime.now(UTC) else inv.status
    )
    return InvitationOut(
        invitation_id=inv.invitation_id,
        email=inv.email,
        role=inv.role,  # type: ignore[arg-type]  # from identity's events
        expires_at=inv.expires_at,
        status=status,  # type: ignore[arg-type]
    )


def invitation_token(workspace_id: str, invitation_id: str, secret: str) -> str:
    """`pli_<workspace hex><invitation hex><secret>`: the token names what it opens."""
    return f"{INVITATION_PREFIX}{UUID(workspace_id).hex}{UUID(invitation_id).hex}{secret}"


def parse_invitation_token(token: str) -> tuple[str, str]:
    body = token.removeprefix(INVITATION_PREFIX)
    try:
        if not token.startswith(INVITATION_PREFIX) or len(body) < 65:
            raise ValueError
        return str(UUID(body[:32])), str(UUID(body[32:64]))
    except ValueError:
        raise Problem(
            422,
            "identity.invitation_mismatch",
            "this is not an invitation token",
            errors=[{"field": "token", "message": "malformed"}],
        ) from None


@router.get(
    "/workspaces/{workspace_id}/members",
    response_model=list[MemberOut],
    openapi_extra={"x-permission": "members:read"},
)
async def list_members(workspace_id: str, rt: Runtime, caller: Caller) -> list[MemberOut]:
    await authorize(rt.authorizer, caller, workspace_id, "members:read")
    return members_out(rt, workspace_id)


@router.patch(
    "/workspaces/{workspace_id}/members/{user_id}",
    response_model=list[MemberOut],
    openapi_extra={"x-permission": "roles:assign"},
)
async def change_role(
    workspace_id: str,
    user_id: str,
    body: RoleIn,
    rt: Runtime,
    caller: Caller,
    idempotency_key: IdempotencyKey = None,
) -> list[MemberOut]:
    await authorize(
        rt.authorizer,
        caller,
        workspace_id,
        "roles:assign",
        target_role=body.role,
        target_user_id=user_id,
    )
    await rt.command(
        c.ChangeMemberRole(workspace_id=workspace_id, user_id=user_id, role=body.role),
        actor=caller.actor,
        command_id=command_id_for(caller.actor, idempotency_key),
        workspace_id=workspace_id,
        key=workspace_id,
    )
    return members_out(rt, workspace_id)


@router.delete(
    "/workspaces/{workspace_id}/members/{user_id}",
    status_code=204,
    openapi_extra={"x-permission": "members:remove"},
)
async def remove_member(
    workspace_id: str,
    user_id: str,
    rt: Runtime,
    caller: Caller,
    idempotency_key: IdempotencyKey = None,
) -> Response:
    await authorize(rt.authorizer, caller, workspace_id, "members:remove", target_user_id=user_id)
    await rt.command(
        c.RemoveMember(workspace_id=workspace_id, user_id=user_id),
        actor=caller.actor,
        command_id=command_id_for(caller.actor, idempotency_key),
        workspace_id=workspace_id,
        key=workspace_id,
    )
    return Response(status_code=204)


@router.post(
    "/workspaces/{workspace_id}/leave",
    status_code=204,
    openapi_extra={"x-permission": "workspace:read"},
)
async def leave(
    workspace_id: str, rt: Runtime, caller: Caller, idempotency_key: IdempotencyKey = None
) -> Response:
    await authorize(rt.authorizer, caller, workspace_id, "workspace:read")
    await rt.command(
        c.LeaveWorkspace(workspace_id=workspace_id),
        actor=caller.actor,
        command_id=command_id_for(caller.actor, idempotency_key),
        workspace_id=workspace_id,
        key=workspace_id,
    )
    return Response(status_code=204)


@router.get(
    "/workspaces/{workspace_id}/invitations",
    response_model=list[InvitationOut],
    openapi_extra={"x-permission": "invitations:read"},
)
async def list_invitations(workspace_id: str, rt: Runtime, caller: Caller) -> list[InvitationOut]:
    await authorize(rt.authorizer, caller, workspace_id, "invitations:read")
    return [
        invitation_out(rt, workspace_id, i)
        for i in rt.view.invitations.by_workspace.get(workspace_id, {})
    ]


@router.post(
    "/workspaces/{workspace_id}/invitations",
    status_code=201,
    response_model=InvitationCreatedOut,
    openapi_extra={"x-permission": "invitations:create"},
)
async def invite(
    workspace_id: str,
    body: InviteIn,
    rt: Runtime,
    caller: Caller,
    idempotency_key: IdempotencyKey = None,
) -> InvitationCreatedOut:
    await authorize(
        rt.authorizer, caller, workspace_id, "invitations:create", target_role=body.role
    )
    command_id = command_id_for(caller.actor, idempotency_key)
    invitation_id = derived_id(command_id, "invitation")
    token = invitation_token(
        workspace_id, invitation_id, derived_secret(rt.secret_key, command_id, "")
    )
    await rt.command(
        c.InviteMember(
            workspace_id=workspace_id,
            invitation_id=invitation_id,
            email=str(body.email),
            role=body.role,
            token_hash=sha256_hex(token),
            expires_in_days=body.expires_in_days,
            accept_url=rt.accept_url(token),
        ),
        actor=caller.actor,
        command_id=command_id,
        workspace_id=workspace_id,
        key=workspace_id,
    )
    return InvitationCreatedOut(
        **invitation_out(rt, workspace_id, invitation_id).model_dump(), token=token
    )


@router.post(
    "/workspaces/{workspace_id}/invitations/{invitation_id}/resend",
    response_model=InvitationCreatedOut,
    openapi_extra={"x-permission": "invitations:create"},
)
async def resend(
    workspace_id: str, invitation_id: str, body: ResendIn, rt: Runtime, caller: Caller
) -> InvitationCreatedOut:
    inv = rt.view.invitations.by_workspace.get(workspace_id, {}).get(invitation_id)
    await authorize(
        rt.authorizer,
        caller,
        workspace_id,
        "invitations:create",
        target_role=inv.role if inv else "viewer",
    )
    token = invitation_token(workspace_id, invitation_id, new_secret(""))
    await rt.command(
        c.ResendInvitation(
            workspace_id=workspace_id,
            invitation_id=invitation_id,
            token_hash=sha256_hex(token),
            expires_in_days=body.expires_in_days,
            accept_url=rt.accept_url(token),
        ),
        actor=caller.actor,
        command_id=command_id_for(caller.actor, None),
        workspace_id=workspace_id,
        key=workspace_id,
    )
    return InvitationCreatedOut(
        **invitation_out(rt, workspace_id, invitation_id).model_dump(), token=token
    )


@router.delete(
    "/workspaces/{workspace_id}/invitations/{invitation_id}",
    status_code=204,
    openapi_extra={"x-permission": "invitations:revoke"},
)
async def revoke_invitation(
    workspace_id: str, invitation_id: str, rt: Runtime, caller: Caller
) -> Response:
    await authorize(rt.authorizer, caller, workspace_id, "invitations:revoke")
    await rt.command(
        c.RevokeInvitation(workspace_id=workspace_id, invitation_id=invitation_id),
        actor=caller.actor,
        command_id=command_id_for(caller.actor, None),
        workspace_id=workspace_id,
        key=workspace_id,
    )
    return Response(status_code=204)


@router.post(
    "/invitations/accept", response_model=InvitationOut, openapi_extra={"x-permission": "self"}
)
async def accept_invitation(body: InvitationTokenIn, rt: Runtime, caller: Caller) -> InvitationOut:
    workspace_id, invitation_id = parse_invitation_token(body.token)
    await rt.command(
        c.AcceptInvitation(
            workspace_id=workspace_id,
            invitation_id=invitation_id,
            token_hash=sha256_hex(body.token),
        ),
        actor=caller.actor,
        command_id=command_id_for(caller.actor, None),
        workspace_id=workspace_id,
        key=workspace_id,
    )
    return invitation_out(rt, workspace_id, invitation_id)


@router.post(
    "/invitations/decline", response_model=InvitationOut, openapi_extra={"x-permission": "self"}
)
async def decline_invitation(body: InvitationTokenIn, rt: Runtime, caller: Caller) -> InvitationOut:
    workspace_id, invitation_id = parse_invitation_token(body.token)
    await rt.command(
        c.DeclineInvitation(
            workspace_id=workspace_id,
            invitation_id=invitation_id,
            token_hash=sha256_hex(body.token),
        ),
        actor=caller.actor,
        command_id=command_id_for(caller.actor, None),
        workspace_id=workspace_id,
        key=workspace_id,
    )
    return invitation_out(rt, workspace_id, invitation_id)


def token_out(rt: ApiRuntime, token_id: str) -> TokenOut:
    t = rt.memberships.tokens.by_id[token_id]
    return TokenOut(
        token_id=t.token_id,
        name=t.name,
        permissions=t.permissions,
        expires_at=t.expires_at,
        revoked=t.revoked,
    )


@router.get(
    "/workspaces/{workspace_id}/tokens",
    response_model=list[TokenOut],
    openapi_extra={"x-permission": "api_tokens:manage"},
)
async def list_tokens(workspace_id: str, rt: Runtime, caller: Caller) -> list[TokenOut]:
    """Your own personal access tokens in this workspace."""
    await authorize(rt.authorizer, caller, workspace_id, "api_tokens:manage")
    mine = [
        t
        for t in rt.memberships.tokens.by_id.values()
        if t.workspace_id == workspace_id and t.user_id == caller.user_id
    ]
    return [token_out(rt, t.token_id) for t in sorted(mine, key=lambda t: t.token_id)]


@router.post(
    "/workspaces/{workspace_id}/tokens",
    status_code=201,
    response_model=TokenCreatedOut,
    openapi_extra={"x-permission": "api_tokens:manage"},
)
async def issue_token(
    workspace_id: str,
    body: TokenIn,
    rt: Runtime,
    caller: Caller,
    idempotency_key: IdempotencyKey = None,
) -> TokenCreatedOut:
    await authorize(rt.authorizer, caller, workspace_id, "api_tokens:manage")
    command_id = command_id_for(caller.actor, idempotency_key)
    token_id = derived_id(command_id, "api-token")
    secret = derived_secret(rt.secret_key, command_id, PAT_PREFIX)
    await rt.command(
        c.IssueApiToken(
            workspace_id=workspace_id,
            token_id=token_id,
            name=body.name,
            permissions=body.permissions,
            token_hash=sha256_hex(secret),
            expires_in_days=body.expires_in_days,
        ),
        actor=caller.actor,
        command_id=command_id,
        workspace_id=workspace_id,
        key=token_id,
    )
    return TokenCreatedOut(**token_out(rt, token_id).model_dump(), token=secret)


@router.delete(
    "/workspaces/{workspace_id}/tokens/{token_id}",
    status_code=204,
    openapi_extra={"x-permission": "api_tokens:manage"},
)
async def revoke_token(workspace_id: str, token_id: str, rt: Runtime, caller: Caller) -> Response:
    await authorize(rt.authorizer, caller, workspace_id, "api_tokens:manage")
    await rt.command(
        c.RevokeApiToken(workspace_id=workspace_id, token_id=token_id),
        actor=caller.actor,
        command_id=command_id_for(caller.actor, None),
        workspace_id=workspace_id,
        key=token_id,
    )
    return Response(status_code=204)
