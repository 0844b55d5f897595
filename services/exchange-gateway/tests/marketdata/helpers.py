from __future__ import annotations

import asyncio
import uuid
from collections import defaultdict
from datetime import UTC, datetime
from decimal import Decimal

from aiokafka import AIOKafkaConsumer
from plutarc_contracts import Topic
from plutarc_contracts.market import CANDLE_SECONDS, MarketBatch, Trade, decode_batch
from plutarc_exchange.marketdata.publisher import MarketTopics
from plutarc_runtime.bus import ensure_topics, partitions_of

Window = tuple[str, str, datetime]
"""(market key, width, opens_at)"""
Ohlcv = tuple[Decimal, Decimal, Decimal, Decimal, Decimal, int]


async def unique_topics(bootstrap: str, partitions: int = 3) -> MarketTopics:
    prefix = f"mdtest{uuid.uuid4().hex[:8]}"
    topics = MarketTopics(
        books=f"{prefix}.books.v1", trades=f"{prefix}.trades.v1", candles=f"{prefix}.candles.v1"
    )
    await ensure_topics(
        bootstrap,
        [
            Topic(name=name, partitions=partitions, description="test")
            for name in (topics.books, topics.trades, topics.candles)
        ],
    )
    return topics


async def read_all(bootstrap: str, topic: str) -> list[tuple[bytes, MarketBatch]]:
    """Every committed message of ``topic`` up to its current end."""
    consumer = AIOKafkaConsumer(
        bootstrap_servers=bootstrap,
        isolation_level="read_committed",
        enable_auto_commit=False,
        auto_offset_reset="earliest",
    )
    await consumer.start()
    try:
        parts = await partitions_of(consumer, [topic], asyncio.Event(), "test")
        consumer.assign(parts)
        await consumer.seek_to_beginning(*parts)
        end = await consumer.end_offsets(parts)
        out: list[tuple[bytes, MarketBatch]] = []
        while [tp for tp in parts if await consumer.position(tp) < end[tp]]:
            for records in (await consumer.getmany(timeout_ms=500)).values():
                out.extend((r.key, decode_batch(r.value)) for r in records)
        return out
    finally:
        await consumer.stop()


def expected_candles(trades: dict[str, list[Trade]]) -> dict[Window, Ohlcv]:
    """OHLCV of every window that a later trade of its market closed, computed directly."""
    windows: dict[Window, list[Trade]] = defaultdict(list)
    last: dict[tuple[str, str], datetime] = {}
    for market, prints in trades.items():
        for trade in prints:
            for width, seconds in CANDLE_SECONDS.items():
                ts = int(trade.at.timestamp())
                opens = datetime.fromtimestamp(ts - ts % seconds, UTC)
                windows[(market, width, opens)].append(trade)
                last[(market, width)] = opens
    out: dict[Window, Ohlcv] = {}
    for (market, width, opens), prints in windows.items():
        if last[(market, width)] == opens:
            continue
        prices = [Decimal(t.price) for t in prints]
        out[(market, width, opens)] = (
            prices[0],
            max(prices),
            min(prices),
            prices[-1],
            sum((Decimal(t.amount) for t in prints), Decimal(0)),
            len(prints),
        )
    return out
