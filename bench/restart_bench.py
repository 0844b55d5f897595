"""The API's read models after a restart: resuming from the offsets committed with the rows.

On a fresh broker, a realistic identity history (bench/identity_history.py) of a first size is
published and the API's four projections built through `ReadModels` into a SQLite file. Then, as a
restarted API does, a new engine and a new `ReadModels` on that file: the time from calling `run`
until `caught_up` (the bookkeeping tables, the Kafka clients, the end offsets, the writer lock,
each projector's version check and seek), three times. The history then grows to ten times the
size, the models catch up (resuming, not replaying) and the restarts are timed again: what a
restart costs should not grow with the history.

`events=` sets the larger size (default 200,000; PLUTARC_BENCH_EVENTS=1000000 for a million).
"""

from __future__ import annotations

import asyncio
import logging
import statistics
from pathlib import Path

from plutarc_contracts import default_registry
from plutarc_runtime.readmodels import ReadModels, sqlite_engine

from .common import kafka
from .identity_history import History, publish
from .projection_bench import api_projections, build, files_size, history_size, until

RESTARTS = 3
GOAL_S = 1.0


async def restart(db: Path, bootstrap: str) -> tuple[float, ReadModels]:
    engine = sqlite_engine(db)
    models = ReadModels(
        engine,
        api_projections(),
        bootstrap=bootstrap,
        registry=default_registry(),
        name="api",
        lock_path=db.with_suffix(".lock"),
    )
    try:
        return await until(models.run, models.caught_up, 120), models
    finally:
        engine.dispose()


async def _run(base: Path, bootstrap: str, sizes: tuple[int, int]) -> list[str]:
    history = History()
    db = base / "api-readmodels.sqlite"
    lines = []
    total = 0
    for size in sizes:
        total += await publish(bootstrap, history, size - total)
        _, built = await build(db, bootstrap, api_projections())
        how = "built from offset 0" if size == sizes[0] else "resumed and caught up"
        lines.append(
            f"restart: {total:,} identity events: read models {how} in {built:.1f} s, "
            f"database {files_size(base, db.name + '*') / 1e6:.0f} MB"
        )
        times = []
        for _ in range(RESTARTS):
            seconds, models = await restart(db, bootstrap)
            rebuilt = [n for n, s in models.status()["projections"].items() if s["rebuilt"]]
            applied = sum(p.applied for p in models.projectors)
            if rebuilt or applied:
                raise RuntimeError(f"a restart replayed: rebuilt {rebuilt}, applied {applied}")
            times.append(seconds)
        verdict = "met" if max(times) < GOAL_S else "MISSED"
        lines.append(
            f"restart: {total:,} events: ReadModels.run -> caught_up in "
            f"{statistics.median(times) * 1000:.0f} ms median of {RESTARTS} "
            f"({', '.join(f'{t * 1000:.0f}' for t in times)} ms; goal < 1 s {verdict})"
        )
    return lines


def run(base: Path, quick: bool = False, events: int | None = None) -> list[str]:
    large = events or history_size(200_000, quick, 20_000)
    # Each projector warns "waiting for topics" once as it starts (its metadata is not loaded
    # yet), which is not news here.
    logging.getLogger("plutarc_runtime.readmodels.projector").setLevel(logging.ERROR)
    work = base / "restart"
    work.mkdir()
    with kafka(work) as bootstrap:
        return asyncio.run(_run(work, bootstrap, (large // 10, large)))
