"""A workspace's strategy library: create, list, read, publish a version, read any version, copy
from another workspace, delete. `strategies:*` permissions (docs/bots.md)."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated

import msgspec
from fastapi import APIRouter, Path, Query, Response
from plutarc_api.deps import Access, Authenticated, PermissionRoute, Writes, allowed
from plutarc_api.paging import keyset_page
from plutarc_api.schemas import WRITE_ERRORS
from plutarc_contracts import bots as b
from sqlalchemy import select

from ..strategy import COMPONENTS
from . import queries
from .models import strategies, strategy_versions
from .schemas import (
    ComponentOut,
    CopyStrategyIn,
    CreateStrategyIn,
    PublishVersionIn,
    StrategyDetailOut,
    StrategyPage,
    StrategyVersionOut,
    VersionPage,
    to_contract,
)

router = APIRouter(
    prefix="/v1", tags=["strategies"], responses=WRITE_ERRORS, route_class=PermissionRoute
)

StrategyId = Annotated[str, Path(min_length=1, max_length=64)]
Cursor = Annotated[str | None, Query(max_length=400, description="next_cursor of the last page")]
Limit = Annotated[int, Query(ge=1, le=200)]
BASE = "/workspaces/{workspace_id}/strategies"


@router.post(BASE, status_code=201, response_model=StrategyDetailOut)
async def create_strategy(
    workspace_id: str,
    body: CreateStrategyIn,
    access: Annotated[Access, allowed("strategies:create")],
    write: Writes,
) -> StrategyDetailOut:
    """Create a strategy: its version 1 is `spec`."""
    strategy_id = write.derived_id("bots-strategy")
    await write.send(
        b.CreateStrategy(
            workspace_id=workspace_id,
            strategy_id=strategy_id,
            name=body.name,
            description=body.description,
            spec=to_contract(body.spec, b.StrategySpec),
        ),
        workspace_id=workspace_id,
        key=strategy_id,
    )
    return await queries.strategy_detail(access.rt, workspace_id, strategy_id)


@router.get(BASE, response_model=StrategyPage)
async def list_strategies(
    workspace_id: str,
    access: Annotated[Access, allowed("strategies:read")],
    include_deleted: bool = False,
    cursor: Cursor = None,
    limit: Limit = 50,
) -> StrategyPage:
    """The workspace's strategies, newest first, a page at a time."""
    s = strategies.c
    query = select(strategies).where(s.workspace_id == workspace_id)
    if not include_deleted:
        query = query.where(s.deleted.is_(False))
    items, next_cursor = await keyset_page(
        access.rt.reader,
        query,
        (s.created_at, s.strategy_id),
        (datetime, str),
        cursor,
        limit,
        queries.strategy_out,
        descending=True,
    )
    return StrategyPage(items=items, next_cursor=next_cursor)


@router.post(BASE + "/copies", status_code=201, response_model=StrategyDetailOut)
async def copy_strategy(
    workspace_id: str,
    body: CopyStrategyIn,
    access: Annotated[Access, allowed("strategies:create")],
    write: Writes,
) -> StrategyDetailOut:
    """Copy a version of another workspace's strategy here, as a new strategy (you need
    `strategies:read` there too). The copy remembers where it came from."""
    strategy_id = write.derived_id("bots-strategy")
    await write.send(
        b.CopyStrategy(
            workspace_id=workspace_id,
            strategy_id=strategy_id,
            source_workspace_id=body.source_workspace_id,
            source_strategy_id=body.source_strategy_id,
            source_version=body.source_version,
            name=body.name,
        ),
        workspace_id=workspace_id,
        key=strategy_id,
    )
    return await queries.strategy_detail(access.rt, workspace_id, strategy_id)


@router.get(BASE + "/{strategy_id}", response_model=StrategyDetailOut)
async def read_strategy(
    workspace_id: str,
    strategy_id: StrategyId,
    access: Annotated[Access, allowed("strategies:read")],
) -> StrategyDetailOut:
    """A strategy with its latest version's spec."""
    return await queries.strategy_detail(access.rt, workspace_id, strategy_id)


@router.delete(BASE + "/{strategy_id}", status_code=204)
async def delete_strategy(
    workspace_id: str,
    strategy_id: StrategyId,
    access: Annotated[Access, allowed("strategies:delete")],
    write: Writes,
) -> Response:
    """Delete a strategy no bot pins; its versions stay readable."""
    await write.send(
        b.DeleteStrategy(workspace_id=workspace_id, strategy_id=strategy_id),
        workspace_id=workspace_id,
        key=strategy_id,
    )
    return Response(status_code=204)


@router.post(BASE + "/{strategy_id}/versions", status_code=201, response_model=StrategyVersionOut)
async def publish_version(
    workspace_id: str,
    strategy_id: StrategyId,
    body: PublishVersionIn,
    access: Annotated[Access, allowed("strategies:update")],
    write: Writes,
) -> StrategyVersionOut:
    """Publish the next version; earlier versions never change. With `expected_version`, only
    if that is still the latest."""
    reply = await write.send(
        b.PublishStrategyVersion(
            workspace_id=workspace_id,
            strategy_id=strategy_id,
            spec=to_contract(body.spec, b.StrategySpec),
            note=body.note,
            expected_version=body.expected_version,
        ),
        workspace_id=workspace_id,
        key=strategy_id,
    )
    number = int(reply.result.get("version", 0))
    return await queries.version(access.rt, workspace_id, strategy_id, number)


@router.get(BASE + "/{strategy_id}/versions", response_model=VersionPage)
async def list_versions(
    workspace_id: str,
    strategy_id: StrategyId,
    access: Annotated[Access, allowed("strategies:read")],
    cursor: Cursor = None,
    limit: Limit = 50,
) -> VersionPage:
    """Every version, newest first."""
    await queries.strategy_row(access.rt, workspace_id, strategy_id)
    v = strategy_versions.c
    items, next_cursor = await keyset_page(
        access.rt.reader,
        select(strategy_versions).where(v.strategy_id == strategy_id),
        (v.version, v.strategy_id),
        (int, str),
        cursor,
        limit,
        queries.version_out,
        descending=True,
    )
    return VersionPage(items=items, next_cursor=next_cursor)


@router.get(BASE + "/{strategy_id}/versions/{version}", response_model=StrategyVersionOut)
async def read_version(
    workspace_id: str,
    strategy_id: StrategyId,
    version: Annotated[int, Path(ge=1, le=1_000_000)],
    access: Annotated[Access, allowed("strategies:read")],
) -> StrategyVersionOut:
    return await queries.version(access.rt, workspace_id, strategy_id, version)


@router.get("/strategy-components", response_model=list[ComponentOut])
async def components(caller: Authenticated) -> list[ComponentOut]:
    """The components a strategy is built from, with the JSON Schema of each one's parameters
    (docs/strategies.md)."""
    return [
        ComponentOut(
            name=name,
            kind=kind.kind,
            summary=kind.summary,
            config_schema=msgspec.json.schema(kind.config),
        )
        for name, kind in sorted(COMPONENTS.items())
    ]
