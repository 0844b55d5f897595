"""Replayed projections: read models kept in memory, rebuilt from the topics or from a checkpoint.

A replay consumer uses no consumer group. Without a checkpoint it reads its topics from offset 0, so
the model is rebuilt from the log. With one (checkpoint.py) it restores the models and its own
dedupe state, and reads on from the offsets saved with them; it saves a new checkpoint every
`checkpoint_interval` seconds and when it stops. Either way a restart neither loses nor
double-counts. Duplicates republished by a relay are dropped by stream position (a relay keeps each
stream in order on one partition). It knows when it has caught up with the end offsets seen at
start, and lets callers wait until a given stream position has been applied (read-your-writes).
Topics it replays must keep their events forever.

One stream may span topics (identity routes a user's credential events to their own topic), and
topics are not ordered against each other, so duplicates are judged per (topic, stream).
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Callable, Sequence
from typing import Any, Protocol

import msgspec
from aiokafka import AIOKafkaConsumer, TopicPartition
from plutarc_contracts import ContractError, Envelope, Registry, TopicRegistry, default_topics

from .bus import log_reader, partitions_of
from .checkpoint import (
    FORMAT,
    Checkpoint,
    Checkpointable,
    CheckpointFile,
    fingerprint,
    offset_key,
)

log = logging.getLogger(__name__)


class Projection(Protocol):
    def apply(self, env: Envelope) -> bool:
        """Apply one event; False if it was not new (or not for this projection)."""
        ...


class _DedupeState(msgspec.Struct):
    positions: dict[str, int]
    ahead: dict[str, list[int]]
    seen: list[tuple[str, str, int]]
    applied: int


class ReplayConsumer:
    def __init__(
        self,
        *,
        name: str,
        bootstrap: str,
        topics: Sequence[str],
        registry: Registry,
        projections: Sequence[Projection],
        listeners: Sequence[Callable[[Envelope], None]] = (),
        checkpoint: CheckpointFile | None = None,
        checkpoint_interval: float = 30.0,
        catalogue: TopicRegistry | None = None,
    ) -> None:
        # A private topic is read only by the consumers its contract names (default: the catalogue's).
        (catalogue or default_topics()).check_reader(name, topics)
        self.name = name
        self.bootstrap = bootstrap
        self.topics = list(topics)
        self.registry = registry
        self.projections = list(projections)
        self.listeners = list(listeners)
        self.positions: dict[str, int] = {}  # contiguous: every position up to it is applied
        self._ahead: dict[
            str, set[int]
        ] = {}  # applied past a gap (arrived early from another topic)
        self._seen: dict[tuple[str, str], int] = {}
        self.caught_up = asyncio.Event()
        self.applied = 0
        self.undecodable = 0
        self._changed = asyncio.Condition()
        self._kafka: AIOKafkaConsumer | None = None
        self.checkpoint = checkpoint
        self.checkpoint_interval = checkpoint_interval
        self.offsets: dict[TopicPartition, int] = {}
        self.resumed_from: int | None = None
        """Events the restored checkpoint held, or None when this run replayed from offset 0."""
        if checkpoint is not None:
            missing = [p for p in self.projections if not isinstance(p, Checkpointable)]
            if missing:
                raise ValueError(
                    f"projections without export_state cannot be checkpointed: {missing}"
                )
            self._fingerprint = fingerprint([self, *self.projections])

    def _advance(self, stream_id: str, position: int) -> None:
        mark = self.positions.get(stream_id, 0)
        if position != mark + 1:
            self._ahead.setdefault(stream_id, set()).add(position)
            return
        ahead = self._ahead.get(stream_id)
        mark = position
        while ahead and mark + 1 in ahead:
            mark += 1
            ahead.discard(mark)
        if ahead is not None and not ahead:
            del self._ahead[stream_id]
        self.positions[stream_id] = mark

    def position_of(self, stream_id: str) -> int:
        return self.positions.get(stream_id, 0)

    async def wait_for(self, stream_id: str, position: int, timeout: float) -> bool:
        """Wait until `stream_id` reached `position` here; False if the deadline passed first."""
        async with self._changed:
            try:
                await asyncio.wait_for(
                    self._changed.wait_for(lambda: self.position_of(stream_id) >= position), timeout
                )
            except TimeoutError:
                return False
        return True

    async def catch_up(self, timeout: float) -> bool:
        """Wait until every event on its topics at this instant has been applied here (a write
        another service answered a moment ago is then seen); False if the deadline passed first."""
        deadline = time.monotonic() + timeout
        try:
            await asyncio.wait_for(self.caught_up.wait(), timeout)
            kafka, partitions = self._kafka, list(self.offsets)
            if kafka is None or not partitions:
                return True
            ends = await asyncio.wait_for(
                kafka.end_offsets(partitions), max(0.0, deadline - time.monotonic())
            )
            async with self._changed:
                await asyncio.wait_for(
                    self._changed.wait_for(
                        lambda: all(self.offsets.get(tp, 0) >= end for tp, end in ends.items())
                    ),
                    max(0.0, deadline - time.monotonic()),
                )
        except TimeoutError:
            log.warning("projection did not catch up in time", extra={"consumer": self.name})
            return False
        return True

    async def run(self, stop: asyncio.Event) -> None:
        consumer = log_reader(self.bootstrap, f"{self.name}-replay")
        self._kafka = consumer
        await consumer.start()
        try:
            partitions = await partitions_of(consumer, self.topics, stop, self.name)
            if stop.is_set():
                return  # stopped while its topics did not exist yet
            # Offsets are looked up before the partitions are assigned, and the position is set
            # right after, with no await in between: an assigned partition without a position
            # is reset by the fetcher on its own, which would race with the seek.
            ends = await consumer.end_offsets(partitions)
            starts = await consumer.beginning_offsets(partitions)
            self.offsets = {tp: 0 for tp in partitions}
            resumed = self._resume(partitions, starts, ends)
            consumer.assign(partitions)
            if resumed:
                for tp in partitions:
                    consumer.seek(tp, self.offsets[tp])
            else:
                await consumer.seek_to_beginning(*partitions)
            pending = {tp for tp, end in ends.items() if end > self.offsets[tp]}
            if not pending:
                self.caught_up.set()
            saved_at, saved_applied = time.monotonic(), self.applied
            while not stop.is_set():
                batch = await consumer.getmany(timeout_ms=100, max_records=2000)
                for tp, records in batch.items():
                    for record in records:
                        self._apply(tp.topic, record.value)
                        if tp in pending and record.offset + 1 >= ends[tp]:
                            pending.discard(tp)
                    if records:
                        self.offsets[tp] = records[-1].offset + 1
                if batch:
                    async with self._changed:
                        self._changed.notify_all()
                if (
                    self.checkpoint is not None
                    and self.applied != saved_applied
                    and time.monotonic() - saved_at >= self.checkpoint_interval
                ):
                    await self.save_checkpoint()
                    saved_at, saved_applied = time.monotonic(), self.applied
                if pending:
                    continue
                if not self.caught_up.is_set():
                    log.info(
                        "projection caught up",
                        extra={"consumer": self.name, "applied": self.applied},
                    )
                    self.caught_up.set()
            if self.checkpoint is not None:  # a clean stop: the next start resumes from here
                await self.save_checkpoint()
        finally:
            await consumer.stop()

    # -- checkpoints ------------------------------------------------------------------------------
    def _checkpointed(self) -> list[Checkpointable]:
        """The projections as checkpointable (checked in __init__ when a checkpoint is set)."""
        return [p for p in self.projections if isinstance(p, Checkpointable)]

    def _resume(
        self,
        partitions: Sequence[TopicPartition],
        starts: dict[TopicPartition, int],
        ends: dict[TopicPartition, int],
    ) -> bool:
        """Restore the newest trustworthy checkpoint into the (empty) projections; False if none."""
        if self.checkpoint is None:
            return False
        cp = self.checkpoint.load(self._fingerprint, self.topics)
        if cp is None:
            return False
        offsets = {tp: cp.offsets.get(offset_key(tp.topic, tp.partition), 0) for tp in partitions}
        for tp, offset in offsets.items():
            if not starts[tp] <= offset <= ends[tp]:  # the topic was recreated, or truncated
                log.warning(
                    "checkpoint offsets do not fit the topics, replaying",
                    extra={"consumer": self.name, "partition": str(tp), "offset": offset},
                )
                return False
        checkpointed = self._checkpointed()
        blank = [p.export_state() for p in checkpointed]
        try:
            dedupe = msgspec.msgpack.decode(cp.consumer, type=_DedupeState)
            for projection, raw in zip(checkpointed, cp.projections, strict=True):
                projection.restore_state(raw)
        except Exception as exc:
            log.warning("checkpoint unreadable, replaying", extra={"error": repr(exc)})
            for projection, raw in zip(checkpointed, blank, strict=True):
                projection.restore_state(raw)
            return False
        self.positions = dedupe.positions
        self._ahead = {stream: set(positions) for stream, positions in dedupe.ahead.items()}
        self._seen = {(topic, stream): pos for topic, stream, pos in dedupe.seen}
        self.applied = self.resumed_from = dedupe.applied
        self.offsets = offsets
        log.info(
            "projection restored from checkpoint",
            extra={"consumer": self.name, "applied": self.applied},
        )
        return True

    async def save_checkpoint(self) -> None:
        """Write the projections and the offsets they reflect; a failure is logged, not raised."""
        if self.checkpoint is None:
            return
        dedupe = _DedupeState(
            positions=self.positions,
            ahead={stream: sorted(positions) for stream, positions in self._ahead.items()},
            seen=[(topic, stream, pos) for (topic, stream), pos in self._seen.items()],
            applied=self.applied,
        )
        # Encoded here, between batches, so state and offsets match; written in a thread.
        cp = Checkpoint(
            format=FORMAT,
            fingerprint=self._fingerprint,
            topics=self.topics,
            offsets={offset_key(tp.topic, tp.partition): o for tp, o in self.offsets.items()},
            consumer=msgspec.msgpack.encode(dedupe),
            projections=[p.export_state() for p in self._checkpointed()],
        )
        try:
            await asyncio.to_thread(self.checkpoint.save, cp)
        except Exception as exc:
            log.warning("checkpoint not saved", extra={"consumer": self.name, "error": repr(exc)})

    def _apply(self, topic: str, value: Any) -> None:
        try:
            env = self.registry.decode_event(value or b"")
        except ContractError as exc:
            self.undecodable += 1
            log.warning(
                "undecodable event skipped by projection",
                extra={"consumer": self.name, "code": exc.code},
            )
            return
        key = (topic, env.stream_id)
        if env.stream_position <= self._seen.get(key, 0):
            return
        self._seen[key] = env.stream_position
        for projection in self.projections:
            projection.apply(env)
        self._advance(env.stream_id, env.stream_position)
        self.applied += 1
        for listener in self.listeners:
            listener(env)
