"""A set of projections served to many processes: one writer, any number of readers.

Every process of a deployment (API workers, replicas) opens the same database. One of them holds
the writer lock and runs the projectors; the others only read. The lock is released by the
operating system (SQLite: a file lock) or by the server (PostgreSQL: an advisory lock held on one
connection) when its holder dies, and a reader takes it over within a second. A reader knows how
far the projections are from the offsets they commit, so read-your-writes holds in any process.
"""

from __future__ import annotations

import asyncio
import contextlib
import fcntl
import hashlib
import logging
import os
import time
from collections.abc import Sequence
from pathlib import Path
from typing import IO, Any

from aiokafka import AIOKafkaConsumer, TopicPartition
from plutarc_contracts import Registry, TopicRegistry, default_topics
from sqlalchemy import Engine, select, text
from sqlalchemy.exc import OperationalError

from ..bus import partitions_of
from .catchup import lag, run_child
from .database import is_sqlite
from .projector import Key, Projector, SqlProjection, bookkeeping, reached, rm_offsets

log = logging.getLogger(__name__)


class WriterLock:
    """Held by at most one process per database at a time; `try_take` never blocks."""

    def __init__(self, engine: Engine, name: str, lock_path: Path | None) -> None:
        self.engine, self.name, self.lock_path = engine, name, lock_path
        self._file: IO[bytes] | None = None
        self._conn: Any = None

    def try_take(self) -> bool:
        if is_sqlite(self.engine):
            assert self.lock_path is not None
            self.lock_path.parent.mkdir(parents=True, exist_ok=True)
            f = open(self.lock_path, "ab")  # noqa: SIM115 - held for the life of the writer
            os.chmod(self.lock_path, 0o600)
            try:
                fcntl.flock(f.fileno(), fcntl.LOCK_EX | fcntl.LOCK_NB)
            except BlockingIOError:
                f.close()
                return False
            self._file = f
            return True
        key = int.from_bytes(hashlib.sha256(self.name.encode()).digest()[:8], "big", signed=True)
        conn = self.engine.connect()
        taken = bool(conn.execute(text("SELECT pg_try_advisory_lock(:k)"), {"k": key}).scalar())
        conn.commit()
        if not taken:
            conn.close()
            return False
        self._conn = conn
        return True

    def release(self) -> None:
        if self._file is not None:
            with contextlib.suppress(OSError):
                fcntl.flock(self._file.fileno(), fcntl.LOCK_UN)
            self._file.close()
            self._file = None
        if self._conn is not None:
            with contextlib.suppress(Exception):
                self._conn.close()  # the server releases the session's advisory lock
            self._conn = None


class ReadModels:
    def __init__(
        self,
        engine: Engine,
        projections: Sequence[SqlProjection],
        *,
        bootstrap: str,
        registry: Registry,
        name: str,
        lock_path: Path | None = None,
        poll: float = 0.005,
        catalogue: TopicRegistry | None = None,
        catch_up_command: Sequence[str] | None = None,
        catch_up_input: bytes = b"",
        catch_up_threshold: int = 100_000,
    ) -> None:
        """`catch_up_command` (with `catch_up_input` on its stdin) runs these projections to the
        end of their topics in a child process (catchup.py), used when the writer starts at
        least `catch_up_threshold` events behind; None or a threshold of 0: always in-process."""
        # A private topic is read only by the consumers its contract names (`api` for credentials).
        (catalogue or default_topics()).check_reader(
            name, [t for p in projections for t in p.topics]
        )
        names = [p.name for p in projections]
        if len(set(names)) != len(names):
            raise ValueError(f"projection names must be unique: {names}")
        self.engine = engine
        self.projections = list(projections)
        self.bootstrap = bootstrap
        self.registry = registry
        self.lock = WriterLock(engine, f"plutarc-readmodels:{name}", lock_path)
        self.poll = poll
        self.projectors: list[Projector] = []
        self.writer = asyncio.Event()
        self.caught_up = asyncio.Event()
        self.topics = sorted({t for p in projections for t in p.topics})
        self._kafka: AIOKafkaConsumer | None = None
        self._targets_at_start: dict[Key, int] = {}
        self._partitions: list[TopicPartition] = []
        self.phase = "not started"
        """Where `run` is: shown by `status()`, so a start that hangs says where."""
        self.catch_up_command = list(catch_up_command) if catch_up_command else None
        self.catch_up_input = catch_up_input
        self.catch_up_threshold = catch_up_threshold
        self.caught_up_in_child: int | None = None
        """Events the writer found itself behind and left to a child process, if it did."""

    # -- Kafka positions --------------------------------------------------------------------------
    async def end_offsets(self) -> dict[Key, int]:
        """The end of every partition the projections read, now."""
        assert self._kafka is not None, "run() first"
        ends = await self._kafka.end_offsets(self._partitions)
        return {(tp.topic, tp.partition): o for tp, o in ends.items()}

    def _stored(self) -> dict[str, dict[Key, int]]:
        with self.engine.connect() as conn:
            rows = conn.execute(
                select(
                    rm_offsets.c.projection,
                    rm_offsets.c.topic,
                    rm_offsets.c.partition,
                    rm_offsets.c.next_offset,
                )
            ).all()
        stored: dict[str, dict[Key, int]] = {p.name: {} for p in self.projections}
        for projection, topic, partition, offset in rows:
            if projection in stored:
                stored[projection][(topic, partition)] = offset
        return stored

    def _reached(self, stored: dict[str, dict[Key, int]], targets: dict[Key, int]) -> bool:
        return all(reached(stored.get(p.name, {}), p.topics, targets) for p in self.projections)

    async def wait_for(self, targets: dict[Key, int], timeout: float) -> bool:
        """Wait until every projection has applied the events below `targets`, in this process or
        (as committed in the database) in the writer's; False if the deadline passed first."""
        if self.writer.is_set() and self.projectors:
            deadline = time.monotonic() + timeout
            for projector in self.projectors:
                if not await projector.wait_for(targets, max(0.0, deadline - time.monotonic())):
                    return False
            return True
        deadline = time.monotonic() + timeout
        while True:
            stored = await asyncio.to_thread(self._stored)
            if self._reached(stored, targets):
                return True
            if time.monotonic() >= deadline:
                return False
            await asyncio.sleep(self.poll)

    # -- running ------------------------------------------------------------------------------------
    async def run(self, stop: asyncio.Event) -> None:
        """Serve as writer when the lock is free; otherwise follow, and take over if it frees.
        A failure is logged and kept in `status()` (the task's exception is read only when the
        process stops)."""
        try:
            await self._run(stop)
        except Exception as exc:
            self.phase = f"failed while {self.phase}: {type(exc).__name__}: {exc}"
            log.exception("read models stopped", extra={"phase": self.phase})
            raise

    async def _run(self, stop: asyncio.Event) -> None:
        self.phase = "creating bookkeeping tables"
        for attempt in range(1, 6):
            try:
                await asyncio.to_thread(bookkeeping.create_all, self.engine)
                break
            except OperationalError as exc:
                # SQLite waited its busy timeout for another connection's write lock: seen in
                # CI on a brand-new file with no other writer in sight (cause not found)
                if "locked" not in str(exc) or attempt == 5 or stop.is_set():
                    raise
                log.warning("creating the bookkeeping tables: %s; trying again", exc.orig)
        self.phase = "connecting to Kafka"
        self._kafka = AIOKafkaConsumer(
            bootstrap_servers=self.bootstrap, client_id="readmodels-positions"
        )
        await self._kafka.start()
        try:
            self.phase = "waiting for topics"
            self._partitions = await partitions_of(self._kafka, self.topics, stop, "read-models")
            self.phase = "reading end offsets"
            self._targets_at_start = await self.end_offsets()
            self.phase = "taking the writer lock"
            while not stop.is_set():
                if await asyncio.to_thread(self.lock.try_take):
                    self.phase = "writing"
                    try:
                        await self._write(stop)
                    finally:
                        self.lock.release()
                        self.writer.clear()
                    return
                self.phase = "following the writer"
                if not self.caught_up.is_set():
                    stored = await asyncio.to_thread(self._stored)
                    if self._reached(stored, self._targets_at_start):
                        self.caught_up.set()
                with contextlib.suppress(TimeoutError):
                    await asyncio.wait_for(
                        stop.wait(), 0.05 if not self.caught_up.is_set() else 1.0
                    )
        finally:
            await self._kafka.stop()

    async def _write(self, stop: asyncio.Event) -> None:
        log.info("writing read models", extra={"projections": [p.name for p in self.projections]})
        projector = Projector(
            self.projections, self.engine, bootstrap=self.bootstrap, registry=self.registry
        )
        await asyncio.to_thread(projector.prepare)
        behind = lag(projector, self._targets_at_start)
        if self.catch_up_command and self.catch_up_threshold and behind >= self.catch_up_threshold:
            self.phase = f"catching up {behind} events in a child process"
            log.info("catching up in a child process", extra={"behind": behind})
            code = await run_child(self.catch_up_command, self.catch_up_input, stop)
            if code is None:
                return  # stopped meanwhile
            if code == 0:
                self.caught_up_in_child = behind
            else:
                log.warning("the catch-up child failed; catching up here", extra={"code": code})
            self.phase = "writing"
            projector = Projector(
                self.projections, self.engine, bootstrap=self.bootstrap, registry=self.registry
            )
            await asyncio.to_thread(projector.prepare)  # resumes from what the child committed
        self.projectors = [projector]
        self.writer.set()
        task = asyncio.create_task(projector.run(stop))

        async def caught_up() -> None:
            await projector.caught_up.wait()
            self.caught_up.set()

        watcher = asyncio.create_task(caught_up())
        try:
            await task
        except Exception:
            log.exception("the projector stopped")
            raise
        finally:
            watcher.cancel()
            task.cancel()
            await asyncio.gather(task, watcher, return_exceptions=True)

    def status(self) -> dict[str, Any]:
        return {
            "writer": self.writer.is_set(),
            "phase": self.phase,
            "caught_up": self.caught_up.is_set(),
            "caught_up_in_child": self.caught_up_in_child,
            "projections": {
                name: state for p in self.projectors for name, state in p.status().items()
            },
        }
