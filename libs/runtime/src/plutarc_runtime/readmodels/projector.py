"""Projections into database tables, resumed exactly where they stopped.

Each projection is its own Kafka reader (no consumer group). A batch of events, the projection's
rows, the Kafka offsets it has reached and the highest position it applied per (topic, stream)
are written in ONE transaction: a restart resumes from the committed offsets with neither loss
nor double count, and a duplicate republished by a relay is dropped by stream position (a relay
keeps each stream in order on one partition).

A projection carries a version. When its code changes what it stores, its version goes up and
the next start rebuilds that projection alone from offset 0 (its tables dropped and created
again); every other projection resumes. Offsets that do not fit the topics (a topic recreated)
rebuild it too.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Iterable, Sequence
from datetime import UTC, datetime
from typing import Any, Protocol

from aiokafka import TopicPartition
from plutarc_contracts import ContractError, Envelope, Registry
from sqlalchemy import (
    BigInteger,
    Column,
    DateTime,
    Engine,
    Integer,
    MetaData,
    String,
    Table,
    bindparam,
    delete,
    select,
)
from sqlalchemy.engine import Connection

from ..bus import log_reader, partitions_of
from .database import writing
from .sql import upsert

log = logging.getLogger(__name__)

bookkeeping = MetaData()
rm_projections = Table(
    "rm_projections",
    bookkeeping,
    Column("name", String(100), primary_key=True),
    Column("version", Integer, nullable=False),
    Column("built_at", DateTime(timezone=True), nullable=False),
)
rm_offsets = Table(
    "rm_offsets",
    bookkeeping,
    Column("projection", String(100), primary_key=True),
    Column("topic", String(249), primary_key=True),
    Column("partition", Integer, primary_key=True),
    Column("next_offset", BigInteger, nullable=False),
)
rm_seen = Table(
    "rm_seen",
    bookkeeping,
    Column("projection", String(100), primary_key=True),
    Column("topic", String(249), primary_key=True),
    Column("stream_id", String(100), primary_key=True),
    Column("position", BigInteger, nullable=False),
)

_SEEN_POSITIONS = select(rm_seen.c.stream_id, rm_seen.c.position).where(
    rm_seen.c.projection == bindparam("projection"),
    rm_seen.c.topic == bindparam("topic"),
    rm_seen.c.stream_id.in_(bindparam("streams", expanding=True)),
)

SEEN_CACHE = 200_000  # (topic, stream) positions kept between batches; more are read back


class SqlProjection(Protocol):
    @property
    def name(self) -> str:
        """Unique among read models; also names its bookkeeping rows."""
        ...

    @property
    def version(self) -> int:
        """Raised whenever what the projection stores changes: the next start rebuilds it."""
        ...

    @property
    def topics(self) -> Sequence[str]: ...

    @property
    def metadata(self) -> MetaData:
        """Its tables, and only its tables: a rebuild drops and creates them."""
        ...

    @property
    def types(self) -> frozenset[str] | None:
        """The event types it applies (others are skipped undecoded); None: every type."""
        ...

    def apply(self, conn: Connection, events: Sequence[Envelope]) -> None:
        """Write what these events mean (new ones, in order per stream) inside the transaction."""
        ...


Key = tuple[str, int]  # (topic, partition)


def reached(have: dict[Key, int], topics: Sequence[str], targets: dict[Key, int]) -> bool:
    """Whether offsets `have` reach `targets` on every partition of `topics`."""
    return all(have.get(k, 0) >= o for k, o in targets.items() if k[0] in topics)


def offsets_of(conn: Connection, projection: str) -> dict[Key, int]:
    rows = conn.execute(
        select(rm_offsets.c.topic, rm_offsets.c.partition, rm_offsets.c.next_offset).where(
            rm_offsets.c.projection == projection
        )
    )
    return {(t, p): o for t, p, o in rows}


class Projector:
    def __init__(
        self,
        projection: SqlProjection,
        engine: Engine,
        *,
        bootstrap: str,
        registry: Registry,
        batch: int = 5000,
    ) -> None:
        self.projection = projection
        self.name = projection.name
        self.engine = engine
        self.bootstrap = bootstrap
        self.registry = registry
        self.batch = batch
        self.offsets: dict[Key, int] = {}
        self.caught_up = asyncio.Event()
        self.applied = 0
        self.skipped_duplicates = 0
        self.undecodable = 0
        self.rebuilt: str | None = None
        """Why this start rebuilt the projection from offset 0 (None: it resumed)."""
        self.error: str | None = None
        self.stored: dict[Key, int] | None = None
        """Offsets found by `prepare`, when it ran before `run`."""
        self._seen: dict[tuple[str, str], int] = {}
        self._changed = asyncio.Condition()

    # -- preparation (sync, in a thread) -----------------------------------------------------------
    def prepare(self) -> dict[Key, int]:
        """Create what is missing, rebuild when the version moved; return the stored offsets."""
        bookkeeping.create_all(self.engine)
        with writing(self.engine) as conn:
            stored = conn.execute(
                select(rm_projections.c.version).where(rm_projections.c.name == self.name)
            ).scalar()
        if stored != self.projection.version:
            why = "new" if stored is None else f"version {stored} -> {self.projection.version}"
            self.rebuild(why)
            return {}
        self.projection.metadata.create_all(self.engine)
        with self.engine.connect() as conn:
            return offsets_of(conn, self.name)

    def rebuild(self, why: str) -> None:
        """Drop this projection's tables and bookkeeping; it starts again from offset 0."""
        log.info("rebuilding projection", extra={"projection": self.name, "reason": why})
        self.rebuilt = why
        self.projection.metadata.drop_all(self.engine)
        self.projection.metadata.create_all(self.engine)
        with writing(self.engine) as conn:
            conn.execute(delete(rm_offsets).where(rm_offsets.c.projection == self.name))
            conn.execute(delete(rm_seen).where(rm_seen.c.projection == self.name))
            upsert(
                conn,
                rm_projections,
                [
                    {
                        "name": self.name,
                        "version": self.projection.version,
                        "built_at": datetime.now(UTC),
                    }
                ],
                ["name"],
            )
        self._seen.clear()

    # -- the loop ------------------------------------------------------------------------------------
    async def run(self, stop: asyncio.Event) -> None:
        stored = self.stored if self.stored is not None else await asyncio.to_thread(self.prepare)
        consumer = log_reader(self.bootstrap, f"projection-{self.name}")
        await consumer.start()
        try:
            partitions = await partitions_of(consumer, self.projection.topics, stop, self.name)
            starts = await consumer.beginning_offsets(partitions)
            ends = await consumer.end_offsets(partitions)
            offsets = {
                (tp.topic, tp.partition): stored.get((tp.topic, tp.partition), 0)
                for tp in partitions
            }
            misfit = [
                tp
                for tp in partitions
                if not starts[tp] <= offsets[(tp.topic, tp.partition)] <= ends[tp]
            ]
            if misfit:
                await asyncio.to_thread(self.rebuild, f"offsets do not fit {misfit[0]}")
                offsets = {k: 0 for k in offsets}
            self.offsets = offsets
            consumer.assign(partitions)
            for tp in partitions:  # no await between assign and seek (see projection.py)
                consumer.seek(tp, max(offsets[(tp.topic, tp.partition)], starts[tp]))
            pending = {tp for tp in partitions if ends[tp] > self.offsets[(tp.topic, tp.partition)]}
            if not pending:
                self.caught_up.set()
            while not stop.is_set():
                batch = await consumer.getmany(timeout_ms=100, max_records=self.batch)
                if batch:
                    await self._commit_with_retry(batch, stop)
                    for tp in list(pending):
                        if self.offsets[(tp.topic, tp.partition)] >= ends[tp]:
                            pending.discard(tp)
                    async with self._changed:
                        self._changed.notify_all()
                if not pending and not self.caught_up.is_set():
                    log.info(
                        "projection caught up",
                        extra={"projection": self.name, "applied": self.applied},
                    )
                    self.caught_up.set()
        finally:
            await consumer.stop()

    async def _commit_with_retry(
        self, batch: dict[TopicPartition, list[Any]], stop: asyncio.Event
    ) -> None:
        delay = 0.1
        while True:
            try:
                await asyncio.to_thread(self._commit, batch)
                self.error = None
                return
            except Exception as exc:  # the database is down, or a projection bug: say so, retry
                self.error = f"{type(exc).__name__}: {exc}"[:300]
                log.exception("projection batch failed; retrying", extra={"projection": self.name})
                if stop.is_set():
                    raise
                await asyncio.sleep(delay)
                delay = min(delay * 2, 5.0)

    def _decode(
        self, batch: dict[TopicPartition, list[Any]]
    ) -> tuple[list[tuple[str, Envelope]], dict[Key, int]]:
        types = self.projection.types
        decoded: list[tuple[str, Envelope]] = []
        offsets: dict[Key, int] = {}
        for tp, records in batch.items():
            if not records:
                continue
            offsets[(tp.topic, tp.partition)] = records[-1].offset + 1
            for record in records:
                if types is not None:
                    kind = next((v for k, v in record.headers if k == "type"), None)
                    if kind is not None and kind.decode() not in types:
                        continue
                try:
                    env = self.registry.decode_event(record.value or b"")
                except ContractError as exc:
                    self.undecodable += 1
                    log.warning(
                        "undecodable event skipped",
                        extra={"projection": self.name, "code": exc.code},
                    )
                    continue
                if types is None or env.type in types:
                    decoded.append((tp.topic, env))
        return decoded, offsets

    def _commit(self, batch: dict[TopicPartition, list[Any]]) -> None:
        decoded, offsets = self._decode(batch)
        # Positions this batch read back or moved, over the cache: merged once committed, so a
        # rolled-back batch leaves the cache as it was (and the cache is never copied).
        seen: dict[tuple[str, str], int] = {}
        with writing(self.engine) as conn:
            self._load_seen(conn, {(t, e.stream_id) for t, e in decoded}, seen)
            fresh: list[Envelope] = []
            changed: dict[tuple[str, str], int] = {}
            for topic, env in decoded:
                key = (topic, env.stream_id)
                known = seen[key] if key in seen else self._seen.get(key, 0)
                if env.stream_position <= known:
                    self.skipped_duplicates += 1
                    continue
                seen[key] = changed[key] = env.stream_position
                fresh.append(env)
            if fresh:
                self.projection.apply(conn, fresh)
            if changed:
                upsert(
                    conn,
                    rm_seen,
                    [
                        {"projection": self.name, "topic": t, "stream_id": s, "position": p}
                        for (t, s), p in changed.items()
                    ],
                    ["projection", "topic", "stream_id"],
                )
            upsert(
                conn,
                rm_offsets,
                [
                    {"projection": self.name, "topic": t, "partition": p, "next_offset": o}
                    for (t, p), o in offsets.items()
                ],
                ["projection", "topic", "partition"],
            )
        self.applied += len(fresh)
        self.offsets.update(offsets)
        if len(self._seen) + len(seen) > SEEN_CACHE:
            self._seen = seen  # bounded: the rest is read back from rm_seen when it recurs
        else:
            self._seen.update(seen)

    def _load_seen(
        self, conn: Connection, keys: Iterable[tuple[str, str]], seen: dict[tuple[str, str], int]
    ) -> None:
        missing: dict[str, list[str]] = {}
        for topic, stream in keys:
            if (topic, stream) not in seen and (topic, stream) not in self._seen:
                missing.setdefault(topic, []).append(stream)
        # One topic per query: SQLite searches the primary key by (projection, topic, stream_id)
        # only so; with (topic, stream_id) IN (...) it scanned every row of the projection.
        for topic, streams in missing.items():
            for start in range(0, len(streams), 500):
                rows = conn.execute(
                    _SEEN_POSITIONS,
                    {
                        "projection": self.name,
                        "topic": topic,
                        "streams": streams[start : start + 500],
                    },
                )
                for stream, position in rows:
                    seen[(topic, stream)] = position

    # -- waiting (read-your-writes) --------------------------------------------------------------
    def reached(self, targets: dict[Key, int]) -> bool:
        return reached(self.offsets, self.projection.topics, targets)

    async def wait_for(self, targets: dict[Key, int], timeout: float) -> bool:
        """Wait until this projection has applied every offset below `targets`; False on timeout."""
        deadline = time.monotonic() + timeout
        async with self._changed:
            while not self.reached(targets):
                remaining = deadline - time.monotonic()
                if remaining <= 0:
                    return False
                try:
                    await asyncio.wait_for(self._changed.wait(), remaining)
                except TimeoutError:
                    return self.reached(targets)
        return True
