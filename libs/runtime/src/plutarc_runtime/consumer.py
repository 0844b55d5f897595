"""The consumer runtime: effectively-once processing of Kafka messages into a service's store.

Positions live in the store (eventsourcing tracking records, one per topic partition), written in
the same transaction as the consumer's own events and the consumed event ids (the inbox), so a
restart neither loses nor double-applies anything. Kafka offsets are committed only so that standard
tools can show lag. A message that cannot be decoded or handled is dead-lettered, through the store
and the relay like any other event, and the consumer goes on.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass, field
from typing import Any, Protocol
from uuid import NAMESPACE_URL, UUID, uuid5

from aiokafka import AIOKafkaConsumer, ConsumerRebalanceListener, TopicPartition
from aiokafka.structs import ConsumerRecord
from eventsourcing.persistence import IntegrityError, PersistenceError, Tracking
from plutarc_contracts import (
    ContractError,
    DeadLettered,
    Envelope,
    Registry,
    TopicRegistry,
    default_topics,
    new_event_id,
)

from .batching import decide_and_store
from .bus import make_consumer
from .clock import Clock
from .domain import Aggregate, DomainError
from .handling import CatchUpFirst, FlushFirst, Occurred, Reactions
from .intents import new_intents
from .metrics import Metrics
from .store import EventStore, Meta, RecordedEvent

log = logging.getLogger(__name__)

DEAD_LETTER_NS = uuid5(NAMESPACE_URL, "https://plutarc.dev/ns/dead-letter")


@dataclass
class Work:
    """What processing one message decided to store, atomically with the consumer's position."""

    aggregates: Sequence[Aggregate] = ()
    extra: Sequence[RecordedEvent] = ()
    inbox_ids: Sequence[str] = ()
    meta: Meta | None = None
    outcome: str = "applied"
    kind: str = ""
    on_stored: Callable[[], None] | None = field(default=None, repr=False)


class Processor(Protocol):
    def __call__(self, value: bytes) -> Work:
        """Decide what to store for one message; raise ContractError for bytes that are not a contract.

        Runs in a worker thread, so it may read the store.
        """
        ...


EventHandler = Callable[[Envelope], Sequence[Aggregate]]


class EventProcessor:
    """Applies decoded events through a handler and the service's reactions to them, dropping
    duplicates by `event_id`; the intents reactions decide are stored with the position."""

    def __init__(
        self,
        store: EventStore,
        registry: Registry,
        handler: EventHandler | None = None,
        reactions: Reactions | None = None,
        clock: Clock | None = None,
    ) -> None:
        self.store = store
        self.registry = registry
        self.handler = handler
        self.reactions = dict(reactions or {})
        self.clock = clock or store.clock

    def __call__(self, value: bytes) -> Work:
        env = self.registry.decode_event(value)
        if self.store.has_processed(env.event_id):
            return Work(outcome="duplicate", kind=env.type)
        meta = Meta(
            actor=f"system:{self.store.producer}",
            correlation_id=env.correlation_id,
            causation_id=env.event_id,
            workspace_id=env.workspace_id,
        )
        try:
            aggregates = list(self.handler(env)) if self.handler is not None else []
            reaction = self.reactions.get(type(env.payload))
            if reaction is not None:
                occurred = Occurred(
                    env.payload,
                    env.occurred_at,
                    env.stream_id,
                    env.workspace_id,
                    env.actor,
                    env.event_id,
                )
                aggregates.extend(new_intents(self.store, reaction(occurred), self.clock.now()))
        except DomainError as exc:
            log.warning(
                "event refused by domain rule",
                extra={"event_id": env.event_id, "type": env.type, "code": exc.code},
            )
            return Work(inbox_ids=[env.event_id], meta=meta, outcome="refused", kind=env.type)
        return Work(aggregates, inbox_ids=[env.event_id], meta=meta, kind=env.type)


class _Rebalance(ConsumerRebalanceListener):  # type: ignore[misc]
    def __init__(self, consumer: Consumer) -> None:
        self.owner = consumer

    async def on_partitions_revoked(self, revoked: Any) -> None:
        for tp in revoked:
            self.owner.positions.pop(tp, None)

    async def on_partitions_assigned(self, assigned: Any) -> None:
        await self.owner.seek_to_stored(assigned)


class Consumer:
    def __init__(
        self,
        *,
        name: str,
        store: EventStore,
        registry: Registry,
        bootstrap: str,
        topics: Sequence[str],
        processor: Processor,
        clock: Clock,
        metrics: Metrics | None = None,
        retry_backoff: float = 0.5,
        transient: tuple[type[Exception], ...] = (),
        catalogue: TopicRegistry | None = None,
        commit_interval: float = 1.0,
        batch_size: int = 1,
        single_writer: bool = True,
        cache_size: int = 1000,
        catch_up: Callable[[], Awaitable[object]] | None = None,
        **consumer_overrides: Any,
    ) -> None:
        """`batch_size` > 1 decides up to that many records of a partition into one transaction
        when the processor allows it (`batchable`, see batching.py); `single_writer` keeps the
        aggregates those batches loaded in memory between them (at most `cache_size`).
        `catch_up` is awaited when the processor raises `CatchUpFirst` (the service's followers
        apply what is on their topics), before the record is decided again."""
        # A private topic is read only by the consumers its contract names (default: the catalogue's).
        (catalogue or default_topics()).check_reader(name, topics)
        self.name = name
        self.store = store
        self.registry = registry
        self.bootstrap = bootstrap
        self.topics = list(topics)
        self.processor = processor
        self.clock = clock
        self.metrics = metrics
        self.retry_backoff = retry_backoff
        self.transient: tuple[type[Exception], ...] = (PersistenceError, *transient)
        self.consumer_overrides = consumer_overrides
        self.catch_up = catch_up
        self.commit_interval = commit_interval
        self.positions: dict[TopicPartition, int] = {}
        self._committed: dict[TopicPartition, int] = {}
        self._committed_at = 0.0
        self.kafka: AIOKafkaConsumer | None = None
        self.assigned = asyncio.Event()
        self.batch_size = batch_size if getattr(processor, "batchable", False) else 1
        self.expected_streams = getattr(processor, "expected_streams", None)
        self.working = (
            store.working_set(cache_size, single_writer=single_writer)
            if self.batch_size > 1
            else None
        )

    def tracking_name(self, tp: TopicPartition) -> str:
        return f"{self.name}|{tp.topic}|{tp.partition}"

    async def seek_to_stored(self, partitions: Any) -> None:
        assert self.kafka is not None
        for tp in partitions:
            position = await asyncio.to_thread(self.store.max_tracking_id, self.tracking_name(tp))
            self.positions[tp] = position
            if position:
                self.kafka.seek(tp, position)
            else:
                await self.kafka.seek_to_beginning(tp)
        if partitions:
            self.assigned.set()

    async def run(self, stop: asyncio.Event) -> None:
        self.kafka = make_consumer(
            self.bootstrap,
            group_id=self.name,
            client_id=f"{self.name}-consumer",
            **self.consumer_overrides,
        )
        self.kafka.subscribe(self.topics, listener=_Rebalance(self))
        await self.kafka.start()
        try:
            while not stop.is_set():
                batch = await self.kafka.getmany(timeout_ms=200, max_records=500)
                for tp, records in batch.items():
                    if self.working is not None:
                        await self._handle_many(tp, records, stop)
                        continue
                    for record in records:
                        if stop.is_set():
                            break
                        await self._handle(tp, record, stop)
                await self._commit(idle=not batch)
                self._observe_lag()
            with contextlib.suppress(TimeoutError):  # a broker that is down must not hold up stop
                await asyncio.wait_for(self._commit(idle=True), 2)
        finally:
            await self.kafka.stop()

    async def _commit(self, *, idle: bool) -> None:
        """Commit the positions to Kafka when idle, or at most every `commit_interval` while busy.

        Offsets in Kafka are informational only (the store holds the real positions): a commit
        per message would put a broker round trip beside every reply that is on its way.
        """
        if self.kafka is None:
            return
        if not idle and time.monotonic() - self._committed_at < self.commit_interval:
            return
        offsets = {
            tp: position
            for tp, position in self.positions.items()
            if position and self._committed.get(tp) != position
        }
        if not offsets:
            return
        self._committed_at = time.monotonic()
        try:
            await self.kafka.commit(offsets)
        except Exception as exc:  # offsets in Kafka are informational only
            log.debug("offset commit failed", extra={"error": repr(exc)})
            return
        self._committed.update(offsets)

    def _observe_lag(self) -> None:
        if self.metrics is None or self.kafka is None:
            return
        for tp, position in self.positions.items():
            high = self.kafka.highwater(tp)
            if high is not None:
                self.metrics.consumer_lag.labels(self.name, tp.topic, str(tp.partition)).set(
                    max(0, high - position)
                )

    async def _handle(
        self, tp: TopicPartition, record: ConsumerRecord[Any, Any], stop: asyncio.Event
    ) -> None:
        if record.offset + 1 <= self.positions.get(tp, 0):
            return
        tracking = Tracking(self.tracking_name(tp), record.offset + 1)
        started = time.perf_counter()
        conflicts = 0
        while not stop.is_set():
            try:
                work = await asyncio.to_thread(self._process_and_store, record, tracking)
                break
            except IntegrityError:
                stored = await asyncio.to_thread(
                    self.store.max_tracking_id, tracking.application_name
                )
                if stored >= tracking.notification_id:
                    # Another instance (or an earlier life of this one) stored this position already.
                    work = Work(outcome="duplicate")
                    break
                # A concurrent writer changed an aggregate this message touched: decide again, a
                # few times; a conflict that persists is a bug and must not stall the partition.
                conflicts += 1
                log.info(
                    "write conflict, processing the message again", extra={"offset": record.offset}
                )
                if conflicts >= 5:
                    work = self.dead_letter(
                        record, "consumer.write_conflict", "the write conflicted 5 times"
                    )
                    await asyncio.to_thread(self._store, work, tracking)
                    break
            except CatchUpFirst:
                await self._catch_up()
            except self.transient as exc:
                # A dependency is down (the store, a policy server): the message is valid, so it
                # waits, in order, instead of being dead-lettered.
                log.warning("dependency unavailable, retrying", extra={"error": repr(exc)})
                if self.metrics is not None:
                    self.metrics.consumed.labels(self.name, "retried").inc()
                await asyncio.sleep(self.retry_backoff)
        else:
            return
        self.positions[tp] = record.offset + 1
        self._stored(work, started)

    async def _handle_many(
        self, tp: TopicPartition, records: list[ConsumerRecord[Any, Any]], stop: asyncio.Event
    ) -> None:
        """Records of one partition in batches of at most `batch_size`, each one transaction; a
        conflict takes that batch one record at a time (after clearing the cached aggregates)."""
        assert self.working is not None
        position = self.positions.get(tp, 0)
        pending = [r for r in records if r.offset + 1 > position]
        while pending and not stop.is_set():
            chunk = pending[: self.batch_size]
            started = time.perf_counter()
            try:
                decided = await asyncio.to_thread(
                    decide_and_store,
                    self.store,
                    self.working,
                    chunk,
                    self._process,
                    self.tracking_name(tp),
                    self.transient,
                    self.expected_streams,
                )
            except IntegrityError:
                log.info(
                    "write conflict in a batch, taking it one record at a time",
                    extra={"offset": chunk[0].offset, "records": len(chunk)},
                )
                for record in chunk:
                    if stop.is_set():
                        return
                    await self._handle(tp, record, stop)
                pending = pending[len(chunk) :]
                continue
            except self.transient as exc:
                log.warning("dependency unavailable, retrying", extra={"error": repr(exc)})
                if self.metrics is not None:
                    self.metrics.consumed.labels(self.name, "retried").inc()
                await asyncio.sleep(self.retry_backoff)
                continue
            if isinstance(decided.postponed, CatchUpFirst):
                await self._catch_up()  # the record after those stored is decided again next
            if not decided.works:
                if isinstance(decided.postponed, CatchUpFirst):
                    continue
                if isinstance(decided.postponed, self.transient):
                    log.warning(
                        "dependency unavailable, retrying",
                        extra={"error": repr(decided.postponed)},
                    )
                    if self.metrics is not None:
                        self.metrics.consumed.labels(self.name, "retried").inc()
                    await asyncio.sleep(self.retry_backoff)
                    continue
                # Cannot happen (a batch's first record sees no unsaved events): one by one.
                await self._handle(tp, pending[0], stop)
                pending = pending[1:]
                continue
            stored = len(decided.works)
            self.positions[tp] = pending[stored - 1].offset + 1
            for work in decided.works:
                self._stored(work, started)
            pending = pending[stored:]

    async def _catch_up(self) -> None:
        if self.catch_up is not None:
            await self.catch_up()

    def _stored(self, work: Work, started: float) -> None:
        if work.on_stored is not None:
            work.on_stored()
        if self.metrics is not None:
            self.metrics.consumed.labels(self.name, work.outcome).inc()
            if work.kind and work.outcome != "duplicate":
                self.metrics.handling_latency.labels(work.kind).observe(
                    time.perf_counter() - started
                )

    def _process_and_store(self, record: ConsumerRecord[Any, Any], tracking: Tracking) -> Work:
        """Decide, then save with the position: one worker-thread hop per message, not two."""
        work = self._process(record)
        self._store(work, tracking)
        return work

    def _process(self, record: ConsumerRecord[Any, Any]) -> Work:
        try:
            return self.processor(record.value or b"")
        except ContractError as exc:
            return self.dead_letter(record, exc.code, str(exc))
        except (FlushFirst, CatchUpFirst):
            raise  # decided again: at the head of the next batch (batching.py), or after catching up
        except self.transient:
            raise
        except Exception as exc:
            log.exception("handler failed", extra={"topic": record.topic, "offset": record.offset})
            return self.dead_letter(
                record, "consumer.handler_failed", f"{type(exc).__name__}: {exc}"
            )

    def _store(self, work: Work, tracking: Tracking) -> None:
        if work.aggregates or work.extra:
            assert work.meta is not None
            self.store.save(
                *work.aggregates,
                meta=work.meta,
                tracking=tracking,
                inbox_ids=work.inbox_ids,
                extra=work.extra,
            )
        else:
            self.store.record_tracking(tracking, work.inbox_ids)

    def dead_letter(self, record: ConsumerRecord[Any, Any], code: str, reason: str) -> Work:
        """Record the message as a `system.dead_lettered` event; the relay routes it to the DLQ topic."""
        stream_id = uuid5(
            DEAD_LETTER_NS, f"{self.name}|{record.topic}|{record.partition}|{record.offset}"
        )
        key = record.key.decode("utf-8", "replace") if record.key else None
        payload = DeadLettered(
            topic=record.topic,
            partition=record.partition,
            offset=record.offset,
            key=key,
            reason=reason,
            code=code,
            consumer=self.name,
            raw=DeadLettered.encode_raw(record.value or b""),
        )
        name, version = self.registry.type_name_of(DeadLettered)
        now = self.clock.now()
        env = Envelope(
            event_id=new_event_id(),
            type=name,
            schema_version=version,
            occurred_at=now,
            producer=self.store.producer,
            stream_id=str(stream_id),
            stream_position=1,
            workspace_id=None,
            actor=f"system:{self.store.producer}",
            correlation_id=str(stream_id),
            causation_id=None,
            payload=payload,
        )
        log.error(
            "message dead-lettered",
            extra={"topic": record.topic, "offset": record.offset, "code": code, "reason": reason},
        )
        return Work(
            extra=[RecordedEvent(UUID(str(stream_id)), 1, now, env)],
            meta=Meta(actor=env.actor, correlation_id=env.correlation_id),
            outcome="dead_lettered",
        )
