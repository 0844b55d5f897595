"""A workspace's hosts (state, address, next wake, the planned window), its usage statement, its
sleep policy, and an operator's wake: read with `compute:read`, change with
`compute:manage_sessions` (docs/compute-api.md)."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated

from fastapi import APIRouter, Path, Query
from plutarc_api.deps import Access, PermissionRoute, Writes, allowed
from plutarc_api.schemas import WRITE_ERRORS
from plutarc_contracts import compute as c

from . import queries
from .schemas import (
    HostDetailOut,
    HostPage,
    HostState,
    SleepPolicyIn,
    SleepPolicyOut,
    UsageOut,
    WakeOut,
)
from .usage import Prices, PriceTable

router = APIRouter(
    prefix="/v1", tags=["compute"], responses=WRITE_ERRORS, route_class=PermissionRoute
)

BotId = Annotated[str, Path(min_length=1, max_length=64)]
Cursor = Annotated[str | None, Query(max_length=400, description="next_cursor of the last page")]
Limit = Annotated[int, Query(ge=1, le=200)]
WS = "/workspaces/{workspace_id}"


class Pricing:
    """The price table the statements use (the compute service's, unless replaced)."""

    prices: Prices = PriceTable()


@router.get(WS + "/hosts", response_model=HostPage)
async def list_hosts(
    workspace_id: str,
    access: Annotated[Access, allowed("compute:read")],
    state: Annotated[HostState | None, Query(description="Only hosts in this state.")] = None,
    cursor: Cursor = None,
    limit: Limit = 50,
) -> HostPage:
    """The workspace's bots' hosts by bot id: state, address, size and next wake."""
    items, next_cursor = await queries.host_page(access.rt, workspace_id, state, cursor, limit)
    return HostPage(items=items, next_cursor=next_cursor)


@router.get(WS + "/bots/{bot_id}/host", response_model=HostDetailOut)
async def read_host(
    workspace_id: str, bot_id: BotId, access: Annotated[Access, allowed("compute:read")]
) -> HostDetailOut:
    """A bot's host: its state, address, next wake, the planned window (the schedule), a
    deferred sleep and its deadline, and the latest misses."""
    return await queries.host_detail(access.rt, workspace_id, bot_id)


@router.get(WS + "/usage", response_model=UsageOut, response_model_by_alias=True)
async def usage(
    workspace_id: str,
    access: Annotated[Access, allowed("compute:read")],
    start: Annotated[
        datetime, Query(alias="from", description="The period's start (inclusive), with a zone.")
    ],
    end: Annotated[
        datetime, Query(alias="to", description="The period's end (exclusive), with a zone.")
    ],
) -> UsageOut:
    """The usage statement of [from, to): per bot and in total, compute and address hours and
    their cost, against an always-on host, and the hours and money saved. At most 366 days;
    `from` not before `to`, or a time without a zone, answer 422 `compute.invalid_period`."""
    return await queries.statement(access.rt, workspace_id, start, end, Pricing.prices)


@router.get(WS + "/compute/sleep-policy", response_model=SleepPolicyOut)
async def read_sleep_policy(
    workspace_id: str, access: Annotated[Access, allowed("compute:read")]
) -> SleepPolicyOut:
    """The workspace's sleep policy (a deadline of 0 until one is set: never forced)."""
    found = await queries.sleep_policy(access.rt, workspace_id)
    return found or SleepPolicyOut(workspace_id=workspace_id, drain_deadline_minutes=0, set_at=None)


@router.put(WS + "/compute/sleep-policy", response_model=SleepPolicyOut)
async def set_sleep_policy(
    workspace_id: str,
    body: SleepPolicyIn,
    access: Annotated[Access, allowed("compute:manage_sessions")],
    write: Writes,
) -> SleepPolicyOut:
    """Set how long a bot still exposed at its window's end keeps its host: at most
    `drain_deadline_minutes` after the end, then it is released anyway and the operator told."""
    await write.send(
        c.SetSleepPolicy(
            workspace_id=workspace_id, drain_deadline_minutes=body.drain_deadline_minutes
        ),
        workspace_id=workspace_id,
        key=workspace_id,
    )
    found = await queries.sleep_policy(access.rt, workspace_id)
    return found or SleepPolicyOut(
        workspace_id=workspace_id,
        drain_deadline_minutes=body.drain_deadline_minutes,
        set_at=None,
    )


@router.post(WS + "/bots/{bot_id}/host/wake", response_model=WakeOut)
async def wake_host(
    workspace_id: str,
    bot_id: BotId,
    access: Annotated[Access, allowed("compute:manage_sessions")],
    write: Writes,
) -> WakeOut:
    """Wake the bot's host now (reason `operator`), outside its windows if need be. A host awake
    already stays as it is."""
    if not access.replay:
        await queries.host(access.rt, workspace_id, bot_id)
    await write.send(
        c.WakeHost(workspace_id=workspace_id, bot_id=bot_id, reason="operator"),
        workspace_id=workspace_id,
        key=bot_id,
    )
    row = await queries.host(access.rt, workspace_id, bot_id)
    return WakeOut(bot_id=bot_id, state=row.state)
