"""Members, roles, invitations and personal access tokens of a workspace."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Annotated
from uuid import UUID

from fastapi import APIRouter, Response
from plutarc_api.caller import sha256_hex
from plutarc_api.deps import Access, Authenticated, PermissionRoute, Write, Writes, allowed
from plutarc_api.problems import Problem
from plutarc_api.runtime import ApiRuntime
from plutarc_api.schemas import WRITE_ERRORS
from plutarc_contracts import identity as c
from plutarc_runtime.readmodels import aware
from sqlalchemy import select

from .lookups import INVITATION_PREFIX, PAT_PREFIX
from .models import invitations, members, tokens, users
from .schemas import (
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

router = APIRouter(
    prefix="/v1", tags=["members"], responses=WRITE_ERRORS, route_class=PermissionRoute
)


async def members_out(rt: ApiRuntime, workspace_id: str) -> list[MemberOut]:
    rows = await rt.reader.all(
        select(members.c.user_id, members.c.role, users.c.email, users.c.display_name)
        .outerjoin(users, users.c.user_id == members.c.user_id)
        .where(members.c.workspace_id == workspace_id)
    )
    out = [
        MemberOut(user_id=r.user_id, email=r.email, display_name=r.display_name, role=r.role)
        for r in rows
    ]
    return sorted(out, key=lambda m: (m.email or "", m.user_id))


def _invitation(row: object) -> InvitationOut:
    expires_at = aware(row.expires_at)  # type: ignore[attr-defined]
    status = row.status  # type: ignore[attr-defined]
    if status == "pending" and expires_at <= datetime.now(UTC):
        status = "expired"
    return InvitationOut(
        invitation_id=row.invitation_id,  # type: ignore[attr-defined]
        email=row.email,  # type: ignore[attr-defined]
        role=row.role,  # type: ignore[attr-defined]
        expires_at=expires_at,
        status=status,
    )


async def invitation_out(rt: ApiRuntime, workspace_id: str, invitation_id: str) -> InvitationOut:
    row = await rt.reader.one(
        select(invitations).where(
            invitations.c.invitation_id == invitation_id,
            invitations.c.workspace_id == workspace_id,
        )
    )
    if row is None:
        raise Problem(404, "identity.invitation_not_found", "no such invitation")
    return _invitation(row)


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


@router.get("/workspaces/{workspace_id}/members", response_model=list[MemberOut])
async def list_members(
    workspace_id: str, access: Annotated[Access, allowed("members:read")]
) -> list[MemberOut]:
    return await members_out(access.rt, workspace_id)


@router.patch("/workspaces/{workspace_id}/members/{user_id}", response_model=list[MemberOut])
async def change_role(
    workspace_id: str,
    user_id: str,
    body: RoleIn,
    access: Annotated[Access, allowed("roles:assign", about=("target_role", "target_user_id"))],
    write: Writes,
) -> list[MemberOut]:
    await access.check(target_role=body.role, target_user_id=user_id)
    await write.send(
        c.ChangeMemberRole(workspace_id=workspace_id, user_id=user_id, role=body.role),
        workspace_id=workspace_id,
        key=workspace_id,
    )
    return await members_out(access.rt, workspace_id)


@router.delete("/workspaces/{workspace_id}/members/{user_id}", status_code=204)
async def remove_member(
    workspace_id: str,
    user_id: str,
    access: Annotated[Access, allowed("members:remove", about=("target_user_id",))],
    write: Writes,
) -> Response:
    await access.check(target_user_id=user_id)
    await write.send(
        c.RemoveMember(workspace_id=workspace_id, user_id=user_id),
        workspace_id=workspace_id,
        key=workspace_id,
    )
    return Response(status_code=204)


@router.post("/workspaces/{workspace_id}/leave", status_code=204)
async def leave(
    workspace_id: str, access: Annotated[Access, allowed("workspace:read")], write: Writes
) -> Response:
    await write.send(
        c.LeaveWorkspace(workspace_id=workspace_id), workspace_id=workspace_id, key=workspace_id
    )
    return Response(status_code=204)


@router.get("/workspaces/{workspace_id}/invitations", response_model=list[InvitationOut])
async def list_invitations(
    workspace_id: str, access: Annotated[Access, allowed("invitations:read")]
) -> list[InvitationOut]:
    rows = await access.rt.reader.all(
        select(invitations)
        .where(invitations.c.workspace_id == workspace_id)
        .order_by(invitations.c.invitation_id)
    )
    return [_invitation(r) for r in rows]


@router.post(
    "/workspaces/{workspace_id}/invitations", status_code=201, response_model=InvitationCreatedOut
)
async def invite(
    workspace_id: str,
    body: InviteIn,
    access: Annotated[Access, allowed("invitations:create", about=("target_role",))],
    write: Writes,
) -> InvitationCreatedOut:
    await access.check(target_role=body.role)
    rt = access.rt
    invitation_id = write.derived_id("invitation")
    token = invitation_token(workspace_id, invitation_id, write.secret(""))
    await write.send(
        c.InviteMember(
            workspace_id=workspace_id,
            invitation_id=invitation_id,
            email=str(body.email),
            role=body.role,
            token_hash=sha256_hex(token),
            expires_in_days=body.expires_in_days,
            accept_url=rt.accept_url(token),
        ),
        workspace_id=workspace_id,
        key=workspace_id,
    )
    out = await invitation_out(rt, workspace_id, invitation_id)
    return InvitationCreatedOut(**out.model_dump(), token=token)


@router.post(
    "/workspaces/{workspace_id}/invitations/{invitation_id}/resend",
    response_model=InvitationCreatedOut,
)
async def resend(
    workspace_id: str,
    invitation_id: str,
    body: ResendIn,
    access: Annotated[Access, allowed("invitations:create", about=("target_role",))],
    write: Writes,
) -> InvitationCreatedOut:
    rt = access.rt
    row = await rt.reader.one(
        select(invitations.c.role).where(
            invitations.c.invitation_id == invitation_id,
            invitations.c.workspace_id == workspace_id,
        )
    )
    await access.check(target_role=row.role if row else "viewer")
    token = invitation_token(workspace_id, invitation_id, write.secret(""))
    await write.send(
        c.ResendInvitation(
            workspace_id=workspace_id,
            invitation_id=invitation_id,
            token_hash=sha256_hex(token),
            expires_in_days=body.expires_in_days,
            accept_url=rt.accept_url(token),
        ),
        workspace_id=workspace_id,
        key=workspace_id,
    )
    out = await invitation_out(rt, workspace_id, invitation_id)
    return InvitationCreatedOut(**out.model_dump(), token=token)


@router.delete("/workspaces/{workspace_id}/invitations/{invitation_id}", status_code=204)
async def revoke_invitation(
    workspace_id: str,
    invitation_id: str,
    access: Annotated[Access, allowed("invitations:revoke")],
    write: Writes,
) -> Response:
    await write.send(
        c.RevokeInvitation(workspace_id=workspace_id, invitation_id=invitation_id),
        workspace_id=workspace_id,
        key=workspace_id,
    )
    return Response(status_code=204)


async def answer_invitation(
    body: InvitationTokenIn,
    write: Write,
    command: type[c.AcceptInvitation] | type[c.DeclineInvitation],
) -> InvitationOut:
    workspace_id, invitation_id = parse_invitation_token(body.token)
    await write.send(
        command(
            workspace_id=workspace_id,
            invitation_id=invitation_id,
            token_hash=sha256_hex(body.token),
        ),
        workspace_id=workspace_id,
        key=workspace_id,
    )
    return await invitation_out(write.rt, workspace_id, invitation_id)


@router.post("/invitations/accept", response_model=InvitationOut)
async def accept_invitation(
    body: InvitationTokenIn, caller: Authenticated, write: Writes
) -> InvitationOut:
    return await answer_invitation(body, write, c.AcceptInvitation)


@router.post("/invitations/decline", response_model=InvitationOut)
async def decline_invitation(
    body: InvitationTokenIn, caller: Authenticated, write: Writes
) -> InvitationOut:
    return await answer_invitation(body, write, c.DeclineInvitation)


def _token(row: object) -> TokenOut:
    return TokenOut(
        token_id=row.token_id,  # type: ignore[attr-defined]
        name=row.name,  # type: ignore[attr-defined]
        permissions=row.permissions,  # type: ignore[attr-defined]
        expires_at=aware(row.expires_at),  # type: ignore[attr-defined]
        revoked=row.revoked,  # type: ignore[attr-defined]
    )


@router.get("/workspaces/{workspace_id}/tokens", response_model=list[TokenOut])
async def list_tokens(
    workspace_id: str, access: Annotated[Access, allowed("api_tokens:manage")]
) -> list[TokenOut]:
    """Your own personal access tokens in this workspace."""
    rows = await access.rt.reader.all(
        select(tokens)
        .where(tokens.c.workspace_id == workspace_id, tokens.c.user_id == access.caller.user_id)
        .order_by(tokens.c.token_id)
    )
    return [_token(r) for r in rows]


@router.post("/workspaces/{workspace_id}/tokens", status_code=201, response_model=TokenCreatedOut)
async def issue_token(
    workspace_id: str,
    body: TokenIn,
    access: Annotated[Access, allowed("api_tokens:manage")],
    write: Writes,
) -> TokenCreatedOut:
    token_id = write.derived_id("api-token")
    secret = write.secret(PAT_PREFIX)
    await write.send(
        c.IssueApiToken(
            workspace_id=workspace_id,
            token_id=token_id,
            name=body.name,
            permissions=body.permissions,
            token_hash=sha256_hex(secret),
            expires_in_days=body.expires_in_days,
        ),
        workspace_id=workspace_id,
        key=token_id,
    )
    row = await access.rt.reader.one(select(tokens).where(tokens.c.token_id == token_id))
    if row is None:
        raise Problem(404, "identity.token_not_found", "no such API token")
    return TokenCreatedOut(**_token(row).model_dump(), token=secret)


@router.delete("/workspaces/{workspace_id}/tokens/{token_id}", status_code=204)
async def revoke_token(
    workspace_id: str,
    token_id: str,
    access: Annotated[Access, allowed("api_tokens:manage")],
    write: Writes,
) -> Response:
    await write.send(
        c.RevokeApiToken(workspace_id=workspace_id, token_id=token_id),
        workspace_id=workspace_id,
        key=token_id,
    )
    return Response(status_code=204)
