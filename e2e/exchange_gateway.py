"""The exchange gateway as the e2e platform runs it: its own bootstrap (handlers, store, sealing
key, vault, paper engines, venue desk), with the paper venue latency off so an order's outcome is
in its reply, and each paper market it is asked about given a book around 100 at start (the test
acts as the market-data source; `e2e/market_feed.py` publishes more on the real topics)."""

from __future__ import annotations

from datetime import UTC, datetime
from decimal import Decimal
from pathlib import Path
from typing import Any

from plutarc_access import AccessEngine, engine_for
from plutarc_contracts.market import BookUpdate, MarketBatch
from plutarc_exchange.bootstrap import build
from plutarc_exchange.paper_desk import PaperDesk
from plutarc_exchange.sealing import SealingKey
from plutarc_exchange.settings import ExchangeSettings
from plutarc_exchange.venue_table import VenueTable
from plutarc_runtime.service import ServiceSpec

MARKETS = [("binance", "BTC/USDT"), ("binance", "ETH/USDT"), ("kraken", "BTC/USDT")]
"""Kraken's is the wake journey's alone (no other test publishes its market data)."""


def sealing_key(data_dir: Path) -> SealingKey:
    return SealingKey.load_or_create(data_dir / "exchange-gateway.sealing-key")


def book_at_100(venue: str, symbol: str) -> MarketBatch:
    at = datetime.now(UTC)
    asks = [(str(Decimal(100) + i), "1000") for i in range(5)]
    bids = [(str(Decimal("99.99") - i), "1000") for i in range(5)]
    update = BookUpdate(sequence=1, at=at, snapshot=True, bids=bids, asks=asks)
    return MarketBatch(venue=venue, symbol=symbol, source="recorded", books=[update])  # type: ignore[arg-type]


def gateway_spec(
    data_dir: Path, kafka_bootstrap: str, policy: AccessEngine | None = None, **settings: Any
) -> ServiceSpec:
    table = VenueTable()
    desk = PaperDesk(table.rules, None)
    for venue, symbol in MARKETS:
        desk.on_batch(book_at_100(venue, symbol))
    values: dict[str, Any] = {
        "kafka_bootstrap": kafka_bootstrap,
        "data_dir": data_dir,
        "exchange_timer_interval_seconds": 0.2,
        **settings,
    }
    return build(ExchangeSettings(**values), policy=policy or engine_for(None), paper=desk)
