"""The outbox relay: publishes a store's notification log to Kafka, resuming where it got to.

Delivery is at least once: the position is recorded after Kafka acknowledged a batch, so a crash
between the two republishes that batch; consumers drop the duplicates by `event_id`.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable, Sequence
from typing import Any

from aiokafka import AIOKafkaProducer
from eventsourcing.persistence import Notification, Tracking

from .metrics import Metrics
from .store import EventStore

log = logging.getLogger(__name__)

RELAY_TRACKING = "outbox-relay"


class OutboxRelay:
    def __init__(
        self,
        store: EventStore,
        make_producer: Callable[[], AIOKafkaProducer],
        route: Callable[[str], str | None],
        *,
        batch_size: int = 2000,
        poll_interval: float = 0.5,
        retry_backoff: float = 1.0,
        metrics: Metrics | None = None,
    ) -> None:
        self.store = store
        self.make_producer = make_producer
        self.producer: AIOKafkaProducer | None = None
        self.retry_backoff = retry_backoff
        self.route = route
        self.batch_size = batch_size
        self.poll_interval = poll_interval
        self.metrics = metrics
        self.position = 0
        self._wake = asyncio.Event()
        self._loop: asyncio.AbstractEventLoop | None = None

    def _on_saved(self, _last_id: int) -> None:
        if self._loop is not None:
            self._loop.call_soon_threadsafe(self._wake.set)

    async def start(self) -> None:
        self.position = await asyncio.to_thread(self.store.max_tracking_id, RELAY_TRACKING)
        self.producer = self.make_producer()
        await self.producer.start()

    async def close(self) -> None:
        if self.producer is not None:
            producer, self.producer = self.producer, None
            try:
                await producer.stop()
            except Exception as exc:
                log.debug("producer stop failed", extra={"error": repr(exc)})

    async def run(self, stop: asyncio.Event) -> None:
        """Publish until `stop`; survive broker outages by backing off and starting a new producer."""
        self._loop = asyncio.get_running_loop()
        self.store.on_saved(self._on_saved)
        try:
            while not stop.is_set():
                self._wake.clear()
                try:
                    if self.producer is None:
                        await self.start()
                    published = await self.publish_pending()
                except Exception as exc:
                    await self._observe_lag()
                    log.warning(
                        "relay could not publish, retrying",
                        extra={"error": repr(exc), "position": self.position},
                    )
                    await self.close()
                    await self._wait(stop, self.retry_backoff, wake=False)
                    continue
                if not published:
                    await self._wait(stop, self.poll_interval)
        finally:
            await self.close()

    async def _wait(self, stop: asyncio.Event, timeout: float, *, wake: bool = True) -> None:
        """Wait for `timeout`, or less if stopped or (when `wake`) if the store saved something."""
        waiters = {asyncio.ensure_future(stop.wait())}
        if wake:
            waiters.add(asyncio.ensure_future(self._wake.wait()))
        await asyncio.wait(waiters, timeout=timeout, return_when=asyncio.FIRST_COMPLETED)
        for waiter in waiters:
            waiter.cancel()

    async def publish_pending(self) -> int:
        """Publish everything stored after the recorded position; returns how many were sent."""
        total = 0
        while sent := await self.publish_batch():
            total += sent
        await self._observe_lag()
        return total

    async def _observe_lag(self) -> None:
        """Best effort: a store that does not answer must not stop the relay (it retries)."""
        if self.metrics is None:
            return
        try:
            head = await asyncio.to_thread(self.store.max_notification_id)
        except Exception as exc:
            log.debug("relay lag unknown", extra={"error": repr(exc)})
            return
        self.metrics.relay_lag.set(max(0, head - self.position))

    def _read_section(self) -> tuple[Sequence[Notification], dict[int, bytes]]:
        """The next section of the log and its chain hashes, in one worker-thread hop."""
        section = self.store.notifications(self.position + 1, self.batch_size)
        if not section:
            return section, {}
        return section, self.store.chain.select_hashes(section[0].id, section[-1].id)

    async def publish_batch(self) -> int:
        """Publish one section of the notification log, then record the new position."""
        section, hashes = await asyncio.to_thread(self._read_section)
        if not section:
            return 0
        assert self.producer is not None, "start() the relay first"
        futures: list[Any] = []
        for n in section:
            topic = self.route(n.topic)
            if topic is None:  # kept in the store only (intents, which may carry secrets)
                continue
            headers = [("type", n.topic.encode()), ("position", str(n.id).encode())]
            chain_hash = hashes.get(n.id)
            if chain_hash is not None:
                headers.append(("chain", chain_hash.hex().encode()))
            futures.append(
                await self.producer.send(
                    topic,
                    value=n.state,
                    key=str(n.originator_id).encode(),
                    headers=headers,
                )
            )
        await asyncio.gather(*futures)
        last = section[-1].id
        await asyncio.to_thread(self.store.recorder.insert_tracking, Tracking(RELAY_TRACKING, last))
        self.position = last
        if self.metrics is not None:
            self.metrics.relay_published.inc(len(section))
        return len(section)
