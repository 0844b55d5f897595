"""A market-data source for e2e tests: books, trades and candles of one market, published on the
real `market.*` topics the way a recorded file's player publishes them (source `recorded`)."""

from __future__ import annotations

from datetime import datetime
from decimal import Decimal
from uuid import uuid4

from plutarc_contracts.market import (
    BOOKS_TOPIC,
    CANDLES_TOPIC,
    TRADES_TOPIC,
    BookUpdate,
    Candle,
    MarketBatch,
    Trade,
    encode_batch,
    market_key,
)
from plutarc_runtime.bus import make_producer


class MarketFeed:
    def __init__(self, bootstrap: str, venue: str, symbol: str) -> None:
        self.venue, self.symbol = venue, symbol
        self.producer = make_producer(bootstrap, client_id=f"e2e-feed-{uuid4().hex[:6]}")
        self.sequence = 0

    async def __aenter__(self) -> MarketFeed:
        await self.producer.start()
        return self

    async def __aexit__(self, *exc: object) -> None:
        await self.producer.stop()

    async def _send(self, topic: str, batch: MarketBatch) -> None:
        await self.producer.send_and_wait(
            topic, encode_batch(batch), key=market_key(self.venue, self.symbol)
        )

    def _batch(self, **kinds: object) -> MarketBatch:
        return MarketBatch(venue=self.venue, symbol=self.symbol, source="recorded", **kinds)  # type: ignore[arg-type]

    async def book(self, at: datetime, mid: Decimal, depth: str = "50", tick: str = "0.01") -> None:
        """A snapshot: ten levels each side of `mid`, `depth` at each."""
        step = Decimal(tick)
        bids = [(str(mid - step * i), depth) for i in range(1, 11)]
        asks = [(str(mid + step * i), depth) for i in range(1, 11)]
        self.sequence += 1
        update = BookUpdate(sequence=self.sequence, at=at, snapshot=True, bids=bids, asks=asks)
        await self._send(BOOKS_TOPIC, self._batch(books=[update]))

    async def trade(self, at: datetime, price: Decimal, amount: str, side: str = "sell") -> None:
        trade = Trade(trade_id=uuid4().hex, at=at, price=str(price), amount=amount, side=side)  # type: ignore[arg-type]
        await self._send(TRADES_TOPIC, self._batch(trades=[trade]))

    async def candle(
        self, opens_at: datetime, width: str, o: Decimal, h: Decimal, low: Decimal, c: Decimal
    ) -> None:
        candle = Candle(
            width=width,  # type: ignore[arg-type]
            opens_at=opens_at,
            open=str(o),
            high=str(h),
            low=str(low),
            close=str(c),
            volume="10",
            trades=10,
        )
        await self._send(CANDLES_TOPIC, self._batch(candles=[candle]))

    async def candles(self, candles: list[Candle]) -> None:
        """Closed candles in one message, as the candle processor publishes a step's."""
        await self._send(CANDLES_TOPIC, self._batch(candles=candles))
