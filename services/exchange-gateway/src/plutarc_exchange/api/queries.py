"""Reads of the exchange context's tables for the routes: rows to bodies, pages by cursor."""

from __future__ import annotations

from typing import Any

from plutarc_api.problems import Problem
from plutarc_api.runtime import ApiRuntime
from plutarc_runtime.readmodels import aware
from sqlalchemy import select

from .models import CURRENT, bots, connections, fills, orders, positions, sealing_key
from .schemas import (
    BalanceOut,
    ConnectionOut,
    FillOut,
    HaltOut,
    OrderDetailOut,
    OrderOut,
    PositionOut,
    PositionsOut,
    SealingKeyOut,
)

FILLS_SHOWN = 200


def connection_out(row: Any) -> ConnectionOut:
    return ConnectionOut(
        connection_id=row.connection_id,
        workspace_id=row.workspace_id,
        venue=row.venue,
        label=row.label,
        environments=list(row.environments),
        fingerprint=row.fingerprint,
        added_by=row.added_by,
        added_at=aware(row.added_at),
    )


def order_out(row: Any) -> OrderOut:
    return OrderOut(
        order_id=row.order_id,
        bot_id=row.bot_id,
        status="open" if row.status == "new" else row.status,
        mode=row.mode,
        venue=row.venue,
        symbol=row.symbol,
        side=row.side,
        type=row.type,
        quantity=row.quantity,
        price=row.price,
        post_only=row.post_only,
        reduce_only=row.reduce_only,
        filled=row.filled,
        remaining=row.remaining,
        client_order_id=row.client_order_id,
        venue_order_id=row.venue_order_id,
        code=row.code,
        reason=row.reason,
        created_at=aware(row.created_at),
        updated_at=aware(row.updated_at),
    )


def fill_out(row: Any) -> FillOut:
    return FillOut(
        fill_id=row.fill_id,
        order_id=row.order_id,
        side=row.side,
        quantity=row.quantity,
        price=row.price,
        fee=row.fee,
        fee_currency=row.fee_currency,
        liquidity=row.liquidity,
        at=aware(row.at),
    )


async def current_key(rt: ApiRuntime) -> SealingKeyOut:
    row = await rt.reader.one(select(sealing_key).where(sealing_key.c.slot == CURRENT))
    if row is None:
        raise Problem(
            503,
            "exchange.sealing_key_unavailable",
            "the exchange gateway has not published its sealing key yet; retry shortly",
            headers={"Retry-After": "5"},
        )
    return SealingKeyOut(
        key_id=row.key_id, public_key=row.public_key, published_at=aware(row.published_at)
    )


async def connection(rt: ApiRuntime, workspace_id: str, connection_id: str) -> ConnectionOut:
    row = await rt.reader.one(
        select(connections).where(connections.c.connection_id == connection_id)
    )
    if row is None or row.workspace_id != workspace_id:
        raise Problem(404, "exchange.connection_not_found", f"no connection {connection_id} here")
    return connection_out(row)


async def bot(rt: ApiRuntime, workspace_id: str, bot_id: str) -> Any:
    """The bot as the exchange context knows it (workspace, mode, market); 404 if not here."""
    row = await rt.reader.one(select(bots).where(bots.c.bot_id == bot_id))
    if row is None or row.workspace_id != workspace_id:
        raise Problem(404, "exchange.bot_not_found", f"no bot {bot_id} here")
    return row


async def order(rt: ApiRuntime, bot_id: str, order_id: str) -> OrderDetailOut:
    row = await rt.reader.one(select(orders).where(orders.c.order_id == order_id))
    if row is None or row.bot_id != bot_id:
        raise Problem(404, "exchange.order_not_found", f"bot {bot_id} has no order {order_id}")
    f = fills.c
    found = await rt.reader.all(
        select(fills).where(f.order_id == order_id).order_by(f.at, f.fill_id).limit(FILLS_SHOWN + 1)
    )
    return OrderDetailOut(
        **order_out(row).model_dump(),
        fills=[fill_out(r) for r in found[:FILLS_SHOWN]],
        more_fills=len(found) > FILLS_SHOWN,
    )


async def bot_positions(rt: ApiRuntime, bot_row: Any) -> PositionsOut:
    p = positions.c
    rows = await rt.reader.all(
        select(positions).where(p.bot_id == bot_row.bot_id).order_by(p.mode, p.symbol).limit(100)
    )
    now = rt.now()
    items = []
    for row in rows:
        until = aware(row.halted_until)
        halt = None
        if until is not None and until > now and row.halt:
            halt = HaltOut(until=until, loss=row.halt["loss"], threshold=row.halt["threshold"])
        items.append(
            PositionOut(
                mode=row.mode,
                symbol=row.symbol,
                quantity=row.quantity,
                average_price=row.average_price,
                realised_pnl=row.realised_pnl,
                fees_paid=row.fees_paid,
                balances=[BalanceOut(**b) for b in row.balances],
                entries_halted=halt,
                updated_at=aware(row.updated_at),
            )
        )
    return PositionsOut(bot_id=bot_row.bot_id, mode=bot_row.mode, items=items)
