"""The API's read models rebuilt from offset 0 on SQLite: events applied per second.

A fresh broker gets a realistic identity history (bench/identity_history.py: registrations,
logins and logouts, organisations, invitations, role changes, API tokens, each command with its
reply) on identity's two topics, as identity's relay publishes it. Then each of the API's four
projections (identity's accounts and workspaces, the core's command outcomes and workspace log)
runs alone through a `Projector` into a new SQLite file, from offset 0 until it has caught up with
the end offsets; last, all four together through `ReadModels`: in the writer's process, then as
the API runs them from offset 0, caught up in a child process (`python -m plutarc_api.catchup`,
which imports the API and spreads the projections over `PLUTARC_CATCH_UP_PROCESSES` processes,
timed at one and at two) before the writer resumes.

`events=` sets the history's size (default 200,000; PLUTARC_BENCH_EVENTS=1000000 for a million).
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
import os
import sys
import time
from collections.abc import Awaitable, Callable
from pathlib import Path

from aiokafka import AIOKafkaConsumer, TopicPartition
from plutarc_api.core_models import OutcomesProjection, WorkspaceLogProjection
from plutarc_contracts import default_registry, events_topic
from plutarc_contracts import identity as c
from plutarc_identity.api.models import AccountsProjection, WorkspacesProjection
from plutarc_runtime.readmodels import Projector, ReadModels, SqlProjection, sqlite_engine
from sqlalchemy import func, select

from .common import kafka
from .identity_history import History, publish

EVENTS_ENV = "PLUTARC_BENCH_EVENTS"
GOAL = 50_000


def history_size(default: int, quick: bool, quick_size: int) -> int:
    """The history's size: PLUTARC_BENCH_EVENTS when set, else the default (or the quick size)."""
    if os.environ.get(EVENTS_ENV):
        return int(os.environ[EVENTS_ENV].replace("_", ""))
    return quick_size if quick else default


def api_projections() -> list[SqlProjection]:
    """The API's projections as `plutarc_api.runtime` makes them, with identity as the one module."""
    registry = default_registry()
    events = [events_topic(c.IDENTITY)]
    return [
        AccountsProjection(),
        WorkspacesProjection(),
        OutcomesProjection(events),
        WorkspaceLogProjection(events, registry),
    ]


async def until(
    run: Callable[[asyncio.Event], Awaitable[None]], caught_up: asyncio.Event, timeout: float
) -> float:
    """Seconds from starting `run` until `caught_up` is set; then stop it."""
    stop = asyncio.Event()
    start = time.perf_counter()
    task = asyncio.create_task(run(stop))
    waiter = asyncio.create_task(caught_up.wait())
    try:
        done, _ = await asyncio.wait({task, waiter}, timeout=timeout, return_when="FIRST_COMPLETED")
        seconds = time.perf_counter() - start
        if task in done:
            task.result()
            raise RuntimeError("stopped before it caught up")
        if waiter not in done:
            raise TimeoutError(f"not caught up after {timeout:.0f} s")
        return seconds
    finally:
        stop.set()
        waiter.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await asyncio.wait_for(task, 30)


async def build(
    db: Path,
    bootstrap: str,
    projections: list[SqlProjection],
    timeout: float = 600,
    child: int | None = None,
) -> tuple[ReadModels, float]:
    """All the projections through ReadModels into the SQLite file `db`: (models, seconds).
    With `child`, the catch-up runs as the API's does (`plutarc_api.catchup` on `db`'s folder,
    identity as the one module) in that many processes."""
    engine = sqlite_engine(db)
    catch_up: dict[str, object] = {}
    if child is not None:
        assert db.name == "api-readmodels.sqlite", "the file plutarc_api.catchup opens"
        os.environ["PLUTARC_CATCH_UP_PROCESSES"] = str(child)
        orders = {"kafka_bootstrap": bootstrap, "data_dir": str(db.parent)}
        catch_up = {
            "catch_up_command": [sys.executable, "-m", "plutarc_api.catchup"],
            "catch_up_input": json.dumps({**orders, "api_modules": ["identity"]}).encode(),
            "catch_up_threshold": 1,
        }
    models = ReadModels(
        engine,
        projections,
        bootstrap=bootstrap,
        registry=default_registry(),
        name="api",
        lock_path=db.with_suffix(".lock"),
        **catch_up,  # type: ignore[arg-type]
    )
    try:
        return models, await until(models.run, models.caught_up, timeout)
    finally:
        engine.dispose()
        os.environ.pop("PLUTARC_CATCH_UP_PROCESSES", None)


async def alone(
    db: Path, bootstrap: str, projection: SqlProjection, timeout: float = 600
) -> tuple[Projector, float]:
    engine = sqlite_engine(db)
    projector = Projector(projection, engine, bootstrap=bootstrap, registry=default_registry())
    try:
        return projector, await until(projector.run, projector.caught_up, timeout)
    finally:
        engine.dispose()


async def read_alone(bootstrap: str, topics: list[str], decode: bool) -> float:
    """Seconds to read the topics from offset 0 to their end as a Projector's consumer does, with
    no database (and, unless `decode`, without decoding): the ceiling of any projection."""
    registry = default_registry()
    consumer = AIOKafkaConsumer(
        bootstrap_servers=bootstrap,
        enable_auto_commit=False,
        isolation_level="read_committed",
        fetch_max_wait_ms=50,
        max_partition_fetch_bytes=4 << 20,
    )
    start = time.perf_counter()
    await consumer.start()
    try:
        partitions = [
            TopicPartition(t.name, p)
            for t in c.identity_topics().all()
            if t.name in topics
            for p in range(t.partitions)
        ]
        ends = await consumer.end_offsets(partitions)
        consumer.assign(partitions)
        await consumer.seek_to_beginning(*partitions)
        left = sum(ends.values())
        while left > 0:
            batch = await consumer.getmany(timeout_ms=100, max_records=5000)
            for records in batch.values():
                left -= len(records)
                if decode:
                    for record in records:
                        registry.decode_event(record.value)
        return time.perf_counter() - start
    finally:
        await consumer.stop()


def files_size(folder: Path, pattern: str) -> int:
    return sum(p.stat().st_size for p in folder.glob(pattern))


async def _run(base: Path, bootstrap: str, events: int) -> list[str]:
    history = History()
    started = time.perf_counter()
    sent = await publish(bootstrap, history, events)
    published = time.perf_counter() - started
    by_topic = history.sent_by_topic
    lines = [
        f"projection: {sent:,} identity events ({history.registered:,} users; "
        + ", ".join(f"{n:,} on {t}" for t, n in sorted(by_topic.items()))
        + f"), published in {published:.1f} s"
    ]
    topics = sorted(by_topic)
    for decode in (False, True):
        seconds = await read_alone(bootstrap, topics, decode)
        lines.append(
            f"projection: Kafka read alone{', decoded' if decode else ''} (no database): "
            f"{seconds:.2f} s, {sent / seconds:,.0f} events/s"
        )
    for i, projection in enumerate(api_projections()):
        projector, seconds = await alone(base / f"alone-{i}.sqlite", bootstrap, projection)
        read = sum(by_topic.get(t, 0) for t in projection.topics)
        lines.append(
            f"projection: {projection.name:<20} alone: {seconds:6.2f} s, "
            f"{read / seconds:>8,.0f} events/s read ({read:,} on its topics, "
            f"{projector.applied:,} applied, {projector.applied / seconds:,.0f}/s)"
        )
    db = base / "all.sqlite"
    models, seconds = await build(db, bootstrap, api_projections())
    applied = sum(p.applied for p in models.projectors)
    size = files_size(base, "all.sqlite*")
    counts = await asyncio.to_thread(applied_in, db)
    lines.append(
        f"projection: all four through ReadModels, in its process: {seconds:.2f} s, "
        f"{sent / seconds:,.0f} events/s; {applied:,} applied in all, {counts:,} rows; "
        f"database {size / 1e6:.0f} MB"
    )
    for processes in (1, 2):
        folder = base / f"child-{processes}"
        folder.mkdir()
        db = folder / "api-readmodels.sqlite"
        models, seconds = await build(db, bootstrap, api_projections(), child=processes)
        if models.caught_up_in_child is None:
            raise RuntimeError("the catch-up child failed (see its log above)")
        counts = await asyncio.to_thread(applied_in, db)
        lines.append(
            f"projection: all four through ReadModels, caught up in a child in {processes} "
            f"process{'es' if processes > 1 else ''}"
            f"{' (as the API runs it)' if processes == 2 else ''}: {seconds:.2f} s, "
            f"{sent / seconds:,.0f} events/s (goal >= {GOAL:,}/s "
            f"{'met' if sent / seconds >= GOAL else 'MISSED'}); {counts:,} rows"
        )
    return lines


def applied_in(db: Path) -> int:
    """The rows the four projections' tables hold (the same whichever way they were built)."""
    engine = sqlite_engine(db)
    try:
        with engine.connect() as conn:
            return sum(
                conn.execute(select(func.count()).select_from(t)).scalar_one()
                for p in api_projections()
                for t in p.metadata.sorted_tables
            )
    finally:
        engine.dispose()


def run(base: Path, quick: bool = False, events: int | None = None) -> list[str]:
    size = events or history_size(200_000, quick, 20_000)
    # Each projector warns "waiting for topics" once as it starts (its metadata is not loaded
    # yet), which is not news here.
    logging.getLogger("plutarc_runtime.readmodels.projector").setLevel(logging.ERROR)
    work = base / "projection"
    work.mkdir()
    with kafka(work) as bootstrap:
        return asyncio.run(_run(work, bootstrap, size))
