"""Run inside an image (`podman run ... python /replay_topic.py TOPIC`): a new consumer that reads a
topic from offset 0 to its end with that image's registry, and prints one JSON line per event: its
type, the schema version it was written in, the version it was read as, and its payload."""

import asyncio
import json
import os
import sys

import msgspec
from aiokafka import AIOKafkaConsumer, TopicPartition
from plutarc_contracts import default_registry


async def main(topic: str) -> None:
    registry = default_registry()
    consumer = AIOKafkaConsumer(
        bootstrap_servers=os.environ["PLUTARC_KAFKA_BOOTSTRAP"], enable_auto_commit=False
    )
    await consumer.start()
    try:
        await consumer.topics()  # fetches the cluster's metadata
        parts = [TopicPartition(topic, p) for p in consumer.partitions_for_topic(topic) or ()]
        consumer.assign(parts)
        await consumer.seek_to_beginning(*parts)
        ends = await consumer.end_offsets(parts)
        while any(await consumer.position(tp) < end for tp, end in ends.items()):
            batch = await consumer.getmany(timeout_ms=1000)
            for records in batch.values():
                for record in records:
                    written = json.loads(record.value)["schema_version"]
                    env = registry.decode_event(record.value)
                    line = {
                        "type": env.type,
                        "written": written,
                        "read_as": env.schema_version,
                        "payload": msgspec.to_builtins(env.payload),
                    }
                    print(json.dumps(line), flush=True)
    finally:
        await consumer.stop()


asyncio.run(main(sys.argv[1]))
