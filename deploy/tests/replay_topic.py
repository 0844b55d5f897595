"""Run inside an image (`podman run ... python /replay_topic.py TOPIC`): a new consumer that reads a
topic from offset 0 to its end with that image's registry, and prints one JSON line per event: its
type, the schema version it was written in, the version it was read as, and its payload."""

import asyncio
import json
import os
import sys

import msgspec
from aiokafka import AIOKafkaConsumer, TopicPartition
from plutarc_contracts import Registry, default_registry


def print_event(registry: Registry, value: bytes) -> None:
    written = json.loads(value)["schema_version"]
    env = registry.decode_event(value)
    line = {
        "type": env.type,
        "written": written,
        "read_as": env.schema_version,
        "payload": msgspec.to_builtins(env.payload),
    }
    print(json.dumps(line), flush=True)


async def main(topic: str) -> None:
    registry = default_registry()
    consumer = AIOKafkaConsumer(
        topic,
        bootstrap_servers=os.environ["PLUTARC_KAFKA_BOOTSTRAP"],
        enable_auto_commit=False,
        auto_offset_reset="earliest",  # no group, no committed offset: from offset 0
    )
    await consumer.start()
    try:
        ends: dict[TopicPartition, int] = {}
        for _ in range(120):  # at most about two minutes
            batch = await consumer.getmany(timeout_ms=1000)
            for records in batch.values():
                for record in records:
                    print_event(registry, record.value)
            parts = consumer.assignment()
            if parts and not ends:
                ends = await consumer.end_offsets(list(parts))
            positions = {tp: await consumer.position(tp) for tp in ends}
            if ends and all(positions[tp] >= end for tp, end in ends.items()):
                return
        raise SystemExit(f"{topic} was not read to its end")
    finally:
        await consumer.stop()


asyncio.run(main(sys.argv[1]))
