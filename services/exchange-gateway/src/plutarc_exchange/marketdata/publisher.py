"""Publishing market batches: each kind to its topic, keyed ``<venue>:<symbol>``."""

from __future__ import annotations

import asyncio
from collections.abc import Iterable
from dataclasses import dataclass

from aiokafka import AIOKafkaProducer
from plutarc_contracts.market import (
    BOOKS_TOPIC,
    CANDLES_TOPIC,
    TRADES_TOPIC,
    MarketBatch,
    encode_batch,
    market_key,
)


@dataclass(frozen=True)
class MarketTopics:
    books: str = BOOKS_TOPIC
    trades: str = TRADES_TOPIC
    candles: str = CANDLES_TOPIC

    def for_batch(self, batch: MarketBatch) -> str:
        if batch.books:
            return self.books
        if batch.trades:
            return self.trades
        return self.candles


class MarketPublisher:
    """Sends batches without waiting for each; `publish` returns once all of them are
    acknowledged, so a caller that paces itself never runs ahead of the broker."""

    def __init__(self, producer: AIOKafkaProducer, topics: MarketTopics | None = None) -> None:
        self.producer = producer
        self.topics = topics or MarketTopics()
        self.messages = 0
        self.bytes = 0

    async def publish(self, batches: Iterable[MarketBatch]) -> int:
        pending = []
        for batch in batches:
            if not (batch.books or batch.trades or batch.candles):
                continue
            data = encode_batch(batch)
            pending.append(
                await self.producer.send(
                    self.topics.for_batch(batch),
                    data,
                    key=market_key(batch.venue, batch.symbol),
                )
            )
            self.bytes += len(data)
        if pending:
            await asyncio.gather(*pending)
        self.messages += len(pending)
        return len(pending)

    async def publish_raw(self, topic: str, key: bytes, data: bytes) -> None:
        await (await self.producer.send(topic, data, key=key))
        self.messages += 1
        self.bytes += len(data)
