"""Reading topics back in tests: every message from the beginning up to the current end."""

from __future__ import annotations

from typing import Any
from uuid import uuid4

from aiokafka import AIOKafkaConsumer, AIOKafkaProducer, TopicPartition


async def read_all(bootstrap: str, topic: str, timeout: float = 30.0) -> list[Any]:
    """All records on `topic` now (every partition, offset 0 to the end offsets taken at the start)."""
    consumer = AIOKafkaConsumer(
        bootstrap_servers=bootstrap,
        enable_auto_commit=False,
        auto_offset_reset="earliest",
        isolation_level="read_committed",
    )
    await consumer.start()
    try:
        partitions = [
            TopicPartition(topic, p) for p in (consumer.partitions_for_topic(topic) or set())
        ]
        if not partitions:
            await consumer._client.force_metadata_update()
            partitions = [
                TopicPartition(topic, p) for p in (consumer.partitions_for_topic(topic) or set())
            ]
        consumer.assign(partitions)
        await consumer.seek_to_beginning(*partitions)
        end = await consumer.end_offsets(partitions)
        records: list[Any] = []
        remaining = {tp for tp in partitions if end[tp] > 0}
        while remaining:
            batch = await consumer.getmany(*remaining, timeout_ms=int(timeout * 1000))
            if not batch:
                raise TimeoutError(f"could not read {topic} to its end within {timeout}s")
            for tp, recs in batch.items():
                records.extend(recs)
                if recs and recs[-1].offset + 1 >= end[tp]:
                    remaining.discard(tp)
        return records
    finally:
        await consumer.stop()


async def end_offsets_total(bootstrap: str, topic: str) -> int:
    consumer = AIOKafkaConsumer(bootstrap_servers=bootstrap, client_id=f"probe-{uuid4().hex[:6]}")
    await consumer.start()
    try:
        parts = consumer.partitions_for_topic(topic) or set()
        tps = [TopicPartition(topic, p) for p in parts]
        if not tps:
            return 0
        return sum((await consumer.end_offsets(tps)).values())
    finally:
        await consumer.stop()


async def produce(
    bootstrap: str, topic: str, values: list[bytes], key: bytes | None = None
) -> None:
    producer = AIOKafkaProducer(bootstrap_servers=bootstrap, enable_idempotence=True, acks="all")
    await producer.start()
    try:
        for value in values:
            await producer.send_and_wait(topic, value, key=key)
    finally:
        await producer.stop()
