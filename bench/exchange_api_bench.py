"""The exchange API's orders read model on SQLite: paper-order events applied per second.

Each order of a bot is what the gateway publishes for a paper market order: accepted, filled,
and the bot's position changed (three events). Orders of `bots` bots are interleaved and applied
in batches of 500 and of 5,000 (the read models' projector takes up to 5,000 at once, so a
backlog is applied in large batches) into a new SQLite file, one transaction per batch. The
gateway's goal is 5,000 paper orders/s (15,000 events/s); the API's read model must keep up.
"""

from __future__ import annotations

import time
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from uuid import uuid4

from plutarc_contracts import Envelope
from plutarc_contracts import exchange as x
from plutarc_exchange.api.models import OrdersProjection
from plutarc_runtime.readmodels import sqlite_engine

T0 = datetime(2026, 12, 3, 9, 0, tzinfo=UTC)
BATCHES = (500, 5000)


def _env(payload: object, bot: str, n: int, name: str) -> Envelope:
    return Envelope(
        event_id=str(uuid4()),
        type=name,
        schema_version=1,
        occurred_at=T0 + timedelta(milliseconds=n),
        producer="exchange-gateway",
        stream_id=bot,
        stream_position=n,
        workspace_id="ws",
        actor="bot:" + bot,
        correlation_id=str(uuid4()),
        causation_id=None,
        payload=payload,
    )


def events(orders: int, bots: int) -> list[Envelope]:
    found: list[Envelope] = []
    held = dict.fromkeys((f"bot-{i}" for i in range(bots)), 0)
    for n in range(orders):
        bot = f"bot-{n % bots}"
        order_id = str(uuid4())
        at = T0 + timedelta(milliseconds=n)
        held[bot] += 1
        accepted = x.OrderAccepted(
            workspace_id="ws",
            bot_id=bot,
            order_id=order_id,
            client_order_id="pl" + order_id[:30],
            mode="paper",
            venue="binance",
            symbol="BTC/USDT",
            side="buy",
            type="market",
            quantity="0.001",
        )
        fill = x.Fill(
            fill_id=order_id + "-f1",
            quantity="0.001",
            price="64000",
            fee="0.064",
            fee_currency="USDT",
            liquidity="taker",
            at=at,
        )
        filled = x.OrderFilled(
            workspace_id="ws",
            bot_id=bot,
            order_id=order_id,
            fill=fill,
            remaining="0",
            status="filled",
        )
        position = x.PositionChanged(
            workspace_id="ws",
            bot_id=bot,
            mode="paper",
            symbol="BTC/USDT",
            quantity=f"{held[bot] / 1000:.3f}",
            average_price="64000",
            realised_pnl="0",
            fees_paid="0.064",
            balances=[x.Balance(currency="USDT", free="9000", reserved="0")],
        )
        found += [
            _env(accepted, bot, 3 * n + 1, "exchange.order_accepted"),
            _env(filled, bot, 3 * n + 2, "exchange.order_filled"),
            _env(position, bot, 3 * n + 3, "exchange.position_changed"),
        ]
    return found


def run(base: Path, quick: bool = False, orders: int = 30_000, bots: int = 50) -> Iterator[str]:
    if quick:
        orders = min(orders, 3_000)
    stream = events(orders, bots)
    for batch in BATCHES:
        engine = sqlite_engine(base / f"exchange-api-bench-{batch}.sqlite")
        projection = OrdersProjection()
        projection.metadata.create_all(engine)
        started = time.perf_counter()
        for start in range(0, len(stream), batch):
            with engine.begin() as conn:
                projection.apply(conn, stream[start : start + batch])
        seconds = time.perf_counter() - started
        engine.dispose()
        yield (
            f"orders read model (SQLite, batches of {batch:,}, {bots} bots): {len(stream):,} "
            f"events in {seconds:.2f} s = {len(stream) / seconds:,.0f} events/s = "
            f"{orders / seconds:,.0f} paper orders/s (the gateway's goal: 5,000 orders/s)"
        )
