"""Store append (batched and one event per save) and replay, on SQLite and PostgreSQL."""

from __future__ import annotations

from pathlib import Path
from uuid import uuid4

from plutarc_runtime.clock import FakeClock
from plutarc_runtime.store import EventStore, Meta

from .common import rate, timer

META = Meta(actor="user:bench", correlation_id="bench")


def _store(name: str, base: Path, url: str | None) -> EventStore:
    from demo import Counter, demo_registry

    return EventStore(
        name=name,
        producer=name,
        registry=demo_registry(),
        clock=FakeClock(),
        sqlite_path=None if url else base / f"{name}.sqlite",
        database_url=url,
        snapshot_interval=0,
        stream_types=[Counter],
    )


def run(
    base: Path, backend: str, url: str | None = None, events: int = 50_000, single: int = 5_000
) -> list[str]:
    from demo import Counter

    lines = []
    clock = FakeClock()
    store = _store(f"b{uuid4().hex[:8]}", base, url)
    try:
        counters = []
        with timer() as t:
            for _ in range(events // 100):
                counter = Counter.open("c", clock.now())
                for _ in range(99):
                    counter.increment(1, clock.now())
                store.save(counter, meta=META)
                counters.append(counter.id)
        lines.append(f"{backend}: append in 100-event saves: {rate(events, t[0])}")

        counter = Counter.open("single", clock.now())
        store.save(counter, meta=META)
        with timer() as t:
            for _ in range(single - 1):
                counter.increment(1, clock.now())
                store.save(counter, meta=META)
        lines.append(f"{backend}: append one event per save: {rate(single, t[0])}")

        with timer() as t:
            for cid in counters:
                store.get(Counter, cid)
        lines.append(f"{backend}: replay into aggregates: {rate(events, t[0])}")

        with timer() as t:
            result = store.verify(batch=10_000)
        if not result.ok:
            raise RuntimeError(f"{backend}: hash chain broken at {result}")
        lines.append(f"{backend}: verify hash chain: {rate(result.checked, t[0])}")
    finally:
        store.close()
    return lines
