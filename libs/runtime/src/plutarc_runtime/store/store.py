"""The event store every service owns: an eventsourcing Application on SQLite or PostgreSQL.

Wire-format envelopes are stored as-is (see mapper.py), every event is hash-chained (chain.py), and
consumers save their events together with tracking and inbox ids in one transaction.
"""

from __future__ import annotations

import contextlib
import threading
from collections.abc import Callable, Iterator, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any, TypeVar
from urllib.parse import unquote, urlparse
from uuid import UUID

import msgspec
from eventsourcing.application import AggregateNotFoundError, Application
from eventsourcing.persistence import Notification, Tracking
from eventsourcing.utils import Environment, get_topic
from plutarc_contracts import Envelope, Registry, new_event_id

from ..clock import Clock, SystemClock
from ..domain import Aggregate, NotFound, snapshot_type
from ..private import private_dir, private_file, tighten
from .chain import (
    ChainedPostgresRecorder,
    ChainedRecorder,
    ChainedSQLiteRecorder,
    VerifyResult,
    verify,
)
from .mapper import EnvelopeMapper, RecordedEvent, SnapshotEvent
from .working import WorkingSet

A = TypeVar("A", bound=Aggregate)


@dataclass(frozen=True, slots=True)
class Meta:
    """Who caused a change and why: stamped on every envelope the change produces."""

    actor: str
    correlation_id: str
    causation_id: str | None = None
    workspace_id: str | None = None


@dataclass(frozen=True, slots=True)
class Saved:
    notification_id: int
    envelope: Envelope


Appended = Callable[[Sequence[Notification], Mapping[int, bytes]], None]
"""`listener(notifications, chain_hashes)`: what one save appended to the notification log, as stored."""


def persistence_env(
    name: str, database_url: str | None, sqlite_path: Path | None
) -> dict[str, str]:
    """eventsourcing settings for a store: PostgreSQL when a URL is given, else a SQLite file."""
    if database_url:
        url = urlparse(database_url)
        if url.scheme not in ("postgresql", "postgres"):
            raise ValueError(f"unsupported database URL scheme {url.scheme!r}; use postgresql://")
        return {
            "PERSISTENCE_MODULE": "eventsourcing.postgres",
            "POSTGRES_DBNAME": url.path.lstrip("/"),
            "POSTGRES_HOST": url.hostname or "127.0.0.1",
            "POSTGRES_PORT": str(url.port or 5432),
            "POSTGRES_USER": unquote(url.username or ""),
            "POSTGRES_PASSWORD": unquote(url.password or ""),
            "POSTGRES_POOL_SIZE": "4",
            "POSTGRES_MAX_OVERFLOW": "8",
            "PROCESS_RECORDER_TOPIC": get_topic(ChainedPostgresRecorder),
        }
    if sqlite_path is None:
        raise ValueError(f"store {name!r} needs a database URL or a SQLite path")
    private_dir(sqlite_path.parent)
    # SQLite makes its -wal and -shm files with the database file's mode: 0600 covers all three.
    private_file(sqlite_path)
    for suffix in ("-wal", "-shm", "-journal"):
        tighten(sqlite_path.with_name(sqlite_path.name + suffix))
    return {
        "PERSISTENCE_MODULE": "eventsourcing.sqlite",
        "SQLITE_DBNAME": str(sqlite_path),
        "SQLITE_LOCK_TIMEOUT": "30",
        "PROCESS_RECORDER_TOPIC": get_topic(ChainedSQLiteRecorder),
    }


class _Application(Application[UUID]):
    def __init__(self, name: str, env: dict[str, str], registry: Registry) -> None:
        self.name = name
        self._registry = registry
        super().__init__(env)

    def construct_env(self, name: str, env: Any = None) -> Environment:
        # Typed settings are the only source of configuration: ignore os.environ on purpose.
        return Environment(name, dict(env or {}))

    def construct_mapper(self) -> EnvelopeMapper:
        return EnvelopeMapper(self._registry)

    def construct_recorder(self) -> Any:
        return self.factory.process_recorder()


class EventStore:
    def __init__(
        self,
        *,
        name: str,
        producer: str,
        registry: Registry,
        database_url: str | None = None,
        sqlite_path: Path | None = None,
        clock: Clock | None = None,
        snapshot_interval: int = 100,
        stream_types: Sequence[type[Aggregate]] = (),
        aggregate_cache: int = 0,
        create_tables: bool = True,
    ) -> None:
        """`create_tables=False` opens an existing store and creates nothing (read-only tools):
        a store that does not exist then fails on first read instead of being made empty."""
        env = persistence_env(name, database_url, sqlite_path)
        env["IS_SNAPSHOTTING_ENABLED"] = "y"
        if not create_tables:
            env["CREATE_TABLE"] = "n"
        if aggregate_cache > 0:
            # eventsourcing's LRU cache, fast-forwarded from the store on every get (so writes by
            # another instance are seen) and deep-copied out (so a refused change cannot leak in).
            env["AGGREGATE_CACHE_MAXSIZE"] = str(aggregate_cache)
            env["AGGREGATE_CACHE_FASTFORWARD"] = "y"
        self.name = name
        self.producer = producer
        self.registry = registry
        self.clock: Clock = clock or SystemClock()
        self.snapshot_interval = snapshot_interval
        self.backend = "postgres" if database_url else "sqlite"
        self.database_url = database_url
        self.sqlite_path = None if database_url else sqlite_path
        self._app = _Application(name, env, registry)
        self.recorder: Any = self._app.recorder
        self._stream_types = {getattr(t, "stream_type", t.__name__): t for t in stream_types}
        self._listeners: list[Callable[[int], None]] = []
        self._appended: list[Appended] = []
        self._lock = threading.Lock()
        self._local = threading.local()
        self._writing = threading.RLock()
        """Held by a batch from its first load to its commit, and by every other save of this
        process while it commits: another thread's write cannot land inside a batch (and make
        the whole batch conflict); it waits, and conflicts on its own if it decided on what the
        batch changed."""
        self._working_sets: list[WorkingSet] = []

    @property
    def chain(self) -> ChainedRecorder:
        return self.recorder  # type: ignore[no-any-return]

    # -- writing ----------------------------------------------------------------------------------
    def save(
        self,
        *aggregates: Aggregate,
        meta: Meta,
        tracking: Tracking | None = None,
        inbox_ids: Sequence[str] = (),
        extra: Sequence[RecordedEvent] = (),
    ) -> list[Saved]:
        """Save the pending events of `aggregates` (and `extra` events) in one transaction."""
        versions_before = [(agg, agg.version - len(agg._pending)) for agg in aggregates]
        events = self.record(aggregates, meta)
        events.extend(extra)
        with self._writing:
            saved = self.commit(events, versions_before, tracking=tracking, inbox_ids=inbox_ids)
        if self._working_sets and getattr(self._local, "working", None) is None:
            written = {e.originator_id for e in events}
            for working in self._working_sets:
                working.evict(written)
        return saved

    def record(self, aggregates: Sequence[Aggregate], meta: Meta) -> list[RecordedEvent]:
        """Collect the pending events of `aggregates` as envelopes stamped with `meta` (not stored
        yet: `commit` stores them, alone or with other commands' in one transaction)."""
        events: list[RecordedEvent] = []
        for agg in aggregates:
            workspace_id = getattr(agg, "workspace_id", None) or meta.workspace_id
            for pending in agg.collect_events():
                name, version = self.registry.type_name_of(type(pending.payload))
                env = Envelope(
                    event_id=new_event_id(),
                    type=name,
                    schema_version=version,
                    occurred_at=pending.timestamp,
                    producer=self.producer,
                    stream_id=str(pending.originator_id),
                    stream_position=pending.originator_version,
                    workspace_id=workspace_id,
                    actor=meta.actor,
                    correlation_id=meta.correlation_id,
                    causation_id=meta.causation_id,
                    payload=pending.payload,
                )
                events.append(
                    RecordedEvent(
                        pending.originator_id, pending.originator_version, pending.timestamp, env
                    )
                )
        return events

    def commit(
        self,
        events: Sequence[RecordedEvent],
        versions_before: Sequence[tuple[Aggregate, int]] = (),
        *,
        tracking: Tracking | None = None,
        inbox_ids: Sequence[str] = (),
    ) -> list[Saved]:
        """Store recorded events, a consumer position and inbox ids in one transaction, then
        snapshot the aggregates (given with their versions before these events) that crossed an
        interval and tell the listeners."""
        recordings = self._app.events.put(
            list(events), tracking=tracking, inbox_ids=list(inbox_ids)
        )
        saved = [Saved(r.notification.id, r.domain_event.envelope) for r in recordings]  # type: ignore[attr-defined]
        if recordings and self._appended:
            self._hand_over([r.notification for r in recordings])
        self._snapshot(versions_before)
        if saved:
            for listener in list(self._listeners):
                listener(saved[-1].notification_id)
        return saved

    def _hand_over(self, notifications: list[Notification]) -> None:
        """Give the `on_appended` listeners what this save committed, with its chain hashes."""
        hashes = self.chain.last_links()
        if any(n.id not in hashes for n in notifications):
            hashes = {}  # not this save's links (cannot happen): followers read the store instead
        for listener in list(self._appended):
            listener(notifications, hashes)

    def record_tracking(self, tracking: Tracking, inbox_ids: Sequence[str] = ()) -> None:
        """Record a consumer position (and inbox ids) with no events of its own."""
        self._app.events.put([], tracking=tracking, inbox_ids=list(inbox_ids))

    def _snapshot(self, aggregates: Sequence[tuple[Aggregate, int]]) -> None:
        if not self._app.snapshots or self.snapshot_interval <= 0:
            return
        snaps = []
        for agg, before in aggregates:
            stream_type = getattr(agg, "stream_type", type(agg).__name__)
            # Snapshot when this save crossed a multiple of the interval, however many events it held.
            if agg.version // self.snapshot_interval > before // self.snapshot_interval:
                state = msgspec.json.encode(
                    msgspec.convert(
                        agg.snapshot_state(), snapshot_type(type(agg)), from_attributes=True
                    )
                )
                snaps.append(
                    SnapshotEvent(agg.id, agg.version, agg.modified_on, stream_type, state)
                )
        if snaps:
            self._app.snapshots.put(snaps)  # one transaction for all of this save's snapshots

    def on_saved(self, listener: Callable[[int], None]) -> None:
        """Call `listener(last_notification_id)` after each save that stored events (followers of
        the log use `on_appended`, which also hands them what was stored)."""
        self._listeners.append(listener)

    def on_appended(self, listener: Appended) -> Callable[[], None]:
        """Call `listener(notifications, chain_hashes)` after each save that stored events.

        It runs in the saving thread once the transaction has committed, before the `on_saved`
        listeners, with the notifications exactly as stored (id, topic, originator id and version,
        state bytes) and their chain hashes by id: followers such as the relay need not read them
        back. Saves in several threads may call it out of notification order, and saves by other
        processes not at all: a follower must check that what it gets directly follows its position.
        A listener must not raise; it must not block either, since the saver waits for it.
        Returns what removes the listener.
        """
        self._appended.append(listener)
        return lambda: self._appended.remove(listener)

    def working_set(self, capacity: int, *, single_writer: bool) -> WorkingSet:
        """A working set for one deciding thread (the command consumer's); saves made outside it
        by this process evict what they wrote from it."""
        working = WorkingSet(capacity, single_writer=single_writer)
        self._working_sets.append(working)
        return working

    @contextlib.contextmanager
    def working(self, working: WorkingSet) -> Iterator[WorkingSet]:
        """Loads in this thread answer from `working` until the block ends (see working.py)."""
        with self._writing:
            self._local.working = working
            working.begin()
            try:
                yield working
            finally:
                self._local.working = None

    def expect(self, ids: Sequence[UUID]) -> None:
        """Streams the open batch of this thread will look up: one query finds which have no
        events, and loading those raises NotFound without asking the store again."""
        working: WorkingSet | None = getattr(self._local, "working", None)
        if working is not None and ids:
            working.absent.update(set(ids) - self.chain.existing(ids))

    def uncommitted(self) -> bool:
        """Whether this thread decides in a batch that holds events not stored yet."""
        working: WorkingSet | None = getattr(self._local, "working", None)
        return working is not None and working.uncommitted > 0

    # -- reading ----------------------------------------------------------------------------------
    def get(self, cls: type[A], aggregate_id: UUID, version: int | None = None) -> A:
        working: WorkingSet | None = getattr(self._local, "working", None)
        if working is not None and version is None:
            found = working.lookup(aggregate_id)
            if isinstance(found, cls):
                return found
            if found is None and aggregate_id in working.absent:
                raise NotFound(f"{cls.__name__} {aggregate_id} not found")
            loaded = self._load(cls, aggregate_id, None)
            if found is None:
                working.loaded(loaded)
            return loaded
        return self._load(cls, aggregate_id, version)

    def _load(self, cls: type[A], aggregate_id: UUID, version: int | None) -> A:
        try:
            return self._app.repository.get(
                aggregate_id, version=version, projector_func=self._projector(cls)
            )
        except AggregateNotFoundError:
            raise NotFound(f"{cls.__name__} {aggregate_id} not found") from None

    def find(self, cls: type[A], aggregate_id: UUID) -> A | None:
        try:
            return self.get(cls, aggregate_id)
        except NotFound:
            return None

    def stream(self, aggregate_id: UUID) -> list[Envelope]:
        return [
            e.envelope for e in self._app.events.get(aggregate_id) if isinstance(e, RecordedEvent)
        ]

    @staticmethod
    def _projector(cls: type[A]) -> Callable[[A | None, Any], A | None]:
        def project(aggregate: A | None, events: Any) -> A | None:
            for event in events:
                if isinstance(event, SnapshotEvent):
                    aggregate = cls.blank(event.originator_id)
                    state = msgspec.json.decode(event.state, type=snapshot_type(cls))
                    aggregate.restore_state(msgspec.structs.asdict(state))
                    aggregate.version = event.originator_version
                    aggregate.modified_on = event.timestamp
                    continue
                if aggregate is None:
                    aggregate = cls.blank(event.originator_id)
                aggregate._mutate(event.envelope.payload, event.originator_version, event.timestamp)
            return aggregate

        return project

    def notifications(self, start: int, limit: int) -> Sequence[Notification]:
        return self.recorder.select_notifications(start=start, limit=limit)  # type: ignore[no-any-return]

    def max_notification_id(self) -> int:
        return self.recorder.max_notification_id() or 0

    def max_tracking_id(self, name: str) -> int:
        return self.recorder.max_tracking_id(name) or 0

    def has_processed(self, event_id: str) -> bool:
        return self.chain.has_inbox_id(event_id)

    def verify(
        self, batch: int = 5000, progress: Callable[[int], None] | None = None
    ) -> VerifyResult:
        return verify(self.chain, batch=batch, progress=progress)

    def close(self) -> None:
        self._app.close()
