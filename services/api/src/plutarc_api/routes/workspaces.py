"""Organisations and workspace settings under /v1/workspaces/{workspace_id}."""

from __future__ import annotations

from fastapi import APIRouter
from plutarc_contracts import identity as c

from ..auth import authorize
from ..gateway import command_id_for, derived_id
from ..problems import Problem
from ..runtime import ApiRuntime, Caller, IdempotencyKey, Runtime
from ..schemas import WRITE_ERRORS, OrganisationIn, RenameIn, SettingsIn, TransferIn, WorkspaceOut

router = APIRouter(prefix="/v1", tags=["workspaces"], responses=WRITE_ERRORS)


def workspace_out(rt: ApiRuntime, workspace_id: str, user_id: str) -> WorkspaceOut:
    ws = rt.view.workspaces[workspace_id]
    role = rt.memberships.role_of(user_id, workspace_id) or "viewer"
    return WorkspaceOut(
        workspace_id=ws.workspace_id,
        name=ws.name,
        kind=ws.kind,  # type: ignore[arg-type]  # from identity's events
        archived=ws.archived,
        created_at=ws.created_at,
        your_role=role,  # type: ignore[arg-type]
        risk=ws.risk,
        billing_contact=ws.billing_contact,
    )


@router.post(
    "/organisations",
    status_code=201,
    response_model=WorkspaceOut,
    openapi_extra={"x-permission": "self"},
)
async def create_organisation(
    body: OrganisationIn, rt: Runtime, caller: Caller, idempotency_key: IdempotencyKey = None
) -> WorkspaceOut:
    if caller.token is not None:
        raise Problem(
            403,
            "access.forbidden",
            "API tokens are bound to one workspace and cannot create organisations",
        )
    command_id = command_id_for(caller.actor, idempotency_key)
    workspace_id = derived_id(command_id, "workspace")
    reply = await rt.command(
        c.CreateOrganisation(workspace_id=workspace_id, name=body.name),
        actor=caller.actor,
        command_id=command_id,
        workspace_id=workspace_id,
        key=workspace_id,
    )
    return workspace_out(rt, reply.result["workspace_id"], caller.user_id)


@router.get(
    "/workspaces/{workspace_id}",
    response_model=WorkspaceOut,
    openapi_extra={"x-permission": "workspace:read"},
)
async def get_workspace(workspace_id: str, rt: Runtime, caller: Caller) -> WorkspaceOut:
    await authorize(rt.authorizer, caller, workspace_id, "workspace:read")
    return workspace_out(rt, workspace_id, caller.user_id)


@router.patch(
    "/workspaces/{workspace_id}",
    response_model=WorkspaceOut,
    openapi_extra={"x-permission": "workspace:update"},
)
async def rename_workspace(
    workspace_id: str,
    body: RenameIn,
    rt: Runtime,
    caller: Caller,
    idempotency_key: IdempotencyKey = None,
) -> WorkspaceOut:
    await authorize(rt.authorizer, caller, workspace_id, "workspace:update")
    await rt.command(
        c.RenameWorkspace(workspace_id=workspace_id, name=body.name),
        actor=caller.actor,
        command_id=command_id_for(caller.actor, idempotency_key),
        workspace_id=workspace_id,
        key=workspace_id,
    )
    return workspace_out(rt, workspace_id, caller.user_id)


@router.put(
    "/workspaces/{workspace_id}/settings",
    response_model=WorkspaceOut,
    openapi_extra={"x-permission": "workspace:update"},
)
async def change_settings(
    workspace_id: str,
    body: SettingsIn,
    rt: Runtime,
    caller: Caller,
    idempotency_key: IdempotencyKey = None,
) -> WorkspaceOut:
    await authorize(rt.authorizer, caller, workspace_id, "workspace:update")
    risk = c.RiskDefaults(**body.risk.model_dump())
    contact = str(body.billing_contact) if body.billing_contact else None
    await rt.command(
        c.ChangeWorkspaceSettings(workspace_id=workspace_id, risk=risk, billing_contact=contact),
        actor=caller.actor,
        command_id=command_id_for(caller.actor, idempotency_key),
        workspace_id=workspace_id,
        key=workspace_id,
    )
    return workspace_out(rt, workspace_id, caller.user_id)


@router.post(
    "/workspaces/{workspace_id}/archive",
    response_model=WorkspaceOut,
    openapi_extra={"x-permission": "workspace:archive"},
)
async def archive_workspace(
    workspace_id: str, rt: Runtime, caller: Caller, idempotency_key: IdempotencyKey = None
) -> WorkspaceOut:
    await authorize(rt.authorizer, caller, workspace_id, "workspace:archive")
    await rt.command(
        c.ArchiveWorkspace(workspace_id=workspace_id),
        actor=caller.actor,
        command_id=command_id_for(caller.actor, idempotency_key),
        workspace_id=workspace_id,
        key=workspace_id,
    )
    return workspace_out(rt, workspace_id, caller.user_id)


@router.post(
    "/workspaces/{workspace_id}/transfer-ownership",
    response_model=WorkspaceOut,
    openapi_extra={"x-permission": "workspace:transfer_ownership"},
)
async def transfer_ownership(
    workspace_id: str,
    body: TransferIn,
    rt: Runtime,
    caller: Caller,
    idempotency_key: IdempotencyKey = None,
) -> WorkspaceOut:
    await authorize(
        rt.authorizer,
        caller,
        workspace_id,
        "workspace:transfer_ownership",
        target_user_id=body.user_id,
        target_role="owner",
    )
    await rt.command(
        c.TransferOwnership(workspace_id=workspace_id, to_user_id=body.user_id),
        actor=caller.actor,
        command_id=command_id_for(caller.actor, idempotency_key),
        workspace_id=workspace_id,
        key=workspace_id,
    )
    return workspace_out(rt, workspace_id, caller.user_id)
