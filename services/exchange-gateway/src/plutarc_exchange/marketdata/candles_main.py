"""`plutarc-market-candles`: derive candles from the trades topic (one process per deployment)."""

from __future__ import annotations

import asyncio
import signal

from plutarc_contracts.market import market_topics
from plutarc_runtime.bus import ensure_topics
from plutarc_runtime.logs import configure_logging
from plutarc_runtime.settings import RuntimeSettings

from .candle_processor import CandleConfig, CandleProcessor
from .publisher import MarketTopics


async def run_candles(
    settings: RuntimeSettings, stop: asyncio.Event, *, topics: MarketTopics | None = None
) -> CandleProcessor:
    """Fold trades into candles until ``stop``; state in ``<data_dir>/market-candles.sqlite``."""
    topics = topics or MarketTopics()
    if topics == MarketTopics():
        await ensure_topics(settings.kafka_bootstrap, market_topics())
    settings.data_dir.mkdir(parents=True, exist_ok=True)
    processor = CandleProcessor(
        CandleConfig(
            bootstrap=settings.kafka_bootstrap,
            state_path=settings.data_dir / "market-candles.sqlite",
            trades_topic=topics.trades,
            candles_topic=topics.candles,
        )
    )
    try:
        await processor.run(stop)
    finally:
        processor.close()
    return processor


def main() -> None:
    settings = RuntimeSettings()
    configure_logging("market-candles", settings.log_level, settings.log_json)

    async def candles() -> None:
        stop = asyncio.Event()
        loop = asyncio.get_running_loop()
        for sig in (signal.SIGINT, signal.SIGTERM):
            loop.add_signal_handler(sig, stop.set)
        await run_candles(settings, stop)

    asyncio.run(candles())


if __name__ == "__main__":
    main()
