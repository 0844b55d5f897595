from __future__ import annotations

import asyncio
import uuid
from collections import Counter
from datetime import UTC, datetime
from decimal import Decimal
from pathlib import Path

import pytest
from plutarc_contracts.market import MarketBatch, Trade
from plutarc_exchange.marketdata.candle_processor import (
    CandleConfig,
    CandleProcessor,
    CandleReader,
)
from plutarc_exchange.marketdata.publisher import MarketPublisher, MarketTopics
from plutarc_exchange.marketdata.simulator import MarketParams, MarketSpec, Simulator
from plutarc_runtime.bus import make_producer
from plutarc_testkit.waiting import until

from .helpers import Ohlcv, Window, expected_candles, read_all, unique_topics

pytestmark = pytest.mark.kafka

START = datetime(2026, 3, 1, 22, 0, 7, tzinfo=UTC)
QUIET = MarketParams(updates_per_second=0.05, trades_per_second=0.05, snapshot_every=0)


def trade_batches(hours: int) -> list[MarketBatch]:
    """Two markets' trades over ``hours`` (crossing midnight, so every width closes windows),
    one message per market and simulated 10 minutes."""
    sim = Simulator(
        [MarketSpec("binance", "BTC/USDT", QUIET), MarketSpec("okx", "ETH/USDT", QUIET)],
        seed=9,
        start=START,
    )
    return [b for _ in range(hours * 6) for b in sim.advance(600) if b.trades]


def processor(
    bootstrap: str, topics: MarketTopics, state: Path, crash_at: int | None = None
) -> CandleProcessor:
    def before_commit(step: int) -> None:
        if step == crash_at:
            raise Crash(step)

    config = CandleConfig(
        bootstrap=bootstrap,
        state_path=state,
        trades_topic=topics.trades,
        candles_topic=topics.candles,
        client_id=f"candles-test-{uuid.uuid4().hex[:6]}",
        max_records=7,
    )
    return CandleProcessor(config, before_commit=before_commit)


class Crash(Exception):
    pass


async def run_until(proc: CandleProcessor, messages: int) -> None:
    """Run ``proc`` until it has folded ``messages`` trades messages, then stop it."""
    stop = asyncio.Event()
    task = asyncio.create_task(proc.run(stop))
    try:
        await until(
            lambda: proc.stats.messages >= messages or task.done(),
            60,
            what=f"{messages} messages folded ({proc.stats})",
        )
    finally:
        stop.set()
        await task
    assert proc.stats.messages == messages


def trades_by_market(batches: list[MarketBatch]) -> dict[str, list[Trade]]:
    out: dict[str, list[Trade]] = {}
    for b in batches:
        out.setdefault(f"{b.venue}:{b.symbol}", []).extend(b.trades)
    return out


async def test_restart_neither_loses_nor_double_counts_a_candle(
    kafka_bootstrap: str, tmp_path: Path
) -> None:
    topics = await unique_topics(kafka_bootstrap)
    batches = trade_batches(hours=30)
    first, second, third = batches[:150], batches[150:260], batches[260:]
    producer = make_producer(kafka_bootstrap, client_id="candles-test")
    await producer.start()
    publisher = MarketPublisher(producer, topics)
    try:
        await publisher.publish(first)
        one = processor(kafka_bootstrap, topics, tmp_path / "candles.sqlite")
        await run_until(one, len(first))
        one.close()
        closed_before = await read_all(kafka_bootstrap, topics.candles)
        assert closed_before, "some windows closed before the stop"

        await publisher.publish(second)
        two = processor(kafka_bootstrap, topics, tmp_path / "candles.sqlite")
        stop = asyncio.Event()
        task = asyncio.create_task(two.run(stop))
        await publisher.publish(third)
        await until(lambda: two.stats.messages >= len(second) + len(third), 60, what="the rest")
        stop.set()
        await task
        two.close()
        assert two.stats.messages == len(second) + len(third)
    finally:
        await producer.stop()

    published = await read_all(kafka_bootstrap, topics.candles)
    got: Counter[Window] = Counter()
    values = {}
    for key, batch in published:
        assert key.decode() == f"{batch.venue}:{batch.symbol}"
        assert batch.source == "simulator"
        for c in batch.candles:
            window = (key.decode(), c.width, c.opens_at)
            got[window] += 1
            values[window] = (
                Decimal(c.open),
                Decimal(c.high),
                Decimal(c.low),
                Decimal(c.close),
                Decimal(c.volume),
                c.trades,
            )
    expected = expected_candles(trades_by_market(batches))
    assert {w: n for w, n in got.items() if n > 1} == {}
    assert values == expected
    widths = Counter(w for _, w, _ in expected)
    assert set(widths) == {"1s", "1m", "5m", "15m", "1h", "4h", "1d"}
    assert len(closed_before) < len(published)


def received(
    published: list[tuple[bytes, MarketBatch]],
) -> tuple[Counter[Window], dict[Window, Ohlcv]]:
    got: Counter[Window] = Counter()
    values: dict[Window, Ohlcv] = {}
    reader = CandleReader()
    for key, batch in published:
        for c in reader.accept(batch):
            window = (key.decode(), c.width, c.opens_at)
            got[window] += 1
            values[window] = (
                Decimal(c.open),
                Decimal(c.high),
                Decimal(c.low),
                Decimal(c.close),
                Decimal(c.volume),
                c.trades,
            )
    return got, values


async def test_a_crash_after_publishing_repeats_candles_that_readers_drop(
    kafka_bootstrap: str, tmp_path: Path
) -> None:
    topics = await unique_topics(kafka_bootstrap)
    batches = trade_batches(hours=6)
    producer = make_producer(kafka_bootstrap, client_id="candles-test")
    await producer.start()
    try:
        await MarketPublisher(producer, topics).publish(batches)
    finally:
        await producer.stop()
    crashing = processor(kafka_bootstrap, topics, tmp_path / "c.sqlite", crash_at=5)
    with pytest.raises(Crash):
        await crashing.run(asyncio.Event())
    crashing.close()
    published_then = await read_all(kafka_bootstrap, topics.candles)
    again = processor(kafka_bootstrap, topics, tmp_path / "c.sqlite")
    assert 0 < crashing.stats.committed < crashing.stats.messages
    await run_until(again, len(batches) - crashing.stats.committed)
    again.close()

    published = await read_all(kafka_bootstrap, topics.candles)
    raw = Counter((k.decode(), c.width, c.opens_at) for k, b in published for c in b.candles)
    repeated = {w for w, n in raw.items() if n > 1}
    crashed_step = {
        (k.decode(), c.width, c.opens_at) for k, b in published_then[-7:] for c in b.candles
    }
    assert repeated and repeated <= crashed_step
    got, values = received(published)
    assert set(got.values()) == {1}
    assert values == expected_candles(trades_by_market(batches))


async def test_an_undecodable_message_is_counted_and_skipped(
    kafka_bootstrap: str, tmp_path: Path
) -> None:
    topics = await unique_topics(kafka_bootstrap)
    batches = trade_batches(hours=1)
    producer = make_producer(kafka_bootstrap, client_id="candles-test")
    await producer.start()
    try:
        publisher = MarketPublisher(producer, topics)
        await publisher.publish(batches[:4])
        await publisher.publish_raw(topics.trades, b"binance:BTC/USDT", b'{"not": "a batch"}')
        await publisher.publish(batches[4:])
    finally:
        await producer.stop()
    proc = processor(kafka_bootstrap, topics, tmp_path / "c.sqlite")
    await run_until(proc, len(batches) + 1)
    proc.close()
    assert proc.stats.undecodable == 1
    _, values = received(await read_all(kafka_bootstrap, topics.candles))
    assert values == expected_candles(trades_by_market(batches))
