"""Command -> reply round trip through Kafka on loopback, one command in flight at a time.

A Service runs the demo command handlers in this process (SQLite store, default settings). The
client produces `demo.increment` with the runtime's producer and waits for the reply event
(`system.command_accepted`) on the service's events topic, matched by correlation id, through a
consumer assigned to every partition before the first command. 3,000 round trips of warm-up come
first (see WARMUP), then the samples.

Besides the latency, each sample is split into six stages by timestamps taken along the way:
  to consumer  send -> the service's consumer has the record (client producer, broker, fetch)
  to worker    -> the command handler starts in a worker thread (the hop to the thread)
  handler      decode, idempotency lookup, load the counter, decide
  store        handler done -> events committed (SQLite commit with its fsync, hash chain)
  relay        committed -> the relay publishes the reply (hand-over to the relay's loop, or a
               read of the outbox)
  to client    -> reply received (relay producer, broker, client fetch)
"to handler" in older numbers is the first two, "to reply" the last two.
"""

from __future__ import annotations

import asyncio
import contextlib
import statistics
import time
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path
from typing import Any
from uuid import uuid4

from aiokafka import AIOKafkaConsumer, TopicPartition
from plutarc_contracts import CommandEnvelope, commands_topic, declare_context, events_topic
from plutarc_runtime.bus import make_producer
from plutarc_runtime.service import Service, ServiceSpec
from plutarc_runtime.settings import RuntimeSettings

from .common import percentiles

FAST_GROUPS = {"session_timeout_ms": 6000, "heartbeat_interval_ms": 500}
REPLY_TYPES = {b"system.command_accepted", b"system.command_rejected"}
COUNTERS = 10
# A new broker's request path needs a few thousand round trips before its JIT has compiled it: with
# 100 of warm-up, the Kafka hops of a fresh broker measured twice their steady value.
WARMUP = 3000
STAGES = ("to consumer", "to worker", "handler", "store", "relay", "to client")


class Stamps:
    """Monotonic timestamps of the one command in flight, written from the service's threads."""

    def __init__(self) -> None:
        self.consumed = 0.0
        self.handler_start = 0.0
        self.handler_end = 0.0
        self.saved = 0.0
        self.relayed = 0.0

    def first(self, name: str) -> None:
        """Stamp `name` unless it was stamped since the command was sent."""
        if not getattr(self, name):
            setattr(self, name, time.perf_counter())

    def clear(self) -> None:
        self.consumed = self.handler_start = self.handler_end = self.saved = self.relayed = 0.0


def timed(processor: Callable[[bytes], Any], stamps: Stamps) -> Callable[[bytes], Any]:
    def process(value: bytes) -> Any:
        stamps.handler_start = time.perf_counter()
        try:
            return processor(value)
        finally:
            stamps.handler_end = time.perf_counter()

    return process


def stamped(stamps: Stamps, name: str, method: Callable[..., Any]) -> Callable[..., Any]:
    """`method` (a coroutine method of the service), stamping `name` when first called."""

    async def call(*args: Any, **kwargs: Any) -> Any:
        stamps.first(name)
        return await method(*args, **kwargs)

    return call


class Replies:
    """Reads the events topic from its end and resolves waiters by correlation id."""

    def __init__(self, bootstrap: str, topic: str, registry: Any) -> None:
        self.consumer = AIOKafkaConsumer(
            bootstrap_servers=bootstrap, client_id="bench-client", enable_auto_commit=False
        )
        self.topic = topic
        self.registry = registry
        self.waiting: dict[str, asyncio.Future[float]] = {}
        self.task: asyncio.Task[None] | None = None

    async def start(self) -> None:
        await self.consumer.start()
        tps = [TopicPartition(self.topic, p) for p in range(3)]
        self.consumer.assign(tps)
        await self.consumer.seek_to_end(*tps)
        for tp in tps:
            await self.consumer.position(tp)
        self.task = asyncio.create_task(self._read())

    async def _read(self) -> None:
        while True:
            batch = await self.consumer.getmany(timeout_ms=1000)
            now = time.perf_counter()
            for records in batch.values():
                for record in records:
                    if dict(record.headers).get("type") not in REPLY_TYPES:
                        continue
                    env = self.registry.decode_event(record.value)
                    waiter = self.waiting.pop(env.correlation_id, None)
                    if waiter is not None and not waiter.done():
                        waiter.set_result(now)

    def expect(self, correlation_id: str) -> asyncio.Future[float]:
        waiter = asyncio.get_running_loop().create_future()
        self.waiting[correlation_id] = waiter
        return waiter

    async def stop(self) -> None:
        if self.task is not None:
            self.task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self.task
        await self.consumer.stop()


def command_bytes(registry: Any, type_name: str, payload: Any) -> tuple[str, bytes]:
    cid = str(uuid4())
    env = CommandEnvelope(
        command_id=cid,
        type=type_name,
        schema_version=1,
        issued_at=datetime.now(UTC),
        actor="user:bench",
        workspace_id="ws-bench",
        correlation_id=f"corr-{cid}",
        causation_id=None,
        payload=payload,
    )
    return env.correlation_id, registry.encode_command(env)


async def _wait_for(condition: Callable[[], bool], what: str, timeout: float = 60) -> None:
    deadline = time.monotonic() + timeout
    while not condition():
        if time.monotonic() > deadline:
            raise TimeoutError(f"timed out waiting for {what}")
        await asyncio.sleep(0.05)


async def _run(base: Path, bootstrap: str, samples: int, warmup: int) -> list[str]:
    from demo import HANDLERS, Counter, Increment, OpenCounter, Tally, demo_registry

    registry = demo_registry()
    context = f"benchrt{uuid4().hex[:8]}"
    spec = ServiceSpec(
        name=context,
        context=context,
        registry=registry,
        stream_types=[Counter, Tally],
        handlers=HANDLERS,
        context_topics=declare_context(context, description="benchmark counters"),
    )
    settings = RuntimeSettings(kafka_bootstrap=bootstrap, data_dir=base / "roundtrip")
    service = Service(spec, settings, consumer_overrides=FAST_GROUPS)
    stop = asyncio.Event()
    runner = asyncio.create_task(service.run(stop), name="service")
    replies = Replies(bootstrap, events_topic(context), registry)
    producer = make_producer(bootstrap, client_id="bench-client", linger_ms=0)
    stamps = Stamps()
    try:
        await _wait_for(lambda: service.started.is_set() or runner.done(), "service start")
        if runner.done():
            runner.result()
        [commands] = service.consumers
        await _wait_for(commands.assigned.is_set, "command partitions")
        commands.processor = timed(commands.processor, stamps)
        commands._handle = stamped(stamps, "consumed", commands._handle)  # type: ignore[method-assign]
        commands._handle_many = stamped(stamps, "consumed", commands._handle_many)  # type: ignore[method-assign]
        assert service.relay is not None
        relay = service.relay
        relay._publish = stamped(stamps, "relayed", relay._publish)  # type: ignore[method-assign]
        service.store.on_appended(lambda _n, _h: stamps.first("saved"))
        await replies.start()
        await producer.start()
        topic = commands_topic(context)

        async def roundtrip(type_name: str, payload: Any, key: str) -> tuple[float, ...]:
            correlation_id, raw = command_bytes(registry, type_name, payload)
            reply = replies.expect(correlation_id)
            stamps.clear()
            sent = time.perf_counter()
            await (await producer.send(topic, raw, key=key.encode()))
            received = await asyncio.wait_for(reply, 30)
            return (
                received - sent,
                stamps.consumed - sent,
                stamps.handler_start - stamps.consumed,
                stamps.handler_end - stamps.handler_start,
                stamps.saved - stamps.handler_end,
                stamps.relayed - stamps.saved,
                received - stamps.relayed,
            )

        counter_ids = [str(uuid4()) for _ in range(COUNTERS)]
        for cid in counter_ids:
            await roundtrip("demo.open_counter", OpenCounter(counter_id=cid, name="bench"), cid)
        results = []
        for i in range(warmup + samples):
            cid = counter_ids[i % COUNTERS]
            result = await roundtrip("demo.increment", Increment(counter_id=cid, by=1), cid)
            if i >= warmup:
                results.append(result)
    finally:
        with contextlib.suppress(Exception):
            await producer.stop()
        with contextlib.suppress(Exception):
            await replies.stop()
        stop.set()
        with contextlib.suppress(Exception):
            await asyncio.wait_for(runner, 30)
    ms = [[r[k] * 1000 for r in results] for k in range(len(STAGES) + 1)]
    stages = ", ".join(
        f"{name} {statistics.median(values):.2f}"
        for name, values in zip(STAGES, ms[1:], strict=True)
    )
    return [
        f"roundtrip: command -> reply: {percentiles(ms[0])}, after {warmup} of warm-up",
        f"roundtrip: median stages (ms): {stages}",
    ]


def run(base: Path, bootstrap: str, samples: int = 1000, warmup: int = WARMUP) -> list[str]:
    return asyncio.run(_run(base, bootstrap, samples, warmup))
