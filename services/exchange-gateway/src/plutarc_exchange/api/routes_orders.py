"""A bot's orders, fills, positions, balances and PnL: place (`trading:paper`, and `trading:live`
for a live bot), cancel one, cancel all; read with `bots:read` (docs/exchange-api.md). A rejected
order answers 422 with its code and its `order_id`: it is recorded, and readable, like any other."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Literal

from fastapi import APIRouter, Path, Query
from plutarc_api.deps import Access, PermissionRoute, Writes, allowed, authorize
from plutarc_api.paging import keyset_page
from plutarc_api.problems import Problem
from plutarc_api.schemas import WRITE_ERRORS
from plutarc_contracts import exchange as x
from sqlalchemy import select

from . import queries
from .models import fills, orders
from .schemas import (
    CancelAllOut,
    FillPage,
    OrderDetailOut,
    OrderPage,
    PlaceOrderIn,
    PositionsOut,
)

router = APIRouter(
    prefix="/v1", tags=["exchange"], responses=WRITE_ERRORS, route_class=PermissionRoute
)

BotId = Annotated[str, Path(min_length=1, max_length=64)]
OrderId = Annotated[str, Path(min_length=1, max_length=64)]
Cursor = Annotated[str | None, Query(max_length=400, description="next_cursor of the last page")]
Limit = Annotated[int, Query(ge=1, le=200)]
BASE = "/workspaces/{workspace_id}/bots/{bot_id}"
StatusFilter = Literal["open", "closed", "partially_filled", "filled", "cancelled", "rejected"]


async def _may_trade(access: Access, workspace_id: str, bot_id: str) -> None:
    """The bot is in this workspace, and a live one also needs `trading:live` (the gateway decides
    again from its own view of the bot's mode)."""
    if access.replay:
        return
    bot = await queries.bot(access.rt, workspace_id, bot_id)
    if bot.mode == "live":
        await authorize(access.rt, access.caller, workspace_id, "trading:live")


@router.post(BASE + "/orders", status_code=201, response_model=OrderDetailOut)
async def place_order(
    workspace_id: str,
    bot_id: BotId,
    body: PlaceOrderIn,
    access: Annotated[Access, allowed("trading:paper")],
    write: Writes,
) -> OrderDetailOut:
    """Place an order of the bot on its market, routed by its mode (paper, testnet or live). The
    risk gate runs first; a refused order answers 422 with its code (`risk.max_order_notional`,
    `exchange.no_egress`, ...) and `order_id`."""
    if (body.type == "limit") != (body.price is not None):
        raise Problem(
            422,
            "exchange.invalid_input",
            "a limit order has a price and a market order none",
            errors=[{"field": "price", "message": "a limit order needs one, a market order none"}],
        )
    if body.post_only and body.type != "limit":
        raise Problem(
            422,
            "exchange.invalid_input",
            "only a limit order can be post-only",
            errors=[{"field": "post_only", "message": "limit orders only"}],
        )
    await _may_trade(access, workspace_id, bot_id)
    reply = await write.send(
        x.PlaceOrder(workspace_id=workspace_id, bot_id=bot_id, **body.model_dump()),
        workspace_id=workspace_id,
        key=bot_id,
    )
    order_id = str(reply.result.get("order_id", write.command_id))
    if reply.result.get("status") == "rejected":
        raise Problem(
            422,
            str(reply.result.get("code") or "exchange.order_rejected"),
            str(reply.result.get("reason") or "the order was rejected"),
            extensions={"order_id": order_id},
        )
    return await queries.order(access.rt, bot_id, order_id)


@router.get(BASE + "/orders", response_model=OrderPage)
async def list_orders(
    workspace_id: str,
    bot_id: BotId,
    access: Annotated[Access, allowed("bots:read")],
    status: Annotated[
        StatusFilter | None,
        Query(
            description="open: still resting (partially filled included); closed: done; "
            "or one state"
        ),
    ] = None,
    cursor: Cursor = None,
    limit: Limit = 50,
) -> OrderPage:
    """The bot's orders, newest first, open and closed, a page at a time."""
    await queries.bot(access.rt, workspace_id, bot_id)
    t = orders.c
    query = select(orders).where(t.bot_id == bot_id)
    if status in ("open", "closed"):
        query = query.where(t.open.is_(status == "open"))
    elif status is not None:
        query = query.where(t.status == status)
    items, next_cursor = await keyset_page(
        access.rt.reader,
        query,
        (t.created_at, t.order_id),
        (datetime, str),
        cursor,
        limit,
        queries.order_out,
        descending=True,
    )
    return OrderPage(items=items, next_cursor=next_cursor)


@router.get(BASE + "/orders/{order_id}", response_model=OrderDetailOut)
async def read_order(
    workspace_id: str,
    bot_id: BotId,
    order_id: OrderId,
    access: Annotated[Access, allowed("bots:read")],
) -> OrderDetailOut:
    """An order with its fills."""
    await queries.bot(access.rt, workspace_id, bot_id)
    return await queries.order(access.rt, bot_id, order_id)


@router.delete(BASE + "/orders/{order_id}", response_model=OrderDetailOut)
async def cancel_order(
    workspace_id: str,
    bot_id: BotId,
    order_id: OrderId,
    access: Annotated[Access, allowed("trading:paper")],
    write: Writes,
) -> OrderDetailOut:
    """Cancel an open order: the order as it is after. A paper order is cancelled once the paper
    engine confirms (after the venue's latency, so a fill may come first); a testnet or live one at
    the venue. Either way the outcome is an `exchange.order_cancelled` (or a fill) event."""
    if not access.replay:
        await queries.bot(access.rt, workspace_id, bot_id)
        await queries.order(access.rt, bot_id, order_id)
    await write.send(
        x.CancelOrder(workspace_id=workspace_id, bot_id=bot_id, order_id=order_id),
        workspace_id=workspace_id,
        key=bot_id,
    )
    return await queries.order(access.rt, bot_id, order_id)


@router.delete(BASE + "/orders", response_model=CancelAllOut)
async def cancel_all_orders(
    workspace_id: str,
    bot_id: BotId,
    access: Annotated[Access, allowed("trading:paper")],
    write: Writes,
) -> CancelAllOut:
    """Cancel every open order of the bot."""
    if not access.replay:
        await queries.bot(access.rt, workspace_id, bot_id)
    reply = await write.send(
        x.CancelAllOrders(workspace_id=workspace_id, bot_id=bot_id),
        workspace_id=workspace_id,
        key=bot_id,
    )
    result = reply.result
    return CancelAllOut(
        requested=[str(i) for i in result.get("requested", [])],
        cancelled=[str(i) for i in result.get("cancelled", [])],
    )


@router.get(BASE + "/fills", response_model=FillPage)
async def list_fills(
    workspace_id: str,
    bot_id: BotId,
    access: Annotated[Access, allowed("bots:read")],
    order_id: Annotated[str | None, Query(min_length=1, max_length=64)] = None,
    cursor: Cursor = None,
    limit: Limit = 50,
) -> FillPage:
    """The bot's fills, newest first (or one order's)."""
    await queries.bot(access.rt, workspace_id, bot_id)
    f = fills.c
    query = select(fills).where(f.bot_id == bot_id)
    if order_id is not None:
        query = query.where(f.order_id == order_id)
    items, next_cursor = await keyset_page(
        access.rt.reader,
        query,
        (f.at, f.fill_id),
        (datetime, str),
        cursor,
        limit,
        queries.fill_out,
        descending=True,
    )
    return FillPage(items=items, next_cursor=next_cursor)


@router.get(BASE + "/positions", response_model=PositionsOut)
async def positions(
    workspace_id: str, bot_id: BotId, access: Annotated[Access, allowed("bots:read")]
) -> PositionsOut:
    """The bot's position, balances and PnL per mode and symbol (as of its last fill), and
    whether new entries are halted by its daily loss limit."""
    bot = await queries.bot(access.rt, workspace_id, bot_id)
    return await queries.bot_positions(access.rt, bot)
