"""A process that saves events while its relay publishes them from what the saves hand over (the
fast path), so a test can SIGKILL it at the worst moment: after Kafka acknowledged a batch, before
the relay recorded its position.

Usage: python fastpath_worker.py SQLITE_PATH BOOTSTRAP TOPIC SAVES DIE_BEFORE_RECORDING
Saves SAVES times 10 events in a thread, each once the relay published the one before. Prints "position N F" each time the relay records one, F the sections it published so far
from what saves handed over (not read back from the store).
"""

from __future__ import annotations

import asyncio
import os
import signal
import sys
import threading
import time
from pathlib import Path

from plutarc_runtime.bus import make_producer
from plutarc_runtime.clock import FakeClock
from plutarc_runtime.relay import OutboxRelay
from plutarc_runtime.store import EventStore, Meta

sys.path.insert(0, str(Path(__file__).parent))
from demo import Counter, demo_registry


def save(store: EventStore, relay: OutboxRelay, saves: int) -> None:
    """One save at a time, each published before the next (as commands come one by one)."""
    clock = FakeClock()
    for _ in range(saves):
        counter = Counter.open("c", clock.now())
        for _ in range(9):
            counter.increment(1, clock.now())
        [*_, last] = store.save(counter, meta=Meta("user:alice", "fast-path"))
        while relay.position < last.notification_id:
            time.sleep(0.0005)


async def main(path: str, bootstrap: str, topic: str, saves: int, die_at: int) -> None:
    store = EventStore(
        name="demo", producer="demo", registry=demo_registry(), sqlite_path=Path(path)
    )
    record = store.recorder.insert_tracking
    counts = {"sections": 0, "store_reads": 0}

    def record_or_die(tracking):  # type: ignore[no-untyped-def]
        if tracking.notification_id >= die_at:
            os.kill(os.getpid(), signal.SIGKILL)
        record(tracking)
        fast = counts["sections"] - counts["store_reads"]
        print(f"position {tracking.notification_id} {fast}", flush=True)

    store.recorder.insert_tracking = record_or_die
    relay = OutboxRelay(
        store, lambda: make_producer(bootstrap, client_id="fast-path-worker"), lambda _t: topic
    )
    publish, read = relay._publish, relay._read_section

    async def counted_publish(section, hashes):  # type: ignore[no-untyped-def]
        counts["sections"] += 1
        return await publish(section, hashes)

    def counted_read():  # type: ignore[no-untyped-def]
        found = read()
        counts["store_reads"] += 1 if found[0] else 0
        return found

    relay._publish, relay._read_section = counted_publish, counted_read  # type: ignore[method-assign]
    stop = asyncio.Event()
    running = asyncio.create_task(relay.run(stop))
    await asyncio.sleep(0)
    saver = threading.Thread(target=save, args=(store, relay, saves), daemon=True)
    saver.start()
    await asyncio.to_thread(saver.join)
    await running  # dies by SIGKILL before it ends


if __name__ == "__main__":
    asyncio.run(main(sys.argv[1], sys.argv[2], sys.argv[3], int(sys.argv[4]), int(sys.argv[5])))
