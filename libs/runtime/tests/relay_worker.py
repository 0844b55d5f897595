"""A relay in a process of its own, so a test can SIGKILL it mid-publish.

Usage: python relay_worker.py SQLITE_PATH BOOTSTRAP TOPIC BATCH
Prints the relay position after every batch Kafka acknowledged.
"""

from __future__ import annotations

import asyncio
import sys
from pathlib import Path

from plutarc_runtime.bus import make_producer
from plutarc_runtime.relay import OutboxRelay
from plutarc_runtime.store import EventStore

sys.path.insert(0, str(Path(__file__).parent))
from demo import demo_registry  # noqa: E402


async def main(path: str, bootstrap: str, topic: str, batch: int) -> None:
    store = EventStore(name="demo", producer="demo", registry=demo_registry(), sqlite_path=Path(path))
    producer = make_producer(bootstrap, client_id="relay-worker")
    await producer.start()
    relay = OutboxRelay(store, producer, lambda _type: topic, batch_size=batch)
    relay.position = store.max_tracking_id("outbox-relay")
    print(f"position {relay.position}", flush=True)
    try:
        while True:
            if not await relay.publish_batch():
                print(f"idle {relay.position}", flush=True)
                await asyncio.sleep(0.05)
                continue
            print(f"position {relay.position}", flush=True)
    finally:
        await producer.stop()


if __name__ == "__main__":
    asyncio.run(main(sys.argv[1], sys.argv[2], sys.argv[3], int(sys.argv[4])))
