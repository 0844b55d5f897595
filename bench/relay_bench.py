"""Outbox relay throughput: events per second from a SQLite store to a 3-partition Kafka topic.

The store is filled once (100-event saves), then copied for each relay configuration so that every
run starts from position 0 on its own topic. A run ends when `publish_pending()` returns, which is
after Kafka acknowledged every batch and the relay recorded its position.

Two reference lines show where the time goes: reading the outbox alone (notifications and chain
hashes, no Kafka), and the idempotent producer alone sending the same bytes (no store).
"""

from __future__ import annotations

import asyncio
import shutil
import statistics
import time
from pathlib import Path
from uuid import uuid4

from aiokafka import AIOKafkaConsumer, TopicPartition
from plutarc_contracts import Topic, events_topic
from plutarc_runtime.bus import ensure_topics, make_producer
from plutarc_runtime.clock import FakeClock
from plutarc_runtime.relay import OutboxRelay
from plutarc_runtime.store import EventStore, Meta

from .common import rate

META = Meta(actor="user:bench", correlation_id="bench")
# (relay batch size, producer linger ms); the first is what services run (OutboxRelay's default
# batch, the runtime's linger), the others show what batching and lingering would change.
CONFIGS = ((2000, 0), (1000, 2), (5000, 2), (5000, 5))
WARMUP_EVENTS = 30_000  # lets the broker's JIT and the producer warm up before timing


def open_store(path: Path) -> EventStore:
    from demo import Counter, demo_registry

    return EventStore(
        name="relaybench",
        producer="relaybench",
        registry=demo_registry(),
        clock=FakeClock(),
        sqlite_path=path,
        snapshot_interval=0,
        stream_types=[Counter],
    )


def fill(path: Path, events: int) -> None:
    """`events` events in saves of 100: ten counters of ten events each, so keys spread widely."""
    from demo import Counter

    clock = FakeClock()
    store = open_store(path)
    try:
        for _ in range(events // 100):
            counters = [Counter.open("c", clock.now()) for _ in range(10)]
            for counter in counters:
                for _ in range(9):
                    counter.increment(1, clock.now())
            store.save(*counters, meta=META)
    finally:
        store.close()


def copy_store(source: Path, target: Path) -> Path:
    for f in source.parent.glob(source.name + "*"):  # the database and any -wal/-shm beside it
        shutil.copy(f, target.parent / f.name.replace(source.name, target.name))
    return target


def remove_store(path: Path) -> None:
    for f in path.parent.glob(path.name + "*"):
        f.unlink()


async def new_topic(bootstrap: str, prefix: str) -> str:
    name = events_topic(f"{prefix}{uuid4().hex[:8]}")
    await ensure_topics(bootstrap, [Topic(name=name, partitions=3, description="relay bench")])
    return name


async def end_offsets_total(bootstrap: str, topic: str, partitions: int = 3) -> int:
    """How many messages the topic holds (a check that the relay's count is real)."""
    consumer = AIOKafkaConsumer(bootstrap_servers=bootstrap, client_id="bench-probe")
    await consumer.start()
    try:
        tps = [TopicPartition(topic, p) for p in range(partitions)]
        consumer.assign(tps)
        return sum((await consumer.end_offsets(tps)).values())
    finally:
        await consumer.stop()


async def relay_run(
    path: Path, bootstrap: str, batch_size: int, linger_ms: int, limit: int | None = None
) -> tuple[int, float]:
    """Publish the whole store (or `limit` events) to a new topic; returns (events, seconds)."""
    topic = await new_topic(bootstrap, "benchrelay")
    store = open_store(path)
    relay = OutboxRelay(
        store,
        lambda: make_producer(bootstrap, client_id="bench-relay", linger_ms=linger_ms),
        lambda _type: topic,
        batch_size=batch_size,
    )
    try:
        await relay.start()
        start = time.perf_counter()
        if limit is None:
            sent = await relay.publish_pending()
        else:
            sent = 0
            while sent < limit and (n := await relay.publish_batch()):
                sent += n
        seconds = time.perf_counter() - start
    finally:
        await relay.close()
        store.close()
    on_kafka = await end_offsets_total(bootstrap, topic)
    if on_kafka != sent:
        raise RuntimeError(f"relay reported {sent} sent but {topic} holds {on_kafka}")
    return sent, seconds


async def read_only(path: Path, batch_size: int) -> tuple[int, float]:
    """What the relay does minus Kafka: notification sections and their chain hashes."""
    store = open_store(path)
    try:
        start, total = time.perf_counter(), 0
        position = 0
        while section := await asyncio.to_thread(store.notifications, position + 1, batch_size):
            await asyncio.to_thread(store.chain.select_hashes, section[0].id, section[-1].id)
            position = section[-1].id
            total += len(section)
        return total, time.perf_counter() - start
    finally:
        store.close()


async def producer_only(path: Path, bootstrap: str, linger_ms: int) -> tuple[int, float]:
    """The same messages (value, key, headers) through the same producer, with no store reads."""
    store = open_store(path)
    try:
        section = store.notifications(1, 1 << 30)
        hashes = store.chain.select_hashes(section[0].id, section[-1].id)
    finally:
        store.close()
    messages = [
        (
            n.state,
            str(n.originator_id).encode(),
            [
                ("type", n.topic.encode()),
                ("position", str(n.id).encode()),
                ("chain", hashes[n.id].hex().encode()),
            ],
        )
        for n in section
    ]
    topic = await new_topic(bootstrap, "benchproducer")
    producer = make_producer(bootstrap, client_id="bench-producer", linger_ms=linger_ms)
    await producer.start()
    try:
        start = time.perf_counter()
        futures = [await producer.send(topic, value=v, key=k, headers=h) for v, k, h in messages]
        await asyncio.gather(*futures)
        return len(messages), time.perf_counter() - start
    finally:
        await producer.stop()


async def _run(base: Path, bootstrap: str, events: int, repeats: int) -> list[str]:
    filled = base / "relay-filled.sqlite"
    start = time.perf_counter()
    fill(filled, events)
    fill_rate = rate(events, time.perf_counter() - start)
    lines = [f"relay: fill the SQLite store ({events:,} events, 100-event saves): {fill_rate}"]
    warm = copy_store(filled, base / "relay-warm.sqlite")
    await relay_run(warm, bootstrap, 1000, 2, limit=min(WARMUP_EVENTS, events))
    for batch_size, linger_ms in CONFIGS:
        rates = []
        for i in range(repeats):
            copy = copy_store(filled, base / f"relay-{batch_size}-{linger_ms}-{i}.sqlite")
            sent, seconds = await relay_run(copy, bootstrap, batch_size, linger_ms)
            rates.append(sent / seconds)
            await asyncio.to_thread(remove_store, copy)
        spread = f" (runs {min(rates):,.0f}-{max(rates):,.0f})" if repeats > 1 else ""
        default = " (the services' setting)" if (batch_size, linger_ms) == CONFIGS[0] else ""
        lines.append(
            f"relay: store -> Kafka, batch {batch_size}, linger {linger_ms} ms{default}: "
            f"{statistics.median(rates):,.0f}/s{spread}"
        )
    count, seconds = await read_only(filled, 1000)
    lines.append(f"relay: outbox reads alone (notifications + hashes): {rate(count, seconds)}")
    count, seconds = await producer_only(filled, bootstrap, 2)
    lines.append(f"relay: idempotent producer alone, linger 2 ms: {rate(count, seconds)}")
    return lines


def run(base: Path, bootstrap: str, events: int = 100_000, repeats: int = 3) -> list[str]:
    """Median events/s over `repeats` runs per configuration (goal in the issue: >= 20,000/s)."""
    return asyncio.run(_run(base, bootstrap, events, repeats))
