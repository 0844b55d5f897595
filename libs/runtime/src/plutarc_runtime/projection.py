"""Replayed projections: read models kept in memory and rebuilt from the topics at every start.

A replay consumer reads its topics from offset 0 with no consumer group, so a restart can neither
lose nor double-count: the model is rebuilt from the log, and duplicates republished by a relay are
dropped by stream position (a relay keeps each stream in order on one partition). It knows when it
has caught up with the end offsets seen at start, and lets callers wait until a given stream
position has been applied (read-your-writes). Topics it replays must keep their events forever.

One stream may span topics (identity routes a user's credential events to their own topic), and
topics are not ordered against each other, so duplicates are judged per (topic, stream).
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable, Sequence
from typing import Any, Protocol

from aiokafka import AIOKafkaConsumer, TopicPartition
from plutarc_contracts import ContractError, Envelope, Registry

log = logging.getLogger(__name__)


class Projection(Protocol):
    def apply(self, env: Envelope) -> bool:
        """Apply one event; False if it was not new (or not for this projection)."""
        ...


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
    ) -> None:
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

    async def _partitions(
        self, consumer: AIOKafkaConsumer, stop: asyncio.Event
    ) -> list[TopicPartition]:
        """Every partition of the topics, waiting (and saying so) until they all exist."""
        attempt = 0
        while True:
            found = [
                TopicPartition(t, p)
                for t in self.topics
                for p in sorted(consumer.partitions_for_topic(t) or ())
            ]
            missing = set(self.topics) - {tp.topic for tp in found}
            if not missing or stop.is_set():
                return found
            if attempt % 50 == 0:
                log.warning(
                    "waiting for topics to exist",
                    extra={"consumer": self.name, "missing": sorted(missing)},
                )
            attempt += 1
            await consumer._client.force_metadata_update()
            await asyncio.sleep(0.1)

    async def run(self, stop: asyncio.Event) -> None:
        consumer = AIOKafkaConsumer(
            bootstrap_servers=self.bootstrap,
            client_id=f"{self.name}-replay",
            enable_auto_commit=False,
            isolation_level="read_committed",
            fetch_max_wait_ms=50,
            max_partition_fetch_bytes=4 << 20,
        )
        self._kafka = consumer
        await consumer.start()
        try:
            partitions = await self._partitions(consumer, stop)
            consumer.assign(partitions)
            await consumer.seek_to_beginning(*partitions)
            ends = await consumer.end_offsets(partitions)
            pending = {tp for tp, end in ends.items() if end > 0}
            if not pending:
                self.caught_up.set()
            while not stop.is_set():
                batch = await consumer.getmany(timeout_ms=100, max_records=2000)
                for tp, records in batch.items():
                    for record in records:
                        self._apply(tp.topic, record.value)
                        if tp in pending and record.offset + 1 >= ends[tp]:
                            pending.discard(tp)
                if batch:
                    async with self._changed:
                        self._changed.notify_all()
                if pending:
                    continue
                if not self.caught_up.is_set():
                    log.info(
                        "projection caught up",
                        extra={"consumer": self.name, "applied": self.applied},
                    )
                    self.caught_up.set()
        finally:
            await consumer.stop()

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
