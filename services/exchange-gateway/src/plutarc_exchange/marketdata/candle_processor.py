"""The candle processor: folds ``market.trades.v1`` into tumbling windows (`candles.fold`) and
publishes each closed window on ``market.candles.v1``.

What holds across a stop, a restart or a crash:

- **No candle is lost and none is double-counted.** Each market's open windows and each
  partition's next offset are written to one SQLite file in one transaction, after the candles
  that the folded messages closed have been acknowledged by Kafka. A restart resumes from the
  stored offsets with the stored windows, so every trade is folded exactly once.
- **A stop and restart publishes every candle exactly once.**
- **A crash between the acknowledgement and the commit publishes that step's candles again**, with
  identical content. A candle's identity is (market, width, opens_at); `CandleReader` drops
  repeats, so a reader sees each window once.

One processor runs per deployment (it reads every partition). faust-streaming was the first
choice and is not used; docs/market-data.md has the measurements that ruled it out.
"""

from __future__ import annotations

import asyncio
import logging
import sqlite3
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path

import msgspec
from aiokafka import AIOKafkaProducer, ConsumerRecord, TopicPartition
from plutarc_contracts.market import (
    CANDLES_TOPIC,
    TRADES_TOPIC,
    Candle,
    MarketBatch,
    decode_batch,
    encode_batch,
)
from plutarc_runtime.bus import log_reader, make_producer, partitions_of

from .candles import WIDTHS, MarketCandles, decode_state, encode_state, fold

log = logging.getLogger(__name__)

_SCHEMA = """
CREATE TABLE IF NOT EXISTS positions (topic TEXT, part INTEGER, next_offset INTEGER,
  PRIMARY KEY (topic, part));
CREATE TABLE IF NOT EXISTS markets (market TEXT PRIMARY KEY, state BLOB NOT NULL);
"""


@dataclass
class CandleConfig:
    bootstrap: str
    state_path: Path = Path("var/data/candles.sqlite")
    trades_topic: str = TRADES_TOPIC
    candles_topic: str = CANDLES_TOPIC
    widths: tuple[str, ...] = WIDTHS
    client_id: str = "plutarc-candles"
    max_records: int = 2000


@dataclass
class CandleStats:
    messages: int = 0
    trades: int = 0
    candles: int = 0
    undecodable: int = 0
    steps: int = 0
    committed: int = 0
    markets: set[str] = field(default_factory=set)


class CandleProcessor:
    """``before_commit`` (tests) runs after a step's candles are acknowledged and before its
    state is committed: raising there is a crash at the worst moment."""

    def __init__(
        self, config: CandleConfig, *, before_commit: Callable[[int], None] | None = None
    ) -> None:
        self.config = config
        self.stats = CandleStats()
        self._before_commit = before_commit
        self._db = sqlite3.connect(config.state_path, isolation_level=None)
        self._db.executescript(_SCHEMA)
        self._states: dict[str, MarketCandles] = {}

    def close(self) -> None:
        self._db.close()

    def _positions(self) -> dict[int, int]:
        rows = self._db.execute(
            "SELECT part, next_offset FROM positions WHERE topic = ?", (self.config.trades_topic,)
        )
        return {part: offset for part, offset in rows}

    def _state(self, market: str) -> MarketCandles:
        state = self._states.get(market)
        if state is None:
            row = self._db.execute(
                "SELECT state FROM markets WHERE market = ?", (market,)
            ).fetchone()
            state = self._states[market] = decode_state(row[0] if row else None)
        return state

    async def run(self, stop: asyncio.Event) -> None:
        config = self.config
        consumer = log_reader(config.bootstrap, config.client_id, fetch_max_wait_ms=100)
        producer = make_producer(config.bootstrap, client_id=config.client_id, linger_ms=5)
        await consumer.start()
        await producer.start()
        try:
            parts = await partitions_of(consumer, [config.trades_topic], stop, "candles")
            consumer.assign(parts)
            stored = self._positions()
            for tp in parts:
                if tp.partition in stored:
                    consumer.seek(tp, stored[tp.partition])
                else:
                    await consumer.seek_to_beginning(tp)
            while not stop.is_set():
                fetched = await consumer.getmany(timeout_ms=200, max_records=config.max_records)
                if fetched:
                    await self._step(fetched, producer)
        finally:
            await producer.stop()
            await consumer.stop()

    async def _step(
        self, fetched: dict[TopicPartition, list[ConsumerRecord]], producer: AIOKafkaProducer
    ) -> None:
        out: list[tuple[bytes, bytes]] = []
        dirty: set[str] = set()
        positions: dict[int, int] = {}
        for tp, records in fetched.items():
            for record in records:
                key: bytes = record.key
                positions[tp.partition] = record.offset + 1
                self.stats.messages += 1
                try:
                    batch = decode_batch(record.value)
                except (msgspec.ValidationError, msgspec.DecodeError):
                    self.stats.undecodable += 1
                    log.warning("undecodable trades message", extra={"key": key})
                    continue
                market = f"{batch.venue}:{batch.symbol}"
                closed = fold(self._state(market), batch.trades, self.config.widths)
                dirty.add(market)
                self.stats.trades += len(batch.trades)
                self.stats.markets.add(market)
                if closed:
                    out.append((key, _encode(batch, closed)))
                    self.stats.candles += len(closed)
        sends = [await producer.send(self.config.candles_topic, data, key=key) for key, data in out]
        await asyncio.gather(*sends)
        self.stats.steps += 1
        if self._before_commit is not None:
            self._before_commit(self.stats.steps)
        with self._db:
            self._db.execute("BEGIN")
            self._db.executemany(
                "INSERT OR REPLACE INTO markets (market, state) VALUES (?, ?)",
                [(m, encode_state(self._states[m])) for m in dirty],
            )
            self._db.executemany(
                "INSERT OR REPLACE INTO positions (topic, part, next_offset) VALUES (?, ?, ?)",
                [(self.config.trades_topic, p, o) for p, o in positions.items()],
            )
        self.stats.committed = self.stats.messages


def _encode(batch: MarketBatch, closed: list[Candle]) -> bytes:
    return encode_batch(
        MarketBatch(venue=batch.venue, symbol=batch.symbol, source=batch.source, candles=closed)
    )


class CandleReader:
    """Keeps the newest window seen per (market, width) and passes on only newer ones, so a
    candle published twice after a crash reaches its reader once."""

    def __init__(self) -> None:
        self._last: dict[tuple[str, str], datetime] = {}

    def accept(self, batch: MarketBatch) -> list[Candle]:
        market = f"{batch.venue}:{batch.symbol}"
        fresh = []
        for candle in batch.candles:
            last = self._last.get((market, candle.width))
            if last is not None and candle.opens_at <= last:
                continue
            self._last[(market, candle.width)] = candle.opens_at
            fresh.append(candle)
        return fresh
