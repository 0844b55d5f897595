"""Market data: the simulator's generation rate, generated and published to Kafka, message sizes,
and the candle processor's rate (issue 11 goal: at least 100,000 book updates/s generated and
published)."""

from __future__ import annotations

import asyncio
import concurrent.futures
import multiprocessing
import time
import uuid
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path

from plutarc_contracts import Topic
from plutarc_contracts.market import encode_batch
from plutarc_exchange.marketdata.candle_processor import CandleConfig, CandleProcessor
from plutarc_exchange.marketdata.publisher import MarketPublisher, MarketTopics
from plutarc_exchange.marketdata.simulator import MarketParams, MarketSpec, Simulator
from plutarc_runtime.bus import ensure_topics, make_producer
from plutarc_testkit.waiting import until

START = datetime(2026, 1, 5, tzinfo=UTC)
VENUES = ("binance", "bybit", "okx", "kucoin", "deribit", "gemini", "phemex", "bitmex", "kraken")
# Ten markets at the defaults (price 100, tick 0.01, 20 levels a side, 80 % a year, clustered),
# each sending 200 book updates and 5 trades per simulated second: a busy venue feed.
PARAMS = MarketParams(updates_per_second=200, clustering=0.5)
MARKETS = [MarketSpec(v, s, PARAMS) for v in VENUES for s in ("BTC/USDT",)] + [
    MarketSpec("coinbase", "BTC/USD", PARAMS)
]


def _generate(updates: int, encode: bool) -> tuple[float, int, int, int]:
    sim = Simulator(MARKETS, seed=1, start=START)
    done = messages = size = 0
    started = time.perf_counter()
    while done < updates:
        for batch in sim.advance(1.0):
            done += len(batch.books)
            if encode:
                size += len(encode_batch(batch))
                messages += 1
    return time.perf_counter() - started, done, messages, size


async def _publish(
    bootstrap: str, updates: int, max_batch: int, markets: list[MarketSpec] = MARKETS
) -> tuple[float, int, int, int]:
    prefix = f"mdbench{uuid.uuid4().hex[:6]}"
    topics = MarketTopics(f"{prefix}.books.v1", f"{prefix}.trades.v1", f"{prefix}.candles.v1")
    await ensure_topics(
        bootstrap,
        [Topic(name=n, partitions=3, description="bench") for n in (topics.books, topics.trades)],
    )
    producer = make_producer(bootstrap, client_id="marketdata-bench", linger_ms=5)
    await producer.start()
    publisher = MarketPublisher(producer, topics)
    sim = Simulator(markets, seed=2, start=START, max_batch=max_batch)
    done = 0
    try:
        started = time.perf_counter()
        in_flight: asyncio.Future[int] | None = None
        while done < updates:
            batches = sim.advance(5.0)
            done += sum(len(b.books) for b in batches)
            if in_flight is not None:
                await in_flight
            in_flight = asyncio.ensure_future(publisher.publish(batches))
        if in_flight is not None:
            await in_flight
        elapsed = time.perf_counter() - started
    finally:
        await producer.stop()
    return elapsed, done, publisher.messages, publisher.bytes


async def _candles(bootstrap: str, base: Path, seconds: int) -> tuple[float, int, int]:
    prefix = f"mdbench{uuid.uuid4().hex[:6]}"
    trades, candles = f"{prefix}.trades.v1", f"{prefix}.candles.v1"
    await ensure_topics(
        bootstrap, [Topic(name=n, partitions=3, description="bench") for n in (trades, candles)]
    )
    busy = MarketParams(updates_per_second=1, trades_per_second=50, snapshot_every=0)
    sim = Simulator([MarketSpec(v, "BTC/USDT", busy) for v in VENUES], seed=3, start=START)
    producer = make_producer(bootstrap, client_id="marketdata-bench", linger_ms=5)
    await producer.start()
    total = 0
    try:
        publisher = MarketPublisher(producer, MarketTopics(trades=trades, candles=candles))
        for _ in range(seconds // 10):
            batches = [b for b in sim.advance(10.0) if b.trades]
            total += sum(len(b.trades) for b in batches)
            await publisher.publish(batches)
    finally:
        await producer.stop()
    state = base / f"{prefix}.sqlite"
    proc = CandleProcessor(
        CandleConfig(
            bootstrap=bootstrap, state_path=state, trades_topic=trades, candles_topic=candles
        )
    )
    stop = asyncio.Event()
    started = time.perf_counter()
    task = asyncio.create_task(proc.run(stop))
    await until(lambda: proc.stats.trades >= total or task.done(), 900, 0.01, "the candles")
    elapsed = time.perf_counter() - started
    stop.set()
    await task
    proc.close()
    return elapsed, proc.stats.trades, proc.stats.candles


def _half(bootstrap: str, updates: int, part: int) -> tuple[float, int, int, int]:
    return asyncio.run(_publish(bootstrap, updates, 2000, MARKETS[part::2]))


def _two_processes(bootstrap: str, updates: int) -> tuple[float, int, int]:
    ctx = multiprocessing.get_context("spawn")
    with concurrent.futures.ProcessPoolExecutor(2, mp_context=ctx) as pool:
        list(pool.map(_half, [bootstrap] * 2, [1000] * 2, [0, 1]))  # imports, connections
        started = time.perf_counter()
        results = list(pool.map(_half, [bootstrap] * 2, [updates // 2] * 2, [0, 1]))
        elapsed = time.perf_counter() - started
    return elapsed, sum(r[1] for r in results), sum(r[2] for r in results)


def run(
    base: Path, bootstrap: str, quick: bool = False, updates: int | None = None
) -> Iterator[str]:
    size = updates or (100_000 if quick else 1_000_000)
    yield f"{len(MARKETS)} markets, 20 levels a side, 200 updates and 5 trades per simulated second each"
    for encode in (False, True):
        elapsed, done, messages, nbytes = _generate(size, encode)
        what = "generated and encoded" if encode else "generated (structs only)"
        yield f"simulator, {what}: {done:,} book updates in {elapsed:.2f} s = {done / elapsed:,.0f}/s"
        if encode:
            yield (
                f"  messages: {messages:,}, {nbytes / messages:,.0f} bytes each on average, "
                f"{nbytes / done:.0f} bytes per book update (JSON)"
            )
    for max_batch in (500, 2000):
        elapsed, done, messages, nbytes = asyncio.run(_publish(bootstrap, size, max_batch))
        yield (
            f"generated and published to Kafka (acks=all, idempotent, up to {max_batch} updates "
            f"a message): {done:,} book updates in {elapsed:.2f} s = {done / elapsed:,.0f}/s; "
            f"{messages:,} messages ({messages / elapsed:,.0f}/s, {nbytes / messages / 1000:.0f} kB "
            f"each), {nbytes / elapsed / 1e6:.1f} MB/s"
        )
    elapsed, done, messages = _two_processes(bootstrap, size)
    yield (
        f"generated and published by two feed processes, five markets each: {done:,} book "
        f"updates in {elapsed:.2f} s = {done / elapsed:,.0f}/s ({messages:,} messages)"
    )
    elapsed, trades, candles = asyncio.run(_candles(bootstrap, base, 600 if quick else 3600))
    yield (
        f"candle processor: {trades:,} trades folded into 7 widths in {elapsed:.2f} s = "
        f"{trades / elapsed:,.0f} trades/s ({candles:,} candles published)"
    )
