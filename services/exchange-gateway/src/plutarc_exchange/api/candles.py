"""The candles read model: closed candles from `market.candles.v1` (the candle processor's, or a
recorded file's), the newest `KEEP` per venue, symbol and width, for the dashboard's chart.

Market data is not an event log: its messages are `MarketBatch`es, not envelopes, so the
projection decodes them itself (`decode`) and keeps no stream positions (`dedupe = False`). A
candle's identity is (venue, symbol, width, opens_at): one published again after a crash of the
processor is upserted over itself. Older rows than the newest `KEEP` of a series are deleted in
the batch that pushed them out, so the table holds at most `KEEP` rows per series however long
the topic's week is; a batch is trimmed in memory first, so a rebuild writes no more than that.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import msgspec
from plutarc_contracts import ContractError
from plutarc_contracts.market import CANDLES_TOPIC, MarketBatch, decode_batch
from plutarc_runtime.readmodels import upsert
from sqlalchemy import Column, DateTime, Integer, MetaData, String, Table, and_, delete, select
from sqlalchemy.engine import Connection

KEEP = 1000
"""Candles kept per (venue, symbol, width): the most a page of the route shows."""

candles_md = MetaData()
candles = Table(
    "ex_candles",
    candles_md,
    Column("venue", String(40), primary_key=True),
    Column("symbol", String(64), primary_key=True),
    Column("width", String(4), primary_key=True),
    Column("opens_at", DateTime(timezone=True), primary_key=True),
    Column("open", String(41), nullable=False),
    Column("high", String(41), nullable=False),
    Column("low", String(41), nullable=False),
    Column("close", String(41), nullable=False),
    Column("volume", String(41), nullable=False),
    Column("trades", Integer, nullable=False),
    sqlite_with_rowid=False,
)

Series = tuple[str, str, str]  # (venue, symbol, width)


class CandlesProjection:
    name = "exchange.candles"
    version = 1
    topics = (CANDLES_TOPIC,)
    metadata = candles_md
    types: frozenset[str] | None = None
    dedupe = False

    def __init__(self, keep: int = KEEP) -> None:
        self.keep = keep

    def decode(self, data: bytes) -> MarketBatch:
        try:
            return decode_batch(data)
        except (msgspec.ValidationError, msgspec.DecodeError) as exc:
            raise ContractError("market.undecodable", f"not a market batch: {exc}") from None

    def apply(self, conn: Connection, events: Sequence[Any]) -> None:
        found: dict[Series, dict[Any, dict[str, Any]]] = {}
        for batch in events:
            if not isinstance(batch, MarketBatch):
                continue
            for c in batch.candles:
                found.setdefault((batch.venue, batch.symbol, c.width), {})[c.opens_at] = {
                    "venue": batch.venue,
                    "symbol": batch.symbol,
                    "width": c.width,
                    "opens_at": c.opens_at,
                    "open": c.open,
                    "high": c.high,
                    "low": c.low,
                    "close": c.close,
                    "volume": c.volume,
                    "trades": c.trades,
                }
        for key in sorted(found):
            rows = [found[key][at] for at in sorted(found[key])[-self.keep :]]
            upsert(conn, candles, rows, ["venue", "symbol", "width", "opens_at"])
            self._trim(conn, key)

    def _trim(self, conn: Connection, key: Series) -> None:
        venue, symbol, width = key
        c = candles.c
        same = and_(c.venue == venue, c.symbol == symbol, c.width == width)
        oldest_kept = conn.execute(
            select(c.opens_at)
            .where(same)
            .order_by(c.opens_at.desc())
            .offset(self.keep - 1)
            .limit(1)
        ).first()
        if oldest_kept is not None:
            conn.execute(delete(candles).where(same, c.opens_at < oldest_kept[0]))
