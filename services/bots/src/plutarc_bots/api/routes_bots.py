"""A workspace's bots: create, list, read (with the limits in force, or the version in force at an
instant), reconfigure, switch mode, start, stop, delete, and every version. `bots:*` and
`trading:*` permissions (docs/bots.md)."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated

from fastapi import APIRouter, Path, Query, Response
from plutarc_api.deps import Access, PermissionRoute, Writes, allowed
from plutarc_api.paging import keyset_page
from plutarc_api.problems import Problem
from plutarc_api.schemas import WRITE_ERRORS
from plutarc_contracts import bots as b
from sqlalchemy import select

from . import queries
from .models import bot_versions, bots
from .schemas import (
    BotDetailOut,
    BotPage,
    BotVersionOut,
    BotVersionPage,
    CreateBotIn,
    ModeIn,
    ReconfigureBotIn,
    to_contract,
)

router = APIRouter(prefix="/v1", tags=["bots"], responses=WRITE_ERRORS, route_class=PermissionRoute)

BotId = Annotated[str, Path(min_length=1, max_length=64)]
Cursor = Annotated[str | None, Query(max_length=400, description="next_cursor of the last page")]
Limit = Annotated[int, Query(ge=1, le=200)]
BASE = "/workspaces/{workspace_id}/bots"


@router.post(BASE, status_code=201, response_model=BotDetailOut)
async def create_bot(
    workspace_id: str,
    body: CreateBotIn,
    access: Annotated[Access, allowed("bots:create")],
    write: Writes,
) -> BotDetailOut:
    """Create a bot, stopped, in paper mode (or testnet, with `trading:paper`). A bot goes live
    only through the mode route."""
    bot_id = write.derived_id("bots-bot")
    await write.send(
        b.CreateBot(
            workspace_id=workspace_id,
            bot_id=bot_id,
            config=to_contract(body.config, b.BotConfig),
            mode=body.mode,
        ),
        workspace_id=workspace_id,
        key=bot_id,
    )
    return await queries.bot_detail(access.rt, workspace_id, bot_id)


@router.get(BASE, response_model=BotPage)
async def list_bots(
    workspace_id: str,
    access: Annotated[Access, allowed("bots:read")],
    cursor: Cursor = None,
    limit: Limit = 50,
) -> BotPage:
    """The workspace's bots, newest first, a page at a time."""
    t = bots.c
    items, next_cursor = await keyset_page(
        access.rt.reader,
        select(bots).where(t.workspace_id == workspace_id, t.deleted.is_(False)),
        (t.created_at, t.bot_id),
        (datetime, str),
        cursor,
        limit,
        queries.bot_out,
        descending=True,
    )
    return BotPage(items=items, next_cursor=next_cursor)


@router.get(BASE + "/{bot_id}", response_model=BotDetailOut)
async def read_bot(
    workspace_id: str, bot_id: BotId, access: Annotated[Access, allowed("bots:read")]
) -> BotDetailOut:
    """A bot now: configuration, mode, state, next trading window, and the limits in force."""
    return await queries.bot_detail(access.rt, workspace_id, bot_id)


@router.put(BASE + "/{bot_id}/config", response_model=BotDetailOut)
async def reconfigure_bot(
    workspace_id: str,
    bot_id: BotId,
    body: ReconfigureBotIn,
    access: Annotated[Access, allowed("bots:update")],
    write: Writes,
) -> BotDetailOut:
    """Replace the configuration: the next version. A live bot also needs `trading:live`."""
    await write.send(
        b.ReconfigureBot(
            workspace_id=workspace_id,
            bot_id=bot_id,
            config=to_contract(body.config, b.BotConfig),
            expected_version=body.expected_version,
        ),
        workspace_id=workspace_id,
        key=bot_id,
    )
    return await queries.bot_detail(access.rt, workspace_id, bot_id)


@router.post(BASE + "/{bot_id}/mode", response_model=BotDetailOut)
async def change_mode(
    workspace_id: str,
    bot_id: BotId,
    body: ModeIn,
    access: Annotated[Access, allowed("trading:paper")],
    write: Writes,
) -> BotDetailOut:
    """Switch between paper, testnet and live; nothing else changes. Live also needs
    `trading:live` and `confirm_live: true`."""
    await write.send(
        b.ChangeBotMode(
            workspace_id=workspace_id,
            bot_id=bot_id,
            mode=body.mode,
            confirm_live=body.confirm_live,
            expected_version=body.expected_version,
        ),
        workspace_id=workspace_id,
        key=bot_id,
    )
    return await queries.bot_detail(access.rt, workspace_id, bot_id)


@router.post(BASE + "/{bot_id}/start", response_model=BotDetailOut)
async def start_bot(
    workspace_id: str,
    bot_id: BotId,
    access: Annotated[Access, allowed("bots:start_stop")],
    write: Writes,
) -> BotDetailOut:
    """Set the bot running: it trades within its sessions."""
    await write.send(
        b.StartBot(workspace_id=workspace_id, bot_id=bot_id),
        workspace_id=workspace_id,
        key=bot_id,
    )
    return await queries.bot_detail(access.rt, workspace_id, bot_id)


@router.post(BASE + "/{bot_id}/stop", response_model=BotDetailOut)
async def stop_bot(
    workspace_id: str,
    bot_id: BotId,
    access: Annotated[Access, allowed("bots:start_stop")],
    write: Writes,
) -> BotDetailOut:
    await write.send(
        b.StopBot(workspace_id=workspace_id, bot_id=bot_id), workspace_id=workspace_id, key=bot_id
    )
    return await queries.bot_detail(access.rt, workspace_id, bot_id)


@router.delete(BASE + "/{bot_id}", status_code=204)
async def delete_bot(
    workspace_id: str,
    bot_id: BotId,
    access: Annotated[Access, allowed("bots:delete")],
    write: Writes,
) -> Response:
    """Delete a stopped bot (its versions stay in the audit log)."""
    await write.send(
        b.DeleteBot(workspace_id=workspace_id, bot_id=bot_id),
        workspace_id=workspace_id,
        key=bot_id,
    )
    return Response(status_code=204)


@router.get(BASE + "/{bot_id}/versions", response_model=BotVersionPage)
async def list_bot_versions(
    workspace_id: str,
    bot_id: BotId,
    access: Annotated[Access, allowed("bots:read")],
    cursor: Cursor = None,
    limit: Limit = 50,
) -> BotVersionPage:
    """Every version of the bot, newest first: what changed, who changed it, when."""
    await queries.bot_row(access.rt, workspace_id, bot_id)
    v = bot_versions.c
    items, next_cursor = await keyset_page(
        access.rt.reader,
        select(bot_versions).where(v.bot_id == bot_id),
        (v.version, v.bot_id),
        (int, str),
        cursor,
        limit,
        queries.bot_version_out,
        descending=True,
    )
    return BotVersionPage(items=items, next_cursor=next_cursor)


@router.get(BASE + "/{bot_id}/versions/at", response_model=BotVersionOut)
async def version_at(
    workspace_id: str,
    bot_id: BotId,
    instant: Annotated[datetime, Query(alias="at", description="RFC 3339, with its offset")],
    access: Annotated[Access, allowed("bots:read")],
) -> BotVersionOut:
    """The version in force at an instant: the configuration and mode a trade made then ran."""
    if instant.tzinfo is None:
        raise Problem(422, "request.invalid", "`at` needs a UTC offset, such as Z")
    return await queries.version_at(access.rt, workspace_id, bot_id, instant)
