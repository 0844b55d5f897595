"""The PnL read model: a point per `exchange.position_changed` (each fill changes the position),
so the dashboard's chart can draw a bot's realised PnL over time beside its candles.

A point is keyed by (bot, mode, symbol, time, event id): an event applied again is upserted over
itself, so the projection keeps no stream positions (`dedupe = False`). Realised PnL is the
gateway's, fees included, in the market's quote currency; the position's quantity and average
price at that point come with it.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from plutarc_contracts import Envelope
from plutarc_contracts import exchange as x
from plutarc_runtime.readmodels import upsert
from sqlalchemy import Column, DateTime, MetaData, String, Table
from sqlalchemy.engine import Connection

pnl_md = MetaData()
pnl = Table(
    "ex_pnl",
    pnl_md,
    Column("bot_id", String(64), primary_key=True),
    Column("mode", String(20), primary_key=True),
    Column("symbol", String(64), primary_key=True),
    Column("at", DateTime(timezone=True), primary_key=True),
    Column("event_id", String(64), primary_key=True),
    Column("workspace_id", String(64), nullable=False),
    Column("quantity", String(41), nullable=False),
    Column("average_price", String(41), nullable=False),
    Column("realised_pnl", String(41), nullable=False),
    Column("fees_paid", String(41), nullable=False),
    sqlite_with_rowid=False,
)
KEY = ["bot_id", "mode", "symbol", "at", "event_id"]


class PnlProjection:
    name = "exchange.pnl"
    version = 1
    topics = (x.ORDERS_TOPIC,)
    metadata = pnl_md
    types: frozenset[str] | None = frozenset({"exchange.position_changed"})
    dedupe = False

    def apply(self, conn: Connection, events: Sequence[Envelope]) -> None:
        rows: list[dict[str, Any]] = []
        for env in events:
            p = env.payload
            if isinstance(p, x.PositionChanged):
                rows.append(
                    {
                        "bot_id": p.bot_id,
                        "mode": p.mode,
                        "symbol": p.symbol,
                        "at": env.occurred_at,
                        "event_id": env.event_id,
                        "workspace_id": p.workspace_id,
                        "quantity": p.quantity,
                        "average_price": p.average_price,
                        "realised_pnl": p.realised_pnl,
                        "fees_paid": p.fees_paid,
                    }
                )
        upsert(conn, pnl, rows, KEY)
