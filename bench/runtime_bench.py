"""The bot runtime (issue 11, item 10): its decision loop alone, and a restart's catch-up on Kafka.

- decide: `candles` 1-minute candles of a fixed-seed random walk through `Decider.candle` with
  the EMA 9/21 crossover and its sizer, as market-topic candles (decimal strings), fills
  reported back for every order; candles per second, median of `repeats`.
- catch-up: a week of 1-minute candles (10,080, one Kafka message each) of a market of its own,
  and the bot's events, on the shared broker; the time from `BotRuntime.run` to the runtime
  having read the last candle (reading four topics from the beginning, replaying them, warming
  the strategy), median of `restarts`.
"""

from __future__ import annotations

import asyncio
import random
import statistics
import time
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from uuid import uuid4

import msgspec
from plutarc_bots.runtime import BotRuntime, Decider, RuntimeSettings
from plutarc_contracts import Envelope, default_registry, default_topics, new_event_id
from plutarc_contracts import bots as b
from plutarc_contracts import exchange as x
from plutarc_contracts import market as m
from plutarc_runtime.bus import ensure_topics, make_producer
from plutarc_runtime.clock import FakeClock

T0 = datetime(2026, 6, 1, tzinfo=UTC)
MINUTE = timedelta(minutes=1)
SPEC = b.StrategySpec(
    timeframe="1m",
    components=[
        b.ComponentRef(component="ma_crossover", params={"fast": 9, "slow": 21}),
        b.ComponentRef(component="fixed_fraction", params={"fraction": 0.1}),
    ],
)


def _candles(count: int, symbol: str) -> list[m.Candle]:
    rng = random.Random(7)
    price, out = 40_000.0, []
    for i in range(count):
        close = price * (1 + rng.gauss(0, 0.002))
        high, low = max(price, close) * 1.0005, min(price, close) * 0.9995
        out.append(
            m.Candle(
                width="1m",
                opens_at=T0 + i * MINUTE,
                open=f"{price:.2f}",
                high=f"{high:.2f}",
                low=f"{low:.2f}",
                close=f"{close:.2f}",
                volume="1.5",
                trades=10,
            )
        )
        price = close
    return out


def _env(payload: msgspec.Struct, stream: str, at: datetime, correlation_id: str = "") -> Envelope:
    name, version = default_registry().type_name_of(type(payload))
    return Envelope(
        event_id=new_event_id(),
        type=name,
        schema_version=version,
        occurred_at=at,
        producer="bench",
        stream_id=stream,
        stream_position=1,
        workspace_id="ws",
        actor="system:bench",
        correlation_id=correlation_id or new_event_id(),
        causation_id=None,
        payload=payload,
    )


def _bot_events(bot: str, strategy: str, symbol: str) -> list[Envelope]:
    config = b.BotConfig(
        name="bench",
        strategy=b.PinnedStrategy(strategy_id=strategy, version=1),
        market=b.MarketRef(venue="binance", symbol=symbol),
    )
    ids = {"workspace_id": "ws", "bot_id": bot, "version": 1}
    return [
        _env(
            b.StrategyCreated(
                workspace_id="ws", strategy_id=strategy, name="x", spec=SPEC, created_by="u"
            ),
            strategy,
            T0 - 2 * MINUTE,
        ),
        _env(b.BotCreated(**ids, config=config, mode="paper"), bot, T0 - MINUTE),
        _env(b.BotStarted(**ids), bot, T0),
    ]


def _decide_once(candles: list[m.Candle]) -> tuple[float, int]:
    bot, key = str(uuid4()), "binance:BENCH/USDT"
    clock = FakeClock(T0)
    d = Decider(bot, clock=clock, stale_after=timedelta(days=3650))
    for env in _bot_events(bot, str(uuid4()), "BENCH/USDT"):
        d.bot_event(env)
    sent = 0
    started = time.perf_counter()
    for candle in candles:
        for o in d.candle(key, candle):
            sent += 1
            order = o.payload
            assert isinstance(order, x.PlaceOrder)
            order_id = new_event_id()
            common = {"workspace_id": "ws", "bot_id": bot, "order_id": order_id}
            accepted = x.OrderAccepted(
                **common,
                client_order_id="c",
                mode="paper",
                venue="binance",
                symbol="BENCH/USDT",
                side=order.side,
                type=order.type,
                quantity=order.quantity,
            )
            d.order_event(_env(accepted, bot, o.at, o.command_id))
            fill = x.Fill(
                fill_id=order_id,
                quantity=order.quantity,
                price=candle.close,
                fee="0",
                fee_currency="USDT",
                liquidity="taker",
                at=o.at,
            )
            filled = x.OrderFilled(**common, fill=fill, remaining="0", status="filled")
            d.order_event(_env(filled, bot, o.at))
    return time.perf_counter() - started, sent


async def _catch_up(bootstrap: str, candles: int, restarts: int) -> list[str]:
    await ensure_topics(bootstrap, default_topics().all())
    bot, strategy = str(uuid4()), str(uuid4())
    symbol = f"B{uuid4().hex[:10].upper()}/USDT"
    series = _candles(candles, symbol)
    registry = default_registry()
    producer = make_producer(bootstrap, client_id="bench-runtime", linger_ms=20)
    await producer.start()
    try:
        for env in _bot_events(bot, strategy, symbol):
            await producer.send(
                "bots.events.v1",
                registry.encode_event(env),
                key=env.stream_id.encode(),
                headers=[("type", env.type.encode())],
            )
        key = m.market_key("binance", symbol)
        for candle in series:
            batch = m.MarketBatch(
                venue="binance", symbol=symbol, source="simulator", candles=[candle]
            )
            await producer.send(m.CANDLES_TOPIC, m.encode_batch(batch), key=key)
        await producer.flush()
    finally:
        await producer.stop()
    last = series[-1]
    last_ms = int(last.opens_at.timestamp()) * 1000
    settings = RuntimeSettings(kafka_bootstrap=bootstrap)
    times = []
    for _ in range(restarts):
        clock = FakeClock(last.opens_at + 2 * MINUTE)
        runtime = BotRuntime(settings, bot, clock=clock)
        stop = asyncio.Event()
        started = time.perf_counter()
        task = asyncio.create_task(runtime.run(stop))
        while runtime.decider.last_candle != last_ms:
            if task.done():
                task.result()
            await asyncio.sleep(0.005)
        times.append(time.perf_counter() - started)
        stop.set()
        await task
    median = statistics.median(times)
    return [
        f"catch-up: {candles:,} candles and the bot's events read, replayed and the strategy "
        f"warmed in {median * 1000:.0f} ms (median of {restarts} restarts; "
        f"{candles / median:,.0f} candles/s)"
    ]


def run(
    base: Path,
    bootstrap: str,
    quick: bool = False,
    candles: int = 100_000,
    repeats: int = 3,
    week: int = 10_080,
    restarts: int = 3,
) -> Iterator[str]:
    if quick:
        candles, week, restarts, repeats = 10_000, 2_000, 1, 1
    series = _candles(candles, "BENCH/USDT")
    results = [_decide_once(series) for _ in range(repeats)]
    seconds = statistics.median(t for t, _ in results)
    orders = results[0][1]
    yield (
        f"decide: {candles / seconds:,.0f} candles/s through the decision loop "
        f"(EMA 9/21 crossover; {orders:,} orders placed and filled on {candles:,} candles; "
        f"median of {repeats})"
    )
    yield from asyncio.run(_catch_up(bootstrap, week, restarts))
