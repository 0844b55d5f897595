"""Organisations and workspace settings under /v1/workspaces/{workspace_id}."""

from __future__ import annotations

import asyncio
from typing import Annotated

from fastapi import APIRouter
from plutarc_api.deps import Access, Authenticated, PermissionRoute, Writes, allowed, decide
from plutarc_api.problems import Problem
from plutarc_api.runtime import ApiRuntime
from plutarc_api.schemas import WRITE_ERRORS
from plutarc_contracts import identity as c
from plutarc_contracts.permissions import PERMISSIONS, ROLES

from .lookups import IdentityLookups
from .schemas import AccessOut, OrganisationIn, RenameIn, SettingsIn, TransferIn, WorkspaceOut

router = APIRouter(
    prefix="/v1", tags=["workspaces"], responses=WRITE_ERRORS, route_class=PermissionRoute
)


async def workspace_out(rt: ApiRuntime, workspace_id: str, user_id: str) -> WorkspaceOut:
    lookups = rt.lookups
    assert isinstance(lookups, IdentityLookups), "identity's module provides the API's lookups"
    if lookups.inline:
        row = lookups.workspace(workspace_id, user_id)
    else:
        row = await asyncio.to_thread(lookups.workspace, workspace_id, user_id)
    if row is None:
        raise Problem(404, "workspace.not_found", "no such workspace")
    return WorkspaceOut(
        workspace_id=row.workspace_id,
        name=row.name,
        kind=row.kind,  # type: ignore[arg-type]
        archived=row.archived,
        created_at=row.created_at,
        your_role=row.role or "viewer",  # type: ignore[arg-type]
        risk=row.risk,
        billing_contact=row.billing_contact,
    )


@router.post("/organisations", status_code=201, response_model=WorkspaceOut)
async def create_organisation(
    body: OrganisationIn, caller: Authenticated, write: Writes
) -> WorkspaceOut:
    if caller.token is not None:
        raise Problem(
            403,
            "access.forbidden",
            "API tokens are bound to one workspace and cannot create organisations",
        )
    workspace_id = write.derived_id("workspace")
    reply = await write.send(
        c.CreateOrganisation(workspace_id=workspace_id, name=body.name),
        workspace_id=workspace_id,
        key=workspace_id,
    )
    return await workspace_out(write.rt, reply.result["workspace_id"], caller.user_id)


@router.get("/workspaces/{workspace_id}", response_model=WorkspaceOut)
async def get_workspace(
    workspace_id: str, access: Annotated[Access, allowed("workspace:read")]
) -> WorkspaceOut:
    return await workspace_out(access.rt, workspace_id, access.caller.user_id)


@router.get("/workspaces/{workspace_id}/access", response_model=AccessOut)
async def my_access(
    workspace_id: str, access: Annotated[Access, allowed("workspace:read")]
) -> AccessOut:
    """What you may do here, as the one authorizer decides it (your role's grants, narrowed by
    your API token's): clients show only the actions these allow. Every write is decided again."""
    rt, caller = access.rt, access.caller
    # One decision per permission, all at once: with an OPA server each is a round trip.
    names = sorted(PERMISSIONS)
    may = await asyncio.gather(*(_may(rt, access, p, None, deferred=True) for p in names))
    held = [p for p, yes in zip(names, may, strict=True) if yes]
    roles = (
        await asyncio.gather(
            *(_may(rt, access, "invitations:create", r, deferred=False) for r in ROLES)
        )
        if "invitations:create" in held
        else [False] * len(ROLES)
    )
    return AccessOut(
        workspace_id=workspace_id,
        role=access.role,  # type: ignore[arg-type]
        permissions=held,
        grantable_roles=[r for r, yes in zip(ROLES, roles, strict=True) if yes],
        actor=caller.actor,
    )


async def _may(
    rt: ApiRuntime, access: Access, permission: str, role: str | None, *, deferred: bool
) -> bool:
    resource: dict[str, object] = {} if role is None else {"target_role": role}
    try:
        await decide(rt, access.caller, access.workspace_id, permission, resource, deferred)
    except Problem as p:
        if p.status == 403:
            return False
        raise
    return True


@router.patch("/workspaces/{workspace_id}", response_model=WorkspaceOut)
async def rename_workspace(
    workspace_id: str,
    body: RenameIn,
    access: Annotated[Access, allowed("workspace:update")],
    write: Writes,
) -> WorkspaceOut:
    await write.send(
        c.RenameWorkspace(workspace_id=workspace_id, name=body.name),
        workspace_id=workspace_id,
        key=workspace_id,
    )
    return await workspace_out(access.rt, workspace_id, access.caller.user_id)


@router.put("/workspaces/{workspace_id}/settings", response_model=WorkspaceOut)
async def change_settings(
    workspace_id: str,
    body: SettingsIn,
    access: Annotated[Access, allowed("workspace:update")],
    write: Writes,
) -> WorkspaceOut:
    risk = c.RiskDefaults(**body.risk.model_dump())
    contact = str(body.billing_contact) if body.billing_contact else None
    await write.send(
        c.ChangeWorkspaceSettings(workspace_id=workspace_id, risk=risk, billing_contact=contact),
        workspace_id=workspace_id,
        key=workspace_id,
    )
    return await workspace_out(access.rt, workspace_id, access.caller.user_id)


@router.post("/workspaces/{workspace_id}/archive", response_model=WorkspaceOut)
async def archive_workspace(
    workspace_id: str, access: Annotated[Access, allowed("workspace:archive")], write: Writes
) -> WorkspaceOut:
    await write.send(
        c.ArchiveWorkspace(workspace_id=workspace_id), workspace_id=workspace_id, key=workspace_id
    )
    return await workspace_out(access.rt, workspace_id, access.caller.user_id)


@router.post("/workspaces/{workspace_id}/transfer-ownership", response_model=WorkspaceOut)
async def transfer_ownership(
    workspace_id: str,
    body: TransferIn,
    access: Annotated[
        Access, allowed("workspace:transfer_ownership", about=("target_user_id", "target_role"))
    ],
    write: Writes,
) -> WorkspaceOut:
    await access.check(target_user_id=body.user_id, target_role="owner")
    await write.send(
        c.TransferOwnership(workspace_id=workspace_id, to_user_id=body.user_id),
        workspace_id=workspace_id,
        key=workspace_id,
    )
    return await workspace_out(access.rt, workspace_id, access.caller.user_id)
