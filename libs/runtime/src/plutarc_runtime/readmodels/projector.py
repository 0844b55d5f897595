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
import contextlib
import ctypes
import logging
import time
from collections.abc import Callable, Iterable, Sequence
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
    sqlite_with_rowid=False,  # the key is the row: no second copy of it in an index
)

_SEEN_POSITIONS = select(rm_seen.c.stream_id, rm_seen.c.position).where(
    rm_seen.c.projection == bindparam("projection"),
    rm_seen.c.topic == bindparam("topic"),
    rm_seen.c.stream_id.in_(bindparam("streams", expanding=True)),
)

_ANY_SEEN = (
    select(rm_seen.c.position).where(rm_seen.c.projection == bindparam("projection")).limit(1)
)

SEEN_CACHE = 200_000  # (topic, stream) positions kept per projection; more are read back
LIVE_SEEN_CACHE = 20_000  # what a caught-up projection keeps of them


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


# Optional, read with getattr:
# - `dedupe: bool` (default True): False when applying an event again writes the same rows (one
#   reply per command, upserted by its id), so the projector keeps no stream positions for it;
# - `accepts(env) -> bool` (default: every event of its types): the decoded events it applies;
#   the rest are neither applied nor remembered (the workspace log skips events of no workspace).
# - `decode(data: bytes) -> Any` (default: the registry's event envelope): for a topic that holds
#   no envelopes (market data); it raises ContractError on what it cannot read, and such a
#   projection has `types = None` and `dedupe = False` (its messages have no stream position).


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


class _Member:
    """One projection inside a Projector: its own offsets, duplicate filter and counters, so that
    projections at different offsets (one rebuilding, the others resuming) share one reader."""

    def __init__(self, projection: SqlProjection) -> None:
        self.projection = projection
        self.name = projection.name
        self.topics = frozenset(projection.topics)
        self.types = projection.types
        self.dedupe = bool(getattr(projection, "dedupe", True))
        self.accepts: Callable[[Envelope], bool] | None = getattr(projection, "accepts", None)
        self.offsets: dict[Key, int] = {}
        self.seen: dict[tuple[str, str], int] = {}
        self.complete = False
        """`seen` holds every position in rm_seen (built from empty, never trimmed): a stream
        missing from it is new, and needs no lookup."""
        self.applied = 0
        self.skipped_duplicates = 0
        self.rebuilt: str | None = None
        self.caught_up = False


_Work = dict[_Member, tuple[list[tuple[str, Envelope]], dict[Key, int]]]
"""A decoded batch: per projection, the (topic, event) pairs it wants and the offsets it reaches."""


class Projector:
    """Projections fed by ONE Kafka reader: each event is read and decoded once, and a batch is
    applied to every projection that wants it in one transaction. Each projection keeps its own
    offsets, so one rebuilding from offset 0 re-reads the topics while the others skip what they
    have applied already."""

    def __init__(
        self,
        projections: SqlProjection | Sequence[SqlProjection],
        engine: Engine,
        *,
        bootstrap: str,
        registry: Registry,
        batch: int = 5000,
        seen_cache: int = SEEN_CACHE,
    ) -> None:
        items: list[SqlProjection] = (
            list(projections) if isinstance(projections, Sequence) else [projections]
        )
        self.members = [_Member(p) for p in items]
        names = [m.name for m in self.members]
        if not names or len(set(names)) != len(names):
            raise ValueError(f"projection names must be unique: {names}")
        self.name = "+".join(names)
        self.engine = engine
        self.bootstrap = bootstrap
        self.registry = registry
        self.batch = batch
        self.seen_cache = seen_cache
        self.topics = sorted({t for m in self.members for t in m.topics})
        self._readers = {t: [m for m in self.members if t in m.topics] for t in self.topics}
        self._decoders: dict[str, Callable[[bytes], Any]] = {}
        for topic, readers in self._readers.items():
            raw = {getattr(m.projection, "decode", None) for m in readers}
            if len(raw) > 1:
                raise ValueError(f"the projections reading {topic} decode it differently")
            (decoder,) = raw
            if decoder is not None:
                if any(m.types is not None or m.dedupe for m in readers):
                    raise ValueError(
                        f"a projection that decodes {topic} itself needs types=None "
                        "and dedupe=False"
                    )
                self._decoders[topic] = decoder
        self.caught_up = asyncio.Event()
        self.undecodable = 0
        self.error: str | None = None
        self.prepared = False
        self._changed = asyncio.Condition()

    @property
    def applied(self) -> int:
        return sum(m.applied for m in self.members)

    @property
    def skipped_duplicates(self) -> int:
        return sum(m.skipped_duplicates for m in self.members)

    def member(self, name: str) -> _Member:
        return next(m for m in self.members if m.name == name)

    # -- preparation (sync, in a thread) -----------------------------------------------------------
    def prepare(self) -> None:
        """Create what is missing, rebuild each projection whose version moved, read the offsets."""
        bookkeeping.create_all(self.engine)
        for m in self.members:  # one at a time: each may rebuild its tables
            with writing(self.engine) as conn:
                stored = conn.execute(
                    select(rm_projections.c.version).where(rm_projections.c.name == m.name)
                ).scalar()
            if stored != m.projection.version:
                why = "new" if stored is None else f"version {stored} -> {m.projection.version}"
                self.rebuild(m, why)
                continue
            m.projection.metadata.create_all(self.engine)
            with self.engine.connect() as conn:
                m.offsets = offsets_of(conn, m.name)
                m.complete = conn.execute(_ANY_SEEN, {"projection": m.name}).first() is None
        self.prepared = True

    def rebuild(self, m: _Member, why: str) -> None:
        """Drop one projection's tables and bookkeeping; it starts again from offset 0."""
        log.info("rebuilding projection", extra={"projection": m.name, "reason": why})
        m.rebuilt = why
        m.projection.metadata.drop_all(self.engine)
        m.projection.metadata.create_all(self.engine)
        with writing(self.engine) as conn:
            conn.execute(delete(rm_offsets).where(rm_offsets.c.projection == m.name))
            conn.execute(delete(rm_seen).where(rm_seen.c.projection == m.name))
            row = {"name": m.name, "version": m.projection.version, "built_at": datetime.now(UTC)}
            upsert(conn, rm_projections, [row], ["name"])
        m.seen.clear()
        m.offsets = {}
        m.complete = True

    # -- the loop ------------------------------------------------------------------------------------
    async def run(self, stop: asyncio.Event) -> None:
        if not self.prepared:
            await asyncio.to_thread(self.prepare)
        consumer = log_reader(self.bootstrap, f"projection-{self.name}"[:200])
        await consumer.start()
        try:
            partitions = await partitions_of(consumer, self.topics, stop, self.name)
            starts = await consumer.beginning_offsets(partitions)
            ends = await consumer.end_offsets(partitions)
            for m in self.members:
                mine = [tp for tp in partitions if tp.topic in m.topics]
                misfit = [
                    tp
                    for tp in mine
                    if (tp.topic, tp.partition) in m.offsets
                    and not starts[tp] <= m.offsets[(tp.topic, tp.partition)] <= ends[tp]
                ]
                if misfit:
                    await asyncio.to_thread(self.rebuild, m, f"offsets do not fit {misfit[0]}")
                for tp in mine:
                    k = (tp.topic, tp.partition)
                    m.offsets[k] = max(m.offsets.get(k, 0), starts[tp])
            consumer.assign(partitions)
            for tp in partitions:  # no await between assign and seek (see projection.py)
                k = (tp.topic, tp.partition)
                consumer.seek(tp, min(m.offsets[k] for m in self._readers[tp.topic]))
            self._settle(ends)
            # A pipeline of two: while one batch is written, the next is fetched and decoded
            # (SQLite's work runs without the interpreter lock, so the two overlap). Writes stay
            # in order, one at a time; decoding needs no state a write changes.
            writing: asyncio.Task[None] | None = None
            try:
                while not stop.is_set():
                    batch = await consumer.getmany(timeout_ms=100, max_records=self.batch)
                    if not batch:
                        continue
                    work = await asyncio.to_thread(self._decode, batch)
                    if writing is not None:
                        await writing
                    writing = asyncio.create_task(self._write_with_retry(work, ends, stop))
                if writing is not None:
                    await writing
            finally:
                if writing is not None and not writing.done():
                    writing.cancel()
                    await asyncio.gather(writing, return_exceptions=True)
        finally:
            await consumer.stop()

    def _settle(self, ends: dict[TopicPartition, int]) -> None:
        """Mark the projections that have reached the end offsets seen at start."""
        for m in self.members:
            if not m.caught_up and all(
                m.offsets.get((tp.topic, tp.partition), 0) >= end
                for tp, end in ends.items()
                if tp.topic in m.topics
            ):
                m.caught_up = True
                if len(m.seen) > LIVE_SEEN_CACHE:  # a rebuild's cache: live work needs far less
                    m.seen, m.complete = {}, False
                log.info("projection caught up", extra={"projection": m.name, "applied": m.applied})
        if not self.caught_up.is_set() and all(m.caught_up for m in self.members):
            self.caught_up.set()
            trim_memory()  # a rebuild leaves freed heap the process would otherwise keep

    async def _write_with_retry(
        self, work: _Work, ends: dict[TopicPartition, int], stop: asyncio.Event
    ) -> None:
        delay = 0.1
        while True:
            try:
                await asyncio.to_thread(self._write, work)
                self.error = None
                self._settle(ends)
                async with self._changed:
                    self._changed.notify_all()
                return
            except Exception as exc:  # the database is down, or a projection bug: say so, retry
                self.error = f"{type(exc).__name__}: {exc}"[:300]
                log.exception("projection batch failed; retrying", extra={"projection": self.name})
                if stop.is_set():
                    raise
                await asyncio.sleep(delay)
                delay = min(delay * 2, 5.0)

    def _decode(self, batch: dict[TopicPartition, list[Any]]) -> _Work:
        """Each record decoded once, handed to every projection that wants it and has not applied
        its offset yet; with the offsets each projection reaches."""
        work: dict[_Member, tuple[list[tuple[str, Envelope]], dict[Key, int]]] = {
            m: ([], {}) for m in self.members
        }
        for tp, records in batch.items():
            if not records:
                continue
            topic, k, end = tp.topic, (tp.topic, tp.partition), records[-1].offset + 1
            decode = self._decoders.get(topic, self.registry.decode_event)
            readers = [m for m in self._readers[topic] if m.offsets.get(k, 0) < end]
            if not readers:
                continue
            for m in readers:
                work[m][1][k] = end
            kinds: set[bytes] | None = set()  # the types any reader wants, as the header has them
            for m in readers:
                if m.types is None:
                    kinds = None
                    break
                kinds |= {t.encode() for t in m.types}  # type: ignore[operator]
            low = min(m.offsets.get(k, 0) for m in readers)
            every = all(m.offsets.get(k, 0) <= records[0].offset for m in readers)
            targets = [
                (work[m][0], -1 if every else m.offsets.get(k, 0), m.types, m.accepts)
                for m in readers
            ]
            for record in records:
                if record.offset < low:
                    continue
                if kinds is not None:
                    kind = next((v for h, v in record.headers if h == "type"), None)
                    if kind is not None and kind not in kinds:
                        continue
                try:
                    env = decode(record.value or b"")
                except ContractError as exc:
                    self.undecodable += 1
                    log.warning(
                        "undecodable event skipped",
                        extra={"projection": self.name, "code": exc.code},
                    )
                    continue
                for events, start, types, accepts in targets:
                    if (
                        record.offset >= start
                        and (types is None or env.type in types)
                        and (accepts is None or accepts(env))
                    ):
                        events.append((topic, env))
        return work

    def _commit(self, batch: dict[TopicPartition, list[Any]]) -> None:
        self._write(self._decode(batch))

    def _write(self, work: _Work) -> None:
        done: list[tuple[_Member, int, int, dict[tuple[str, str], int], dict[Key, int]]] = []
        with writing(self.engine) as conn:
            for m, (events, offsets) in work.items():
                if not offsets:
                    continue
                if m.dedupe:
                    fresh, staged, changed = self._fresh(conn, m, events)
                    if changed:
                        upsert(
                            conn,
                            rm_seen,
                            [
                                {"projection": m.name, "topic": t, "stream_id": s, "position": p}
                                for (t, s), p in changed.items()
                            ],
                            ["projection", "topic", "stream_id"],
                        )
                else:
                    fresh, staged = [env for _, env in events], {}
                if fresh:
                    m.projection.apply(conn, fresh)
                upsert(
                    conn,
                    rm_offsets,
                    [
                        {"projection": m.name, "topic": t, "partition": p, "next_offset": o}
                        for (t, p), o in offsets.items()
                    ],
                    ["projection", "topic", "partition"],
                )
                done.append((m, len(fresh), len(events) - len(fresh), staged, offsets))
        # Committed: only now do the projections' counters, caches and offsets move, so a
        # rolled-back batch leaves them as they were.
        for m, applied, skipped, staged, offsets in done:
            m.applied += applied
            m.skipped_duplicates += skipped
            m.offsets.update(offsets)
            if len(m.seen) + len(staged) > (LIVE_SEEN_CACHE if m.caught_up else self.seen_cache):
                m.seen = staged  # bounded: the rest is read back from rm_seen when it recurs
                m.complete = False
            else:
                m.seen.update(staged)

    def _fresh(
        self, conn: Connection, m: _Member, events: list[tuple[str, Envelope]]
    ) -> tuple[list[Envelope], dict[tuple[str, str], int], dict[tuple[str, str], int]]:
        """The events `m` has not applied (a relay may republish a stream's tail), the positions
        this batch read back or moved, and those it moved."""
        staged: dict[tuple[str, str], int] = {}
        if not m.complete:
            self._load_seen(conn, m, {(t, e.stream_id) for t, e in events}, staged)
        fresh: list[Envelope] = []
        changed: dict[tuple[str, str], int] = {}
        seen = m.seen
        for topic, env in events:
            key = (topic, env.stream_id)
            known = staged[key] if key in staged else seen.get(key, 0)
            if env.stream_position <= known:
                continue
            staged[key] = changed[key] = env.stream_position
            fresh.append(env)
        return fresh, staged, changed

    def _load_seen(
        self,
        conn: Connection,
        m: _Member,
        keys: Iterable[tuple[str, str]],
        staged: dict[tuple[str, str], int],
    ) -> None:
        missing: dict[str, list[str]] = {}
        for topic, stream in keys:
            if (topic, stream) not in m.seen:
                missing.setdefault(topic, []).append(stream)
        # One topic per query: SQLite searches the primary key by (projection, topic, stream_id)
        # only so; with (topic, stream_id) IN (...) it scanned every row of the projection.
        for topic, streams in missing.items():
            for start in range(0, len(streams), 500):
                rows = conn.execute(
                    _SEEN_POSITIONS,
                    {"projection": m.name, "topic": topic, "streams": streams[start : start + 500]},
                )
                for stream, position in rows:
                    staged[(topic, stream)] = position

    # -- waiting (read-your-writes) --------------------------------------------------------------
    def reached(self, targets: dict[Key, int]) -> bool:
        return all(reached(m.offsets, m.projection.topics, targets) for m in self.members)

    async def wait_for(self, targets: dict[Key, int], timeout: float) -> bool:
        """Wait until every projection has applied every offset below `targets`; False on timeout."""
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

    def status(self) -> dict[str, dict[str, Any]]:
        return {
            m.name: {
                "applied": m.applied,
                "caught_up": m.caught_up,
                "rebuilt": m.rebuilt,
                "error": self.error,
            }
            for m in self.members
        }


def trim_memory() -> None:
    """Give freed heap back to the system (glibc's malloc_trim); elsewhere, nothing."""
    with contextlib.suppress(OSError, AttributeError):
        ctypes.CDLL("libc.so.6").malloc_trim(0)
