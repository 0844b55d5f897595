"""A relay in a process of its own, so a test can SIGKILL it mid-publish.

Usage: python relay_worker.py SQLITE_PATH BOOTSTRAP TOPIC BATCH [DIE_BEFORE_RECORDING]
Prints the relay position after every batch Kafka acknowledged. With DIE_BEFORE_RECORDING=N the
worker SIGKILLs itself once Kafka has acknowledged the batch reaching position N but before the
position is recorded: the worst moment to crash, which forces a republish.
"""

from __future__ import annotations

import asyncio
import os
import signal
import sys
from pathlib import Path

from plutarc_runtime.bus import make_producer
from plutarc_runtime.relay import OutboxRelay
from plutarc_runtime.store import EventStore

sys.path.insert(0, str(Path(__file__).parent))
from demo import demo_registry


async def main(path: str, bootstrap: str, topic: str, batch: int, die_at: int | None) -> None:
    store = EventStore(
        name="demo", producer="demo", registry=demo_registry(), sqlite_path=Path(path)
    )
    if die_at is not None:
        record = store.recorder.insert_tracking

        def record_or_die(tracking):  # type: ignore[no-untyped-def]
            if tracking.notification_id >= die_at:
                os.kill(os.getpid(), signal.SIGKILL)
            record(tracking)

        store.recorder.insert_tracking = record_or_die
    relay = OutboxRelay(
        store,
        lambda: make_producer(bootstrap, client_id="relay-worker"),
        lambda _type: topic,
        batch_size=batch,
    )
    await relay.start()
    print(f"position {relay.position}", flush=True)
    try:
        while True:
            if not await relay.publish_batch():
                print(f"idle {relay.position}", flush=True)
                await asyncio.sleep(0.05)
                continue
            print(f"position {relay.position}", flush=True)
    finally:
        await relay.close()


if __name__ == "__main__":
    die = int(sys.argv[5]) if len(sys.argv) > 5 else None
    asyncio.run(main(sys.argv[1], sys.argv[2], sys.argv[3], int(sys.argv[4]), die))
