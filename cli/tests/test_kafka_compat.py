"""Does our client stack work against the Kafka version pinned in deploy/kafka/pom.xml?

Kafka 4.0 removed old protocol versions (KIP-896), and the stand-in brokers we tried failed on
exactly these paths, so every feature the platform leans on is exercised here against the real
broker: the relay's idempotent producer, consumer groups with committed offsets, topic creation
with configs (auto-create is off), and a Faust agent with a changelogged table that must recover.
"""

from __future__ import annotations

import asyncio
import time
import uuid
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Any

import faust
import pytest
from aiokafka import AIOKafkaConsumer, AIOKafkaProducer, TopicPartition
from aiokafka.admin import AIOKafkaAdminClient, NewTopic
from aiokafka.admin.config_resource import ConfigResource, ConfigResourceType
from aiokafka.errors import KafkaError

pytestmark = pytest.mark.kafka

GROUP_TIMEOUTS = {"session_timeout_ms": 6000, "heartbeat_interval_ms": 1000}


def unique(prefix: str) -> str:
    return f"{prefix}.{uuid.uuid4().hex[:8]}"


async def eventually(check: Callable[[], Awaitable[bool]], timeout: float, what: str) -> None:
    deadline = time.monotonic() + timeout
    while not await check():
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out after {timeout}s waiting for {what}")
        await asyncio.sleep(0.05)


async def create_topics(bootstrap: str, *topics: NewTopic) -> Any:
    admin = AIOKafkaAdminClient(bootstrap_servers=bootstrap)
    await admin.start()
    try:
        return await admin.create_topics(list(topics))
    finally:
        await admin.close()


async def read(consumer: AIOKafkaConsumer, count: int, timeout: float = 20) -> list[Any]:
    records: list[Any] = []

    async def more() -> bool:
        batches = await consumer.getmany(timeout_ms=200)
        records.extend(r for rs in batches.values() for r in rs)
        return len(records) >= count

    await eventually(more, timeout, f"{count} records")
    return records


async def test_idempotent_producer_with_acks_all(kafka_bootstrap: str) -> None:
    topic = unique("compat.idempotent")
    await create_topics(kafka_bootstrap, NewTopic(topic, 3, 1))
    producer = AIOKafkaProducer(
        bootstrap_servers=kafka_bootstrap, enable_idempotence=True, acks="all"
    )
    await producer.start()
    try:
        sent = [
            await producer.send(topic, f"{key}-{n}".encode(), key=key.encode())
            for n in range(10)
            for key in ("a", "b", "c")
        ]
        await asyncio.gather(*sent)
        # InitProducerId succeeded: the broker handed out a producer id (private, but the only proof).
        assert producer._txn_manager.producer_id >= 0
    finally:
        await producer.stop()

    consumer = AIOKafkaConsumer(
        topic, bootstrap_servers=kafka_bootstrap, auto_offset_reset="earliest"
    )
    await consumer.start()
    try:
        records = await read(consumer, 30)
    finally:
        await consumer.stop()
    assert len(records) == 30
    for key in (b"a", b"b", b"c"):
        values = [r.value for r in records if r.key == key]
        assert values == [f"{key.decode()}-{n}".encode() for n in range(10)]


async def test_group_join_commit_and_committed_offsets(kafka_bootstrap: str) -> None:
    topic, group = unique("compat.group"), unique("g")
    await create_topics(kafka_bootstrap, NewTopic(topic, 2, 1))
    producer = AIOKafkaProducer(bootstrap_servers=kafka_bootstrap, acks="all")
    await producer.start()
    try:
        for n in range(10):
            await producer.send_and_wait(topic, b"%d" % n, partition=n % 2)

        consumer = AIOKafkaConsumer(
            topic,
            bootstrap_servers=kafka_bootstrap,
            group_id=group,
            enable_auto_commit=False,
            auto_offset_reset="earliest",
            **GROUP_TIMEOUTS,
        )
        started = time.monotonic()
        await consumer.start()
        try:
            first = await read(consumer, 10)
            first_join = time.monotonic() - started
            await consumer.commit()
            tps = [TopicPartition(topic, 0), TopicPartition(topic, 1)]
            assert [await consumer.committed(tp) for tp in tps] == [5, 5]
        finally:
            await consumer.stop()

        admin = AIOKafkaAdminClient(bootstrap_servers=kafka_bootstrap)
        await admin.start()
        try:
            offsets = await admin.list_consumer_group_offsets(group)
        finally:
            await admin.close()
        assert {tp.partition: meta.offset for tp, meta in offsets.items()} == {0: 5, 1: 5}

        await producer.send_and_wait(topic, b"10", partition=0)
        again = AIOKafkaConsumer(
            topic, bootstrap_servers=kafka_bootstrap, group_id=group, **GROUP_TIMEOUTS
        )
        started = time.monotonic()
        await again.start()
        try:
            resumed = await read(again, 1)
            rejoin = time.monotonic() - started
        finally:
            await again.stop()
    finally:
        await producer.stop()

    assert sorted(int(r.value) for r in first) == list(range(10))
    assert [r.value for r in resumed] == [b"10"]  # resumed from the committed offset
    print(f"\nfirst group join + fetch: {first_join:.2f}s, rejoin + fetch: {rejoin:.2f}s")
    assert first_join < 3.0, "join waited for the session timeout: check rebalance delay"


async def test_create_topics_with_configs_and_no_auto_create(kafka_bootstrap: str) -> None:
    topic = unique("compat.compacted")
    configs = {"cleanup.policy": "compact", "retention.ms": "86400000"}
    created = await create_topics(kafka_bootstrap, NewTopic(topic, 2, 1, topic_configs=configs))
    again = await create_topics(kafka_bootstrap, NewTopic(topic, 2, 1, topic_configs=configs))

    assert [e[1] for e in created.topic_errors] == [0]
    assert [e[1] for e in again.topic_errors] == [36]  # TOPIC_ALREADY_EXISTS
    admin = AIOKafkaAdminClient(bootstrap_servers=kafka_bootstrap)
    await admin.start()
    try:
        resource = ConfigResource(ConfigResourceType.TOPIC, topic)
        [response] = await admin.describe_configs([resource])
        described = await admin.describe_topics([topic])
    finally:
        await admin.close()
    entries = response.to_object()["resources"][0]["config_entries"]
    actual = {e["config_names"]: e["config_value"] for e in entries}
    assert {k: actual[k] for k in configs} == configs
    assert len(described[0]["partitions"]) == 2

    producer = AIOKafkaProducer(bootstrap_servers=kafka_bootstrap, request_timeout_ms=2000)
    await producer.start()
    try:
        with pytest.raises(KafkaError):
            await producer.send_and_wait(unique("compat.missing"), b"x")
    finally:
        await producer.stop()


def build_faust_app(
    app_id: str, bootstrap: str, topic: str, datadir: Path
) -> tuple[faust.App, Any, list[bytes]]:
    """A tiny Faust app as services will write them: one agent, one changelogged table."""
    app = faust.App(
        app_id,
        broker=f"kafka://{bootstrap}",
        store="memory://",
        datadir=str(datadir),
        web_enabled=False,
        autodiscover=False,
        topic_partitions=1,
        topic_replication_factor=1,
        broker_session_timeout=6.0,
        broker_heartbeat_interval=1.0,
        broker_commit_every=1,
        broker_commit_interval=0.2,
        consumer_auto_offset_reset="earliest",
    )
    source = app.topic(
        topic, key_type=bytes, value_type=bytes, key_serializer="raw", value_serializer="raw"
    )
    counts = app.Table("counts", default=int, partitions=1)
    seen: list[bytes] = []

    @app.agent(source)
    async def count(stream: Any) -> None:
        async for key, _value in stream.items():
            counts[key.decode()] += 1
            seen.append(key)

    return app, counts, seen


async def test_faust_agent_table_commit_and_recovery(kafka_bootstrap: str, tmp_path: Path) -> None:
    topic, app_id = unique("compat.faust"), unique("faustapp")
    await create_topics(kafka_bootstrap, NewTopic(topic, 1, 1))  # Faust declares only its own
    producer = AIOKafkaProducer(bootstrap_servers=kafka_bootstrap, acks="all")
    probe = AIOKafkaConsumer(bootstrap_servers=kafka_bootstrap, group_id=app_id)
    await producer.start()
    try:
        app, counts, seen = build_faust_app(app_id, kafka_bootstrap, topic, tmp_path / "one")
        started = time.monotonic()
        await app.start()
        try:
            startup = time.monotonic() - started
            for key in (b"a", b"a", b"b"):
                await producer.send_and_wait(topic, b"1", key=key)

            async def processed() -> bool:
                return len(seen) == 3

            await eventually(processed, 60, "the agent to process 3 events")
            assert dict(counts.items()) == {"a": 2, "b": 1}
            await probe.start()

            async def committed() -> bool:
                return bool(await probe.committed(TopicPartition(topic, 0)) == 3)

            await eventually(committed, 30, "Faust to commit offset 3")
        finally:
            await app.stop()

        # A fresh worker must rebuild the table from the changelog and resume after offset 3.
        app2, counts2, seen2 = build_faust_app(app_id, kafka_bootstrap, topic, tmp_path / "two")
        await app2.start()
        try:
            await producer.send_and_wait(topic, b"1", key=b"a")

            async def resumed() -> bool:
                return len(seen2) == 1

            await eventually(resumed, 60, "the restarted agent to process the new event")
            assert seen2 == [b"a"]
            assert dict(counts2.items()) == {"a": 3, "b": 1}
        finally:
            await app2.stop()
    finally:
        await probe.stop()
        await producer.stop()
    print(f"\nfaust app start: {startup:.2f}s")
