"""What the dashboard's chart draws besides fills: the closed candles of the bot's venue and symbol
(from its configuration) at one interval, and its realised PnL over time; read with `bots:read`
like its fills (docs/exchange-api.md)."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Annotated

from fastapi import APIRouter, Path, Query
from plutarc_api.deps import Access, PermissionRoute, allowed
from plutarc_api.schemas import READ_ERRORS
from plutarc_runtime.readmodels import aware
from sqlalchemy import select

from . import queries
from .candles import KEEP, candles
from .pnl import pnl
from .schemas import CandleOut, CandlesOut, Interval, Mode, PnlOut, PnlPointOut

router = APIRouter(
    prefix="/v1", tags=["exchange"], responses=READ_ERRORS, route_class=PermissionRoute
)

BotId = Annotated[str, Path(min_length=1, max_length=64)]


def _instant(before: datetime | None) -> datetime | None:
    """`before` in UTC (naive: taken as UTC); None for no bound. An offset that moves it past
    year 1 or 9999 is before everything, or after it."""
    if before is None:
        return None
    try:
        return before.astimezone(UTC) if before.tzinfo else before.replace(tzinfo=UTC)
    except OverflowError:
        return datetime.min.replace(tzinfo=UTC) if before.year == 1 else None


@router.get("/workspaces/{workspace_id}/bots/{bot_id}/candles", response_model=CandlesOut)
async def bot_candles(
    workspace_id: str,
    bot_id: BotId,
    access: Annotated[Access, allowed("bots:read")],
    interval: Annotated[Interval, Query(description="the candles' width")] = "1m",
    limit: Annotated[int, Query(ge=1, le=KEEP, description="the newest this many")] = 300,
    before: Annotated[
        datetime | None,
        Query(description="only candles that open before this time (the page before)"),
    ] = None,
) -> CandlesOut:
    """The newest closed candles of the bot's market (its venue and symbol now), oldest first.
    The API keeps the newest 1000 of each market and interval; a window in which nothing traded
    has no candle. Unknown interval or a limit out of 1..1000 answers 422 `request.invalid`."""
    bot = await queries.bot(access.rt, workspace_id, bot_id)
    c = candles.c
    query = select(candles).where(c.venue == bot.venue, c.symbol == bot.symbol, c.width == interval)
    when = _instant(before)
    if when is not None:
        query = query.where(c.opens_at < when)
    rows = await access.rt.reader.all(query.order_by(c.opens_at.desc()).limit(limit))
    items = [
        CandleOut(
            opens_at=aware(r.opens_at),
            open=r.open,
            high=r.high,
            low=r.low,
            close=r.close,
            volume=r.volume,
            trades=r.trades,
        )
        for r in reversed(rows)
    ]
    return CandlesOut(
        bot_id=bot_id, venue=bot.venue, symbol=bot.symbol, interval=interval, items=items
    )


@router.get("/workspaces/{workspace_id}/bots/{bot_id}/pnl", response_model=PnlOut)
async def bot_pnl(
    workspace_id: str,
    bot_id: BotId,
    access: Annotated[Access, allowed("bots:read")],
    mode: Annotated[
        Mode | None, Query(description="the mode's PnL; the bot's mode now if absent")
    ] = None,
    limit: Annotated[int, Query(ge=1, le=KEEP, description="the newest this many points")] = 500,
    before: Annotated[
        datetime | None, Query(description="only points before this time (the page before)")
    ] = None,
) -> PnlOut:
    """The bot's realised PnL over time on its market (its symbol now) in one mode: a point per
    position change (each fill), the newest `limit`, oldest first. Fees are included; paper,
    testnet and live are kept apart. An unknown mode or a limit out of 1..1000 answers 422
    `request.invalid`."""
    bot = await queries.bot(access.rt, workspace_id, bot_id)
    shown = mode or bot.mode
    p = pnl.c
    query = select(pnl).where(p.bot_id == bot_id, p.mode == shown, p.symbol == bot.symbol)
    when = _instant(before)
    if when is not None:
        query = query.where(p.at < when)
    rows = await access.rt.reader.all(query.order_by(p.at.desc(), p.event_id.desc()).limit(limit))
    items = [
        PnlPointOut(
            at=aware(r.at),
            realised_pnl=r.realised_pnl,
            quantity=r.quantity,
            average_price=r.average_price,
            fees_paid=r.fees_paid,
        )
        for r in reversed(rows)
    ]
    return PnlOut(bot_id=bot_id, mode=shown, symbol=bot.symbol, items=items)
