"""Catching up a long way in a child process, so the writer's memory stays that of live work.

A writer that starts far behind its topics (a new database, a rebuilt projection, a long outage)
decodes and applies every event in between. The heap that takes is freed afterwards, but not all
of it goes back to the system: a process that built a million events stays larger than one that
resumed. So when `ReadModels` starts writing more than a threshold behind, it runs the same
projections in a child process (`catch_up_command`) that applies everything up to the end offsets
it sees, commits them with the rows as always, and exits; its memory goes with it. The writer then
resumes from the committed offsets, like a restart. A child that fails changes nothing the writer
relies on (each batch commits its rows with its offsets): the writer goes on in-process from
whatever the child committed.

On more than one core the child spreads the projections over processes (`catch_up_split`): it
forks, before any thread or event loop exists, one process per group of projections, each with
its own Kafka reader, in groups balanced by the events each would read and apply. On PostgreSQL
they all write the one database. On SQLite, whose one write lock would make them take turns (each
holds it for most of its time, folding its batch's rows), a forked group builds only projections
that start from nothing, into a file of its own; once it has caught up, this process copies its
tables and bookkeeping into the database in one transaction, and the writer resumes from them
like from any other. Projections with rows already go with the first group, into the database.
The child succeeds only if every group did; a group that failed leaves its projections to the
writer, as above (a side file is dropped unmerged).
"""

from __future__ import annotations

import asyncio
import contextlib
import ctypes
import functools
import logging
import os
import signal
import sqlite3
from collections.abc import Callable, Sequence
from pathlib import Path

from aiokafka import AIOKafkaConsumer
from plutarc_contracts import Registry
from sqlalchemy import Engine

from ..bus import partitions_of
from .database import is_sqlite, sqlite_engine
from .projector import Key, Projector, SqlProjection, _Member, rm_offsets, rm_projections, rm_seen

log = logging.getLogger(__name__)


def lag(projector: Projector, targets: dict[Key, int]) -> int:
    """Events between each projection's offsets and `targets`, summed over the projections."""
    return sum(
        max(0, end - m.offsets.get(key, 0))
        for m in projector.members
        for key, end in targets.items()
        if key[0] in m.topics
    )


def _lags(m: _Member, targets: dict[Key, int]) -> dict[Key, int]:
    return {k: max(0, end - m.offsets.get(k, 0)) for k, end in targets.items() if k[0] in m.topics}


def _cost(lags: list[dict[Key, int]]) -> int:
    """A group's work: the records its one reader reads, plus the events each member applies."""
    read: dict[Key, int] = {}
    for mine in lags:
        for k, n in mine.items():
            read[k] = max(read.get(k, 0), n)
    return sum(read.values()) + sum(n for mine in lags for n in mine.values())


def split(
    projector: Projector,
    targets: dict[Key, int],
    groups: int,
    movable: Callable[[_Member], bool] = lambda m: True,
) -> list[list[SqlProjection]]:
    """The projections in at most `groups` groups of about equal work (`_cost`), none empty: the
    largest first, each into the group where it costs least. Those not `movable`, and those with
    nothing to do, go in the first group; else the first is the one that applies the most events
    (the others' rows are copied in after: the fewer, the sooner)."""
    lags = {m.name: _lags(m, targets) for m in projector.members}
    made: list[list[_Member]] = [[] for _ in range(max(1, groups))]
    spread = [m for m in projector.members if movable(m) and any(lags[m.name].values())]
    made[0].extend(m for m in projector.members if m not in spread and any(lags[m.name].values()))
    for m in sorted(spread, key=lambda m: (-sum(lags[m.name].values()), m.name)):
        best = min(made, key=lambda g: (_cost([lags[o.name] for o in [*g, m]]), len(g)))
        best.append(m)
    if not made[0] or all(m in spread for m in made[0]):
        made.sort(key=lambda g: -sum(n for m in g for n in lags[m.name].values()))
    made[0].extend(m for m in projector.members if not any(lags[m.name].values()))
    return [[m.projection for m in g] for g in made if g]


async def end_offsets(bootstrap: str, topics: Sequence[str]) -> dict[Key, int]:
    consumer = AIOKafkaConsumer(bootstrap_servers=bootstrap, client_id="readmodels-catch-up")
    await consumer.start()
    try:
        partitions = await partitions_of(consumer, topics, asyncio.Event(), "catch-up")
        ends = await consumer.end_offsets(partitions)
        return {(tp.topic, tp.partition): o for tp, o in ends.items()}
    finally:
        await consumer.stop()


def catch_up_split(
    open_engine: Callable[[], Engine],
    projections: Sequence[SqlProjection],
    *,
    bootstrap: str,
    registry: Registry,
    processes: int,
) -> int:
    """`catch_up` with the projections spread over up to `processes` processes: this one and
    forked ones (forked before any thread or event loop exists, and ended by the kernel if this
    one dies), on SQLite each into a side file merged here once it is done. Returns the events
    applied in this process; raises if any group failed, once every group has ended."""
    engine = open_engine()
    try:
        projector = Projector(projections, engine, bootstrap=bootstrap, registry=registry)
        projector.prepare()  # rebuilds what must be, once, before the groups start
        database = engine.url.database if is_sqlite(engine) else None
        groups = [list(projections)]
        if processes > 1:
            targets = asyncio.run(end_offsets(bootstrap, projector.topics))
            # On SQLite only a projection built from nothing can be built in a side file.
            groups = split(projector, targets, processes, lambda m: not database or not m.offsets)
    finally:
        engine.dispose()  # no connection may cross a fork
    sides: list[Path | None] = [
        Path(f"{database}.catch-up-{i}") if database else None for i in range(1, len(groups))
    ]
    if len(groups) > 1:
        log.info(
            "catching up in %d processes",
            len(groups),
            extra={"groups": [[p.name for p in g] for g in groups]},
        )
    parent = os.getpid()
    children: list[int] = []
    if database:  # what a killed catch-up left
        for stale in Path(database).parent.glob(f"{Path(database).name}.catch-up-*"):
            stale.unlink(missing_ok=True)
    for group, side in zip(groups[1:], sides, strict=True):
        opener = open_engine if side is None else functools.partial(sqlite_engine, side)
        pid = os.fork()
        if pid == 0:  # pragma: no cover - runs in the forked process, which reports by exit code
            os._exit(_group_in_child(parent, opener, group, bootstrap, registry))
        children.append(pid)
    failed: list[str] = []
    try:
        engine = open_engine()
        try:
            return asyncio.run(catch_up(engine, groups[0], bootstrap=bootstrap, registry=registry))
        finally:
            engine.dispose()
    finally:
        for pid, group, side in zip(children, groups[1:], sides, strict=True):
            _, status = os.waitpid(pid, 0)
            if os.waitstatus_to_exitcode(status) != 0:
                failed.append(",".join(p.name for p in group))
            elif side is not None:
                merge(open_engine, side, group)
            if side is not None:
                _remove(side)
        if failed:
            raise RuntimeError(f"catching up failed in the process for {'; '.join(failed)}")


def merge(open_engine: Callable[[], Engine], side: Path, group: Sequence[SqlProjection]) -> None:
    """Copy `group`'s tables and bookkeeping from the SQLite file `side` into the database, in one
    transaction: the projections' rows arrive with their offsets, or not at all."""
    names = [p.name for p in group]
    marks = ", ".join("?" * len(names))
    engine = open_engine()
    try:
        raw = engine.raw_connection()
        try:
            db: sqlite3.Connection = raw.driver_connection  # type: ignore[assignment]
            db.execute("ATTACH DATABASE ? AS side", (str(side),))  # not inside a transaction
            try:
                db.execute("BEGIN IMMEDIATE")
                try:
                    for table in [t for p in group for t in p.metadata.sorted_tables]:
                        _copy(db, table.name, [c.name for c in table.columns])
                    for table, column in (
                        (rm_offsets, "projection"),
                        (rm_seen, "projection"),
                        (rm_projections, "name"),
                    ):
                        where = f'WHERE "{column}" IN ({marks})'
                        _copy(db, table.name, [c.name for c in table.columns], where, names)
                    db.execute("COMMIT")
                except BaseException:
                    db.execute("ROLLBACK")
                    raise
            finally:
                db.execute("DETACH DATABASE side")
        finally:
            raw.close()
    finally:
        engine.dispose()
    log.info("merged a side file", extra={"projections": names})


def _copy(
    db: sqlite3.Connection,
    table: str,
    columns: list[str],
    where: str = "",
    args: Sequence[str] = (),
) -> None:
    cols = ", ".join(f'"{c}"' for c in columns)
    db.execute(f'DELETE FROM main."{table}" {where}', args)
    db.execute(
        f'INSERT INTO main."{table}" ({cols}) SELECT {cols} FROM side."{table}" {where}', args
    )


def _remove(side: Path) -> None:
    for suffix in ("", "-wal", "-shm", "-journal"):
        Path(f"{side}{suffix}").unlink(missing_ok=True)


def _group_in_child(
    parent: int,
    open_engine: Callable[[], Engine],
    group: Sequence[SqlProjection],
    bootstrap: str,
    registry: Registry,
) -> int:  # pragma: no cover - runs in a forked process
    # Ended with the process that forked it: an orphan would go on writing (on PostgreSQL, into
    # the one database) while the writer catches up the same projections. Without that guard the
    # group does not run at all; its projections are left to the writer.
    try:
        if ctypes.CDLL("libc.so.6", use_errno=True).prctl(1, signal.SIGTERM) != 0:  # PDEATHSIG
            return 1
    except (OSError, AttributeError):
        return 1
    if os.getppid() != parent:
        return 1  # the parent died before the line above
    try:
        engine = open_engine()
        try:
            asyncio.run(catch_up(engine, group, bootstrap=bootstrap, registry=registry))
        finally:
            engine.dispose()
    except BaseException:
        log.exception("catching up failed", extra={"projections": [p.name for p in group]})
        return 1
    return 0


async def catch_up(
    engine: Engine, projections: Sequence[SqlProjection], *, bootstrap: str, registry: Registry
) -> int:
    """What the child runs: the projections brought to the end offsets seen as it starts, then it
    returns the number of events applied. The caller exits the process."""
    projector = Projector(projections, engine, bootstrap=bootstrap, registry=registry)
    await asyncio.to_thread(projector.prepare)
    stop = asyncio.Event()
    task = asyncio.create_task(projector.run(stop))
    waiter = asyncio.create_task(projector.caught_up.wait())
    await asyncio.wait([task, waiter], return_when=asyncio.FIRST_COMPLETED)
    stop.set()
    waiter.cancel()
    await task  # the last batch written, or the projector's error raised
    if not projector.caught_up.is_set():
        raise RuntimeError("the projector stopped before it caught up")
    log.info("caught up in a child process", extra={"applied": projector.applied})
    return projector.applied


async def run_child(command: Sequence[str], stdin: bytes, stop: asyncio.Event) -> int | None:
    """Run `command` with `stdin` until it exits (its code) or `stop` is set (None: terminated)."""
    proc = await asyncio.create_subprocess_exec(*command, stdin=asyncio.subprocess.PIPE)
    assert proc.stdin is not None
    proc.stdin.write(stdin)
    with contextlib.suppress(ConnectionError):
        await proc.stdin.drain()
    proc.stdin.close()
    exited = asyncio.create_task(proc.wait())
    stopped = asyncio.create_task(stop.wait())
    await asyncio.wait([exited, stopped], return_when=asyncio.FIRST_COMPLETED)
    stopped.cancel()
    if exited.done():
        return exited.result()
    proc.terminate()
    try:
        await asyncio.wait_for(exited, 10)
    except TimeoutError:
        proc.kill()
        await exited
    return None
