"""Paper orders through the exchange gateway: command in on `exchange.commands.v1`, fill event out
on `exchange.orders.v1`, over the real Kafka.

The gateway runs from its bootstrap in this process (SQLite store, durable commits), with bots
followed as its projection would have them (paper mode, running, no limits) and a deep book on
each bot's market given to its paper engine, with the venue latency model off (what is measured
is the gateway, not a simulated venue's delay). Market orders from each bot's own actor
(`bot:<id>`) fill at once.

- sustained: commands produced as fast as the client can, for `orders` orders; the rate is the
  orders whose `exchange.order_filled` (status filled) arrived, over the time from the first send
  to the last fill.
- latency at 500/s: orders sent paced at 500/s for `paced` orders; per order, send to its fill
  event received.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path
from uuid import uuid4

from aiokafka import AIOKafkaConsumer, TopicPartition
from plutarc_access import RegoEngine
from plutarc_access.memberships import Memberships
from plutarc_contracts import CommandEnvelope, default_registry, default_topics
from plutarc_contracts import bots as b
from plutarc_contracts import exchange as x
from plutarc_contracts.market import BookUpdate, MarketBatch
from plutarc_exchange.bootstrap import build
from plutarc_exchange.paper_desk import PaperDesk
from plutarc_exchange.settings import ExchangeSettings
from plutarc_exchange.venue_table import VenueTable
from plutarc_exchange.views import BotInfo, Bots
from plutarc_runtime.bus import ensure_topics, make_producer
from plutarc_runtime.service import Service

from .common import percentiles

FAST_GROUPS = {"session_timeout_ms": 6000, "heartbeat_interval_ms": 500}
BOTS = 20


def _book() -> MarketBatch:
    bids = [(f"{60000 - i}", "1000") for i in range(1, 51)]
    asks = [(f"{60000 + i}", "1000") for i in range(0, 50)]
    update = BookUpdate(sequence=1, at=datetime.now(UTC), snapshot=True, bids=bids, asks=asks)
    return MarketBatch(venue="binance", symbol="BTC/USDT", source="simulator", books=[update])


class Fills:
    def __init__(self, bootstrap: str) -> None:
        self.consumer = AIOKafkaConsumer(
            bootstrap_servers=bootstrap, client_id="bench-fills", enable_auto_commit=False
        )
        self.arrived: dict[str, float] = {}
        self.waiting: dict[str, float] = {}
        self.task: asyncio.Task[None] | None = None

    async def start(self) -> None:
        await self.consumer.start()
        tps = [TopicPartition(x.ORDERS_TOPIC, p) for p in range(3)]
        self.consumer.assign(tps)
        await self.consumer.seek_to_end(*tps)
        for tp in tps:
            await self.consumer.position(tp)
        self.task = asyncio.create_task(self._read())

    async def _read(self) -> None:
        registry = default_registry()
        while True:
            batch = await self.consumer.getmany(timeout_ms=200)
            now = time.perf_counter()
            for records in batch.values():
                for record in records:
                    if dict(record.headers).get("type") != b"exchange.order_filled":
                        continue
                    env = registry.decode_event(record.value)
                    if env.payload.status == "filled":
                        self.arrived[env.payload.order_id] = now

    async def stop(self) -> None:
        if self.task is not None:
            self.task.cancel()
        await self.consumer.stop()


async def _until(condition: object, timeout: float) -> None:
    deadline = time.monotonic() + timeout
    while not condition():  # type: ignore[operator]
        if time.monotonic() > deadline:
            raise TimeoutError("the gateway did not answer in time")
        await asyncio.sleep(0.01)


async def _run(base: Path, bootstrap: str, orders: int, paced: int) -> list[str]:
    registry = default_registry()
    ws = f"ws-{uuid4().hex[:8]}"
    followed = Bots()
    bot_ids = [str(uuid4()) for _ in range(BOTS)]
    config = b.BotConfig(
        name="bench",
        strategy=b.PinnedStrategy(strategy_id=str(uuid4()), version=1),
        market=b.MarketRef(venue="binance", symbol="BTC/USDT"),
    )
    for bot_id in bot_ids:
        followed.bots[bot_id] = BotInfo(ws, 1, config, "paper", running=True)
    table = VenueTable()
    desk = PaperDesk(table.rules, None)
    desk.on_batch(_book())
    settings = ExchangeSettings(
        kafka_bootstrap=bootstrap,
        data_dir=base / "exchange",
        exchange_paper_balances="USDT=1000000000,BTC=1000000",
    )
    spec = build(settings, memberships=Memberships(RegoEngine()), bots=followed, paper=desk)
    await ensure_topics(bootstrap, default_topics().all())  # the topics it follows
    service = Service(spec, settings, consumer_overrides=FAST_GROUPS)
    stop = asyncio.Event()
    runner = asyncio.create_task(service.run(stop))
    producer = make_producer(bootstrap, client_id="bench-exchange", linger_ms=0)
    fills = Fills(bootstrap)
    lines: list[str] = []
    try:
        await _until(lambda: service.started.is_set() or runner.done(), 60)
        if runner.done():
            runner.result()
        commands = service.consumers[0]
        await _until(commands.assigned.is_set, 60)
        await fills.start()
        await producer.start()

        def envelope(i: int) -> tuple[str, bytes, bytes]:
            bot_id = bot_ids[i % BOTS]
            command_id = str(uuid4())
            env = CommandEnvelope(
                command_id=command_id,
                type="exchange.place_order",
                schema_version=1,
                issued_at=datetime.now(UTC),
                actor=f"bot:{bot_id}",
                workspace_id=ws,
                correlation_id=command_id,
                causation_id=None,
                payload=x.PlaceOrder(
                    workspace_id=ws,
                    bot_id=bot_id,
                    side="buy" if i % 2 else "sell",
                    type="market",
                    quantity="0.001",
                ),
            )
            return command_id, bot_id.encode(), registry.encode_command(env)

        # warm-up
        warm = [envelope(i) for i in range(200)]
        for _cid, key, raw in warm:
            await producer.send("exchange.commands.v1", raw, key=key)
        await _until(lambda: all(c in fills.arrived for c, _, _ in warm), 120)

        batch = [envelope(i) for i in range(orders)]
        start = time.perf_counter()
        for _cid, key, raw in batch:
            await producer.send("exchange.commands.v1", raw, key=key)
        await _until(lambda: all(c in fills.arrived for c, _, _ in batch), 600)
        last = max(fills.arrived[c] for c, _, _ in batch)
        rate = orders / (last - start)
        lines.append(
            f"exchange: paper orders through the gateway, sustained: {rate:,.0f} orders/s "
            f"({orders:,} market orders of {BOTS} bots, command in to fill event out; goal >= 5,000)"
        )

        samples: list[float] = []
        sent: dict[str, float] = {}
        interval = 1 / 500
        paced_batch = [envelope(i) for i in range(paced)]
        next_at = time.perf_counter()
        for cid, key, raw in paced_batch:
            now = time.perf_counter()
            if now < next_at:
                await asyncio.sleep(next_at - now)
            sent[cid] = time.perf_counter()
            await producer.send("exchange.commands.v1", raw, key=key)
            next_at += interval
        await _until(lambda: all(c in fills.arrived for c in sent), 600)
        samples = [(fills.arrived[c] - sent[c]) * 1000 for c in sent]
        lines.append(
            f"exchange: command to fill event at 500 orders/s: {percentiles(samples)} "
            "(goal p50 < 5 ms, p99 < 15 ms)"
        )
    finally:
        stop.set()
        await producer.stop()
        await fills.stop()
        await asyncio.wait_for(runner, 30)
    return lines


def run(
    base: Path, bootstrap: str, quick: bool = False, orders: int = 20_000, paced: int = 5_000
) -> Iterator[str]:
    if quick:
        orders, paced = 1_000, 500
    yield from asyncio.run(_run(base, bootstrap, orders, paced))
