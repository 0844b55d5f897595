"""A stand-in for the compute service in the compute API's and the CLI's tests: it publishes the events a test gives it
on `compute.events.v1`, and answers the API's commands (`set_sleep_policy`, `wake_host`) with the
events the real service would record and a `system.command_accepted` reply. A command seen before
(the same id: an Idempotency-Key repeated) is answered again without new events, as a service
answers a repeated command with its first outcome."""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from typing import Any
from uuid import uuid4

import msgspec
from aiokafka import AIOKafkaProducer
from plutarc_compute.api.models import hosts
from plutarc_contracts import CommandAccepted, Envelope, commands_topic, default_registry
from plutarc_contracts import compute as c
from plutarc_runtime.bus import log_reader, make_producer, partitions_of
from plutarc_testkit.waiting import until
from sqlalchemy import select

from .conftest import Platform

EVENTS, COMMANDS = "compute.events.v1", commands_topic(c.COMPUTE)


class FakeCompute:
    def __init__(self, producer: AIOKafkaProducer) -> None:
        self.producer = producer
        self.registry = default_registry()
        self.positions: dict[str, int] = {}
        self.handled: list[str] = []
        """Command types answered with new events, in order (repeats not counted)."""
        self.seen: set[str] = set()
        self.ready = asyncio.Event()

    async def publish(
        self,
        payload: msgspec.Struct,
        at: datetime | None = None,
        *,
        correlation_id: str | None = None,
    ) -> None:
        name, version = self.registry.type_name_of(type(payload))
        stream = str(getattr(payload, "bot_id", None) or getattr(payload, "workspace_id", "x"))
        self.positions[stream] = self.positions.get(stream, 0) + 1
        env = Envelope(
            event_id=str(uuid4()),
            type=name,
            schema_version=version,
            occurred_at=at or datetime.now(UTC),
            producer="compute",
            stream_id=stream,
            stream_position=self.positions[stream],
            workspace_id=getattr(payload, "workspace_id", None),
            actor="system:compute",
            correlation_id=correlation_id or str(uuid4()),
            causation_id=None,
            payload=payload,
        )
        await self.producer.send_and_wait(
            EVENTS,
            self.registry.encode_event(env),
            key=stream.encode(),
            headers=[("type", name.encode())],
        )

    async def answer(self, data: bytes) -> None:
        command = self.registry.decode_command(data)
        p: Any = command.payload
        if command.command_id not in self.seen:
            self.seen.add(command.command_id)
            self.handled.append(command.type)
            if isinstance(p, c.SetSleepPolicy):
                await self.publish(
                    c.SleepPolicySet(
                        workspace_id=p.workspace_id, drain_deadline_minutes=p.drain_deadline_minutes
                    )
                )
            elif isinstance(p, c.WakeHost):
                await self.publish(
                    c.ProvisioningRequested(
                        workspace_id=p.workspace_id,
                        bot_id=p.bot_id,
                        provider="local",
                        attempt=1,
                        size="small",
                        reason=p.reason,
                    )
                )
        await self.publish(
            CommandAccepted(command_id=command.command_id, command_type=command.type),
            correlation_id=command.correlation_id,
        )

    async def serve(self, bootstrap: str, stop: asyncio.Event) -> None:
        consumer = log_reader(bootstrap, f"fake-compute-{uuid4().hex[:8]}")
        await consumer.start()
        try:
            partitions = await partitions_of(consumer, [COMMANDS], stop, "fake-compute")
            ends = await consumer.end_offsets(partitions)
            consumer.assign(partitions)
            for tp in partitions:
                consumer.seek(tp, ends[tp])
            self.ready.set()
            while not stop.is_set():
                batch = await consumer.getmany(timeout_ms=100, max_records=100)
                for records in batch.values():
                    for record in records:
                        await self.answer(record.value or b"")
        finally:
            await consumer.stop()


@contextlib.asynccontextmanager
async def fake_compute(bootstrap: str) -> AsyncIterator[FakeCompute]:
    producer = make_producer(bootstrap, client_id="fake-compute")
    await producer.start()
    fake = FakeCompute(producer)
    stop = asyncio.Event()
    task = asyncio.create_task(fake.serve(bootstrap, stop))
    try:
        await asyncio.wait_for(fake.ready.wait(), 30)
        yield fake
    finally:
        stop.set()
        await asyncio.wait_for(task, 30)
        await producer.stop()


class FakePrices:
    """USD per hour: aws t3.small 0.0208 and its address 0.005; local 0."""

    HOSTS = {("aws", "t3.small"): Decimal("0.0208"), ("local", "small"): Decimal(0)}
    ADDRESSES = {"aws": Decimal("0.005"), "local": Decimal(0)}

    def hourly(self, provider: str, size: str) -> Decimal:
        return self.HOSTS[(provider, size)]

    def address_hourly(self, provider: str) -> Decimal:
        return self.ADDRESSES[provider]


def window(ws: str, bot: str, starts_at: datetime) -> c.WindowPlanned:
    return c.WindowPlanned(
        workspace_id=ws,
        bot_id=bot,
        provider="aws",
        starts_at=starts_at,
        ends_at=starts_at + timedelta(hours=8),
        wake_at=starts_at - timedelta(minutes=2),
        end_rule="flatten",
        time_zone="UTC",
    )


async def seed(platform: Platform, compute: FakeCompute, ws: str, other_ws: str) -> datetime:
    """bot-a ran two hours (4 h to 2 h ago) and sleeps with its address; bot-b has a window
    planned and nothing else; a bot of another workspace is running."""
    now = datetime.now(UTC).replace(microsecond=0)
    ids = {"workspace_id": ws, "bot_id": f"{ws}-a"}
    tomorrow = now + timedelta(days=1)
    for payload, at in [
        (window(ws, f"{ws}-a", now - timedelta(hours=4)), now - timedelta(hours=5)),
        (
            c.ProvisioningRequested(
                **ids, provider="aws", attempt=1, size="t3.small", reason="window"
            ),
            now - timedelta(hours=4, minutes=3),
        ),
        (
            c.HostProvisioned(
                **ids,
                provider="aws",
                address="203.0.113.7",
                host_id="i-1",
                size="t3.small",
                took_ms=60_000,
            ),
            now - timedelta(hours=4),
        ),
        (c.BotStartedOnHost(**ids, address="203.0.113.7"), now - timedelta(hours=4)),
        (c.HostDrained(**ids, reason="flat"), now - timedelta(hours=2)),
        (
            c.HostDeprovisioned(**ids, address="203.0.113.7", address_kept=True),
            now - timedelta(hours=2),
        ),
        (window(ws, f"{ws}-a", tomorrow), now - timedelta(hours=2)),
        (window(ws, f"{ws}-b", tomorrow), now - timedelta(hours=1)),
        (
            c.WindowMissed(
                workspace_id=ws,
                bot_id=f"{ws}-b",
                window_starts_at=now - timedelta(minutes=30),
                state="new",
            ),
            now - timedelta(minutes=30),
        ),
        (window(other_ws, f"{other_ws}-x", tomorrow), now - timedelta(hours=1)),
    ]:
        await compute.publish(payload, at)

    async def shown() -> bool:
        row = await platform.api.reader.one(select(hosts).where(hosts.c.bot_id == f"{other_ws}-x"))
        return row is not None

    await until(shown, what="the seeded hosts in the API's read model")
    return now
