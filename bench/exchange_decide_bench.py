"""The exchange gateway's decide path alone, without Kafka: CPU per paper order.

The gateway is built from its bootstrap as `exchange_bench` builds it (SQLite store on a file,
20 paper bots followed as running, a deep book, the latency model off), and its command consumer is
made by the service as for a run, but never started: encoded `exchange.place_order` envelopes are
handed to `decide_and_store` in chunks of `command_batch` (500), as the consumer hands it one
partition's records. Each order is decided (handler, risk, paper engine, the events' envelopes,
the outcome) and each chunk stored in one transaction. Nothing is relayed.

- decide: CPU microseconds per order in this thread (time.process_time), and the orders/s that
  gives on one core, over `orders` orders after a warm-up of one chunk.

`python -m bench.exchange_decide_bench --profile` prints a cProfile of one run instead.
"""

from __future__ import annotations

import time
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path
from uuid import uuid4

from aiokafka import TopicPartition
from aiokafka.structs import ConsumerRecord
from plutarc_access import RegoEngine
from plutarc_access.memberships import Memberships
from plutarc_contracts import CommandEnvelope, default_registry
from plutarc_contracts import bots as b
from plutarc_contracts import exchange as x
from plutarc_exchange.bootstrap import build
from plutarc_exchange.paper_desk import PaperDesk
from plutarc_exchange.settings import ExchangeSettings
from plutarc_exchange.venue_table import VenueTable
from plutarc_exchange.views import BotInfo, Bots
from plutarc_runtime.batching import decide_and_store
from plutarc_runtime.service import Service

from .exchange_bench import BOTS, _book

TOPIC = "exchange.commands.v1"


class Decider:
    """The gateway as its service wires it, with a command consumer that is never started."""

    def __init__(self, base: Path) -> None:
        self.registry = default_registry()
        self.ws = f"ws-{uuid4().hex[:8]}"
        followed = Bots()
        self.bot_ids = [str(uuid4()) for _ in range(BOTS)]
        config = b.BotConfig(
            name="bench",
            strategy=b.PinnedStrategy(strategy_id=str(uuid4()), version=1),
            market=b.MarketRef(venue="binance", symbol="BTC/USDT"),
        )
        for bot_id in self.bot_ids:
            followed.bots[bot_id] = BotInfo(self.ws, 1, config, "paper", running=True)
        desk = PaperDesk(VenueTable().rules, None)
        desk.on_batch(_book())
        self.settings = ExchangeSettings(
            kafka_bootstrap="localhost:1",  # never connected
            data_dir=base,
            exchange_paper_balances="USDT=1000000000,BTC=1000000",
        )
        spec = build(
            self.settings, memberships=Memberships(RegoEngine()), bots=followed, paper=desk
        )
        self.service = Service(spec, self.settings)
        self.consumer = self.service._consumer(
            f"{spec.name}.commands",
            [TOPIC],
            self.service.processor,
            batch_size=self.settings.command_batch,
            single_writer=self.settings.single_writer,
            cache_size=self.settings.aggregate_cache,
        )
        assert self.consumer.working is not None
        self.offset = 0

    def records(self, n: int) -> list[ConsumerRecord[bytes, bytes]]:
        out = []
        for i in range(n):
            bot_id = self.bot_ids[i % BOTS]
            command_id = str(uuid4())
            env = CommandEnvelope(
                command_id=command_id,
                type="exchange.place_order",
                schema_version=1,
                issued_at=datetime.now(UTC),
                actor=f"bot:{bot_id}",
                workspace_id=self.ws,
                correlation_id=command_id,
                causation_id=None,
                payload=x.PlaceOrder(
                    workspace_id=self.ws,
                    bot_id=bot_id,
                    side="buy" if i % 2 else "sell",
                    type="market",
                    quantity="0.001",
                ),
            )
            value = self.registry.encode_command(env)
            out.append(
                ConsumerRecord(
                    TOPIC, 0, self.offset, 0, 0, bot_id.encode(), value, None, 36, len(value), ()
                )
            )
            self.offset += 1
        return out

    def decide(self, records: list[ConsumerRecord[bytes, bytes]]) -> int:
        """Decide and store `records` in chunks as the consumer would; the orders accepted."""
        c = self.consumer
        assert c.working is not None
        accepted = 0
        pending = records
        while pending:
            chunk = pending[: c.batch_size]
            decided = decide_and_store(
                c.store,
                c.working,
                chunk,
                c._process,
                c.tracking_name(TopicPartition(TOPIC, 0)),
                c.transient,
                c.expected_streams,
            )
            assert decided.works, decided.postponed
            accepted += sum(1 for w in decided.works if w.outcome == "accepted")
            pending = pending[len(decided.works) :]
        return accepted

    def close(self) -> None:
        self.service.store.close()


def measure(base: Path, orders: int) -> tuple[float, float]:
    """(CPU us per order, wall us per order) over `orders` decided after a warm-up."""
    decider = Decider(base)
    try:
        warm = decider.records(decider.settings.command_batch)
        assert decider.decide(warm) == len(warm), "the warm-up orders were not all accepted"
        records = decider.records(orders)
        cpu0, wall0 = time.process_time(), time.perf_counter()
        accepted = decider.decide(records)
        cpu, wall = time.process_time() - cpu0, time.perf_counter() - wall0
        assert accepted == orders, f"{accepted} of {orders} orders accepted"
    finally:
        decider.close()
    return cpu / orders * 1e6, wall / orders * 1e6


def run(base: Path, quick: bool = False, orders: int = 20_000, repeats: int = 3) -> Iterator[str]:
    if quick:
        orders, repeats = 5_000, 3
    results = [measure(base / f"decide-{i}", orders) for i in range(repeats)]
    cpu = min(r[0] for r in results)
    wall = min(r[1] for r in results)
    yield (
        f"exchange_decide: CPU per paper order decided and stored (no Kafka): {cpu:.0f} us "
        f"(best of {repeats} x {orders:,}; {1e6 / cpu:,.0f} orders/s on one core; "
        f"wall {wall:.0f} us, {1e6 / wall:,.0f} orders/s)"
    )


def _profile() -> None:
    import cProfile
    import pstats
    import tempfile

    with tempfile.TemporaryDirectory() as tmp:
        decider = Decider(Path(tmp))
        decider.decide(decider.records(500))
        records = decider.records(10_000)
        profiler = cProfile.Profile()
        profiler.enable()
        decider.decide(records)
        profiler.disable()
        decider.close()
    stats = pstats.Stats(profiler)
    stats.sort_stats("tottime").print_stats(45)
    stats.sort_stats("cumtime").print_stats(70)


if __name__ == "__main__":
    import sys
    import tempfile

    if "--profile" in sys.argv:
        _profile()
    else:
        with tempfile.TemporaryDirectory() as tmp:
            for line in run(Path(tmp), quick="--quick" in sys.argv):
                print(line)
