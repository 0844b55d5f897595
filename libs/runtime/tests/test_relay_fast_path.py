"""The relay publishes what saves in its process hand over without reading the store back, and reads
the store on a gap, on start and after an error: either way Kafka gets exactly what the store holds,
in notification order, with the chain hashes. Run on SQLite and PostgreSQL."""

from __future__ import annotations

import asyncio
import contextlib
import threading
from collections.abc import AsyncIterator, Callable
from pathlib import Path
from typing import Any
from uuid import uuid4

import pytest
from aiokafka.errors import KafkaConnectionError
from eventsourcing.persistence import IntegrityError
from plutarc_contracts import Topic
from plutarc_runtime.bus import ensure_topics, make_producer
from plutarc_runtime.clock import FakeClock
from plutarc_runtime.relay import OutboxRelay
from plutarc_runtime.store import EventStore, Meta
from plutarc_testkit.waiting import until

from .demo import Counter, demo_registry
from .kafka_helpers import read_all

pytestmark = pytest.mark.kafka
META = Meta(actor="user:alice", correlation_id="fast-path")
QUIET = 3600.0  # no poll reads during a test: only starts, gaps and errors make the relay read


@pytest.fixture(params=["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)])
def make_store(request: pytest.FixtureRequest, tmp_path: Path) -> Any:
    stores: list[EventStore] = []
    target: dict[str, Any] = {}

    def make() -> EventStore:
        """A store on the test's database; a second call opens a second instance on the same one
        (another process, as far as the first can tell)."""
        if not target:
            if request.param == "postgres":
                pg = request.getfixturevalue("postgres_server")
                target["database_url"] = pg.create_database(f"fp_{uuid4().hex[:10]}")
            else:
                target["sqlite_path"] = tmp_path / "fast.sqlite"
        store = EventStore(
            name="fast", producer="fast", registry=demo_registry(), stream_types=[Counter], **target
        )
        stores.append(store)
        return store

    yield make
    for store in stores:
        store.close()


class Reads:
    """Counts the relay's reads of the store (each one a section and its chain hashes)."""

    def __init__(self, relay: OutboxRelay) -> None:
        self.count = 0
        read = relay._read_section

        def counted() -> Any:
            self.count += 1
            return read()

        relay._read_section = counted  # type: ignore[method-assign]


async def one_partition_topic(bootstrap: str) -> str:
    topic = f"fast{uuid4().hex[:8]}.events.v1"
    await ensure_topics(bootstrap, [Topic(name=topic, partitions=1, description="fast path test")])
    return topic


@contextlib.asynccontextmanager
async def running(relay: OutboxRelay) -> AsyncIterator[None]:
    stop = asyncio.Event()
    task = asyncio.create_task(relay.run(stop))
    try:
        yield
    finally:
        stop.set()
        await asyncio.wait_for(task, 30)


def save(store: EventStore, counters: int = 1, increments: int = 1) -> int:
    """Save `counters` new counters with `increments` each in one transaction; the last id."""
    clock = FakeClock()
    made = [Counter.open("c", clock.now()) for _ in range(counters)]
    for counter in made:
        for _ in range(increments):
            counter.increment(1, clock.now())
    return store.save(*made, meta=META)[-1].notification_id


async def published_exactly_the_store(bootstrap: str, topic: str, store: EventStore) -> None:
    """The topic holds every stored event once or more, and dropping the repeats (as consumers do)
    leaves the store's notification order, each record as stored with its position and chain."""
    records = await read_all(bootstrap, topic)
    stored = await asyncio.to_thread(store.notifications, 1, 100_000)
    hashes = await asyncio.to_thread(store.chain.select_hashes, 1, stored[-1].id)
    seen: set[int] = set()
    first: list[Any] = []
    for record in records:
        position = int(dict(record.headers)["position"])
        if position not in seen:
            seen.add(position)
            first.append(record)
    assert [int(dict(r.headers)["position"]) for r in first] == [n.id for n in stored]
    for record, n in zip(first, stored, strict=True):
        headers = dict(record.headers)
        assert record.value == bytes(n.state)
        assert record.key == str(n.originator_id).encode()
        assert headers["type"] == n.topic.encode()
        assert headers["chain"] == hashes[n.id].hex().encode()


async def test_saves_are_published_as_handed_over_in_order_without_reading_the_store(
    kafka_bootstrap, make_store
) -> None:
    store = make_store()
    topic = await one_partition_topic(kafka_bootstrap)
    relay = OutboxRelay(
        store,
        lambda: make_producer(kafka_bootstrap, client_id="fast-relay", linger_ms=0),
        lambda _type: topic,
        poll_interval=QUIET,
    )
    reads = Reads(relay)
    await asyncio.to_thread(save, store)  # before the relay runs: found by its first read
    async with running(relay):
        await until(lambda: relay.position == 2, what="the first save published")
        # The start-up catch-up may read the store once more after that (it reads until a read
        # finds nothing); once a save handed over is published, the relay only follows.
        last = await asyncio.to_thread(save, store, 1, 0)
        await until(lambda: relay.position == last, what="a save handed over published")
        reads_at_start = reads.count
        for i in range(20):
            last = await asyncio.to_thread(save, store, 1 + i % 3, i % 4)
            await until(lambda last=last: relay.position == last, what=f"save {i} published")
        assert reads.count == reads_at_start, "one save at a time: each follows the position"

        # Saves from several threads at once hand over out of order: still published in order.
        def burst() -> None:
            for _ in range(15):
                save(store, 2, 1)

        threads = [threading.Thread(target=burst) for _ in range(4)]
        for t in threads:
            t.start()
        await asyncio.to_thread(lambda: [t.join() for t in threads])
        head = await asyncio.to_thread(store.max_notification_id)
        await until(lambda: relay.position == head, what="the burst published")
    await published_exactly_the_store(kafka_bootstrap, topic, store)


async def test_a_gap_sends_the_relay_to_the_store(kafka_bootstrap, make_store) -> None:
    """Saves it was not handed (another process, ids skipped by a failed save, more than a batch
    at once) come from the store, in order."""
    store = make_store()
    other = make_store()  # another process writing to the same store
    topic = await one_partition_topic(kafka_bootstrap)
    relay = OutboxRelay(
        store,
        lambda: make_producer(kafka_bootstrap, client_id="fast-relay", linger_ms=0),
        lambda _type: topic,
        batch_size=5,
        poll_interval=QUIET,
    )
    reads = Reads(relay)
    async with running(relay):
        last = await asyncio.to_thread(save, store)
        await until(lambda: relay.position == last, what="the first save published")

        before = reads.count
        await asyncio.to_thread(save, other, 2)  # handed to nobody here
        last = await asyncio.to_thread(save, store)
        await until(lambda: relay.position == last, what="the other process's events published")
        assert reads.count > before

        # A save that fails on a write conflict (on PostgreSQL its ids are skipped for good).
        clock = FakeClock()
        counter = Counter.open("c", clock.now())
        await asyncio.to_thread(store.save, counter, meta=META)
        stale = await asyncio.to_thread(store.get, Counter, counter.id)
        stale.increment(1, clock.now())
        rival = await asyncio.to_thread(store.get, Counter, counter.id)
        rival.increment(1, clock.now())
        await asyncio.to_thread(store.save, rival, meta=META)
        with pytest.raises(IntegrityError):
            await asyncio.to_thread(store.save, stale, meta=META)
        last = await asyncio.to_thread(save, store)
        await until(lambda: relay.position == last, what="the save after the conflict published")

        # One save of 24 events: more than the relay keeps (a batch, 5); the rest is read.
        before = reads.count
        last = await asyncio.to_thread(save, store, 3, 7)
        await until(lambda: relay.position == last, what="the large save published")
        assert reads.count > before
    await published_exactly_the_store(kafka_bootstrap, topic, store)


class Outage:
    """Wraps the relay's producers: while `down`, starting or sending fails like a lost broker."""

    def __init__(self, make: Callable[[], Any]) -> None:
        self.make = make
        self.down = False
        self.failures = 0

    def producer(self) -> Any:
        outage, real = self, self.make()

        class Producer:
            async def start(self) -> None:
                if outage.down:
                    outage.failures += 1
                    raise KafkaConnectionError("broker down (test)")
                await real.start()

            async def stop(self) -> None:
                await real.stop()

            async def send(self, topic: str, **kwargs: Any) -> Any:
                if outage.down:
                    outage.failures += 1
                    raise KafkaConnectionError("broker down (test)")
                return await real.send(topic, **kwargs)

        return Producer()


async def test_after_a_broker_outage_the_relay_reads_the_store_and_loses_nothing(
    kafka_bootstrap, make_store
) -> None:
    store = make_store()
    topic = await one_partition_topic(kafka_bootstrap)
    outage = Outage(lambda: make_producer(kafka_bootstrap, client_id="fast-relay", linger_ms=0))
    relay = OutboxRelay(
        store, outage.producer, lambda _type: topic, retry_backoff=0.05, poll_interval=QUIET
    )
    reads = Reads(relay)
    async with running(relay):
        last = await asyncio.to_thread(save, store, 2, 2)
        await until(lambda: relay.position == last, what="published before the outage")
        published = relay.position

        outage.down = True
        await asyncio.to_thread(save, store, 2, 2)
        await until(lambda: outage.failures >= 2, what="the relay failing to publish")
        last = await asyncio.to_thread(save, store, 3, 1)
        await until(lambda: outage.failures >= 4, what="the relay failing again")
        assert relay.position == published, "nothing counts as published while the broker is down"
        reads_during_outage = reads.count

        outage.down = False
        await until(lambda: relay.position == last, what="everything published after the outage")
        assert reads.count > reads_during_outage, "after an error the relay reads the store"
        last = await asyncio.to_thread(save, store)
        await until(lambda: relay.position == last, what="a save after the outage published")
    await published_exactly_the_store(kafka_bootstrap, topic, store)


async def test_intents_are_kept_home_on_the_fast_path(kafka_bootstrap, make_store) -> None:
    """A None route means "do not publish": handed over or read, such events never reach Kafka."""
    store = make_store()
    topic = await one_partition_topic(kafka_bootstrap)
    relay = OutboxRelay(
        store,
        lambda: make_producer(kafka_bootstrap, client_id="fast-relay", linger_ms=0),
        lambda type_name: None if type_name == "demo.counter_incremented" else topic,
        poll_interval=QUIET,
    )
    reads = Reads(relay)
    async with running(relay):
        last = await asyncio.to_thread(save, store)
        await until(lambda: relay.position == last, what="the first save published")
        before = reads.count
        last = await asyncio.to_thread(save, store, 3, 2)
        await until(lambda: relay.position == last, what="the second save relayed")
        assert reads.count == before
    records = await read_all(kafka_bootstrap, topic)
    types = [dict(r.headers)["type"] for r in records]
    assert types == [b"demo.counter_opened"] * 4
