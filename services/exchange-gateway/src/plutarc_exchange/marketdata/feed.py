"""The market-data feed: a source (the simulator, or a recording) published to the market topics."""

from __future__ import annotations

import asyncio
import contextlib
import logging
from dataclasses import dataclass

from plutarc_contracts.market import market_topics
from plutarc_runtime.bus import ensure_topics, make_producer
from plutarc_runtime.clock import Clock, SystemClock

from .publisher import MarketPublisher, MarketTopics
from .recorded import play
from .settings import MarketDataSettings
from .simulator import MICROS, Simulator

log = logging.getLogger(__name__)


@dataclass
class FeedStats:
    messages: int = 0
    bytes: int = 0
    updates: int = 0
    trades: int = 0


async def run_feed(
    settings: MarketDataSettings,
    stop: asyncio.Event,
    *,
    clock: Clock | None = None,
    topics: MarketTopics | None = None,
    stats: FeedStats | None = None,
) -> FeedStats:
    """Publish until ``stop``. The simulator starts at the clock's now and is paced to it
    (``market_speed`` simulated seconds per second of the clock); a recording is played once."""
    stats = stats or FeedStats()
    topics = topics or MarketTopics()
    if topics == MarketTopics():
        await ensure_topics(settings.kafka_bootstrap, market_topics())
    producer = make_producer(settings.kafka_bootstrap, client_id="plutarc-market-data")
    await producer.start()
    publisher = MarketPublisher(producer, topics)
    try:
        if settings.market_source == "recorded":
            assert settings.market_file is not None
            await play(settings.market_file, publisher, stop, speed=settings.market_speed)
        else:
            await _simulate(settings, stop, clock or SystemClock(), publisher, stats)
    finally:
        await producer.stop()
        stats.messages, stats.bytes = publisher.messages, publisher.bytes
    return stats


async def _simulate(
    settings: MarketDataSettings,
    stop: asyncio.Event,
    clock: Clock,
    publisher: MarketPublisher,
    stats: FeedStats,
) -> None:
    started = clock.now()
    sim = Simulator(settings.specs(), seed=settings.market_seed, start=started)
    origin = sim.now_us
    log.info(
        "market data feed started",
        extra={"markets": settings.markets, "seed": settings.market_seed},
    )
    while not stop.is_set():
        elapsed = (clock.now() - started).total_seconds() * settings.market_speed
        batches = sim.advance_to(origin + int(elapsed * MICROS))
        await publisher.publish(batches)
        for batch in batches:
            stats.updates += len(batch.books)
            stats.trades += len(batch.trades)
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(stop.wait(), settings.market_interval)
