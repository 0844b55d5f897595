"""The relay is killed with SIGKILL while publishing 10,000 events; nothing is lost or applied twice."""

from __future__ import annotations

import asyncio
import os
import signal
import subprocess
import sys
from pathlib import Path
from uuid import uuid4

import pytest
from plutarc_contracts import Topic
from plutarc_runtime.bus import ensure_topics
from plutarc_runtime.clock import FakeClock
from plutarc_runtime.consumer import Consumer, EventProcessor
from plutarc_runtime.store import EventStore, Meta
from plutarc_testkit.waiting import until

from .conftest import FAST_GROUPS
from .demo import Counter, demo_registry
from .kafka_helpers import read_all
from .test_delivery import tally_handler

pytestmark = [pytest.mark.kafka, pytest.mark.slow]
WORKER = Path(__file__).with_name("relay_worker.py")
TOTAL = 10_000


def fill(store: EventStore) -> None:
    clock = FakeClock()
    for _ in range(TOTAL // 100):
        counter = Counter.open("c", clock.now())
        for _ in range(99):
            counter.increment(1, clock.now())
        store.save(counter, meta=Meta("user:alice", "load"))


class Worker:
    def __init__(self, path: Path, bootstrap: str, topic: str, die_at: int | None = None) -> None:
        extra = [] if die_at is None else [str(die_at)]
        self.proc = subprocess.Popen(
            [sys.executable, str(WORKER), str(path), bootstrap, topic, "250", *extra],
            stdout=subprocess.PIPE,
            text=True,
            env={**os.environ, "PYTHONUNBUFFERED": "1"},
        )

    def read_until(self, predicate, what: str) -> int:
        assert self.proc.stdout is not None
        for line in self.proc.stdout:
            kind, value = line.split()
            if predicate(kind, int(value)):
                return int(value)
        raise AssertionError(f"relay worker exited (code {self.proc.wait()}) before {what}")


async def test_relay_killed_mid_publish_resumes_and_the_consumer_applies_each_event_once(
    kafka_bootstrap, tmp_path
) -> None:
    topic = f"crash{uuid4().hex[:8]}.events.v1"
    await ensure_topics(
        kafka_bootstrap, [Topic(name=topic, partitions=3, description="relay crash test")]
    )
    source = tmp_path / "source.sqlite"
    store = EventStore(name="demo", producer="demo", registry=demo_registry(), sqlite_path=source)
    await asyncio.to_thread(fill, store)
    store.close()

    first = Worker(source, kafka_bootstrap, topic)
    reached = await asyncio.to_thread(first.read_until, lambda k, v: v >= 2_000, "position 2000")
    os.kill(first.proc.pid, signal.SIGKILL)
    first.proc.wait()
    assert reached < TOTAL, "the relay finished before it could be killed mid-publish"

    # The second life dies at the worst moment: its batch is on Kafka, its position not recorded.
    second = Worker(source, kafka_bootstrap, topic, die_at=6_000)
    resumed_from = await asyncio.to_thread(second.read_until, lambda k, v: k == "position", "start")
    assert reached <= resumed_from < 6_000
    assert second.proc.wait(timeout=60) == -signal.SIGKILL

    third = Worker(source, kafka_bootstrap, topic)
    resumed_again = await asyncio.to_thread(third.read_until, lambda k, v: k == "position", "start")
    assert resumed_again < 6_000
    await asyncio.to_thread(
        third.read_until, lambda k, v: k == "idle" and v == TOTAL, "all published"
    )
    third.proc.terminate()
    third.proc.wait()

    records = await read_all(kafka_bootstrap, topic)
    registry = demo_registry()
    ids = [registry.decode_event(r.value).event_id for r in records]
    assert len(set(ids)) == TOTAL, "every stored event is on Kafka at least once"

    sink = EventStore(
        name="sink", producer="sink", registry=registry, sqlite_path=tmp_path / "sink.sqlite"
    )
    clock = FakeClock()
    consumer = Consumer(
        name=f"sink-{uuid4().hex[:6]}",
        store=sink,
        registry=registry,
        bootstrap=kafka_bootstrap,
        topics=[topic],
        processor=EventProcessor(sink, registry, tally_handler(sink, clock)),
        clock=clock,
        **FAST_GROUPS,
    )
    stop = asyncio.Event()
    task = asyncio.create_task(consumer.run(stop))
    try:
        await until(
            lambda: sum(consumer.positions.values()) >= len(records),
            timeout=120,
            what="consumer at the end of the topic",
        )
    finally:
        stop.set()
        await asyncio.wait_for(task, 30)

    tallied = [
        registry.decode_event(n.state).payload.event_id
        for n in sink.recorder.select_notifications(start=1, limit=3 * TOTAL)
    ]
    sink.close()
    assert len(tallied) == TOTAL, f"{len(tallied) - TOTAL} events applied more than once"
    assert set(tallied) == set(ids)
    assert len(records) > TOTAL, "the crash after publishing must have caused republished events"


FAST_WORKER = Path(__file__).with_name("fastpath_worker.py")


def fast_worker(
    source: Path, bootstrap: str, topic: str, saves: int, die_at: int
) -> subprocess.Popen[str]:
    return subprocess.Popen(
        [sys.executable, str(FAST_WORKER), str(source), bootstrap, topic, str(saves), str(die_at)],
        stdout=subprocess.PIPE,
        text=True,
        env={**os.environ, "PYTHONUNBUFFERED": "1"},
    )


async def test_relay_killed_on_its_fast_path_loses_nothing(kafka_bootstrap, tmp_path) -> None:
    """Saves hand their events to the relay, which publishes them without reading the store back;
    it is killed after Kafka acknowledged a batch and before it recorded its position. A relay
    started on the same store afterwards publishes from the recorded position: nothing is lost."""
    topic = f"fast{uuid4().hex[:8]}.events.v1"
    await ensure_topics(
        kafka_bootstrap, [Topic(name=topic, partitions=3, description="relay fast-path crash")]
    )
    source = tmp_path / "source.sqlite"
    saves, die_at = 600, 3_000  # 6,000 events in 10-event saves; die past position 3,000
    first = fast_worker(source, kafka_bootstrap, topic, saves, die_at)
    assert first.stdout is not None
    lines = await asyncio.to_thread(first.stdout.readlines)
    assert first.wait(timeout=60) == -signal.SIGKILL
    recorded = [tuple(int(x) for x in line.split()[1:]) for line in lines]
    assert recorded and recorded[-1][0] < die_at, "it died before recording past 3,000"
    assert recorded[-1][1] > 0, "the relay was on its fast path when it died"

    store = EventStore(name="demo", producer="demo", registry=demo_registry(), sqlite_path=source)
    stored = [n.id for n in store.notifications(1, 100_000)]
    store.close()
    assert len(stored) >= die_at, "the saves outran the relay's death"

    second = Worker(source, kafka_bootstrap, topic)
    await asyncio.to_thread(
        second.read_until, lambda k, v: k == "idle" and v == len(stored), "all published"
    )
    second.proc.terminate()
    second.proc.wait()
    registry = demo_registry()
    records = await read_all(kafka_bootstrap, topic)
    positions = {int(dict(r.headers)["position"]) for r in records}
    assert positions == set(stored), "every stored event is on Kafka"
    ids = {registry.decode_event(r.value).event_id for r in records}
    assert len(ids) == len(stored)
