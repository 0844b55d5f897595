"""The outbox relay: publishes a store's notification log to Kafka, resuming where it got to.

Delivery is at least once: the position is recorded after Kafka acknowledged a batch, so a crash
between the two republishes that batch; consumers drop the duplicates by `event_id`.

Saves in this process hand their notifications (with chain hashes) to the relay as they commit
(`EventStore.on_appended`). While they directly follow the relay's position it publishes them
without reading the store back; on a gap, on start, after an error and after a quiet poll interval
it reads the store, which is always the reference.

A command's reply is sent only after Kafka acknowledged every record before it: whoever sees a
reply and then reads the end offsets finds the events it reports there (the API's read-your-writes
across topics and partitions rests on this).
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable, Mapping, Sequence
from typing import Any

from aiokafka import AIOKafkaProducer
from eventsourcing.persistence import Notification, Tracking

from .metrics import Metrics
from .store import EventStore, HandOver

log = logging.getLogger(__name__)
REPLY_TYPES = frozenset({"system.command_accepted", "system.command_rejected"})

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
        # What saves in this process committed, published without reading it back (on a gap, the
        # relay reads the store); a relay that falls a batch behind reads the store instead.
        self.handed_over = HandOver(capacity=batch_size)

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
        self.handed_over.attach(asyncio.get_running_loop())
        unsubscribe = self.store.on_appended(self.handed_over)
        read_store = True  # on start: whatever was stored before, or by another process
        try:
            while not stop.is_set():
                self.handed_over.wake.clear()
                try:
                    if self.producer is None:
                        await self.start()
                        read_store = True
                    if read_store:
                        await self.publish_pending()
                    else:
                        await self.publish_fresh()
                except Exception as exc:
                    await self._observe_lag()
                    log.warning(
                        "relay could not publish, retrying",
                        extra={"error": repr(exc), "position": self.position},
                    )
                    await self.close()
                    await self._wait(stop, self.retry_backoff, wake=False)
                    read_store = True
                    continue
                # Woken by a save: publish what it handed over. A quiet interval: read the store,
                # for saves made by other processes.
                read_store = not await self._wait(stop, self.poll_interval)
        finally:
            unsubscribe()
            await self.close()

    async def _wait(self, stop: asyncio.Event, timeout: float, *, wake: bool = True) -> bool:
        """Wait for `timeout`, or less if stopped or (when `wake`) if the store saved something;
        True when a save woke it."""
        saved = self.handed_over.wake
        if wake and saved.is_set():
            return True
        waiters = {asyncio.ensure_future(stop.wait())}
        if wake:
            waiters.add(asyncio.ensure_future(saved.wait()))
        await asyncio.wait(waiters, timeout=timeout, return_when=asyncio.FIRST_COMPLETED)
        for waiter in waiters:
            waiter.cancel()
        return wake and saved.is_set()

    async def publish_pending(self) -> int:
        """Publish everything stored after the recorded position; returns how many were sent."""
        total = 0
        while sent := await self.publish_batch():
            total += sent
        await self._observe_lag()
        return total

    async def publish_fresh(self) -> int:
        """Publish what saves in this process handed over, without reading the store back, as long
        as it directly follows the position; on a gap read the store instead. Returns how many
        were sent."""
        total = 0
        while self.handed_over.behind(self.position):
            section, hashes = self.handed_over.take(self.position, self.batch_size)
            if section:
                total += await self._publish(section, hashes)
            elif sent := await self.publish_batch():
                # A gap: a save in another thread has not handed over yet (or a hand-over was
                # dropped, or ids were skipped): the store has it all.
                total += sent
            else:
                break
        if self.metrics is not None:
            self.metrics.relay_lag.set(max(0, self.handed_over.announced - self.position))
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
        return await self._publish(section, hashes)

    async def _publish(self, section: Sequence[Notification], hashes: Mapping[int, bytes]) -> int:
        """Send a section in order, wait for Kafka's acknowledgements, then record the position.

        A reply goes out only once the events before it are on the log, so whoever sees the reply
        and then reads the log's end finds them (read-your-writes). Replies are held back and sent
        together once what came before them is acknowledged: one wait for a section of many
        commands, not one per reply. A topic's order is kept: an event for a topic with replies
        held back waits for them to be sent first."""
        assert self.producer is not None, "start() the relay first"
        producer = self.producer
        futures: list[Any] = []
        held: list[tuple[str, Notification]] = []
        held_topics: set[str] = set()

        async def send(topic: str, n: Notification) -> None:
            headers = [("type", n.topic.encode()), ("position", str(n.id).encode())]
            chain_hash = hashes.get(n.id)
            if chain_hash is not None:
                headers.append(("chain", chain_hash.hex().encode()))
            futures.append(
                await producer.send(
                    topic, value=n.state, key=str(n.originator_id).encode(), headers=headers
                )
            )

        async def release() -> None:
            await asyncio.gather(*futures)
            futures.clear()
            for topic, n in held:
                await send(topic, n)
            held.clear()
            held_topics.clear()

        for n in section:
            topic = self.route(n.topic)
            if topic is None:  # kept in the store only (intents, which may carry secrets)
                continue
            if n.topic in REPLY_TYPES:
                held.append((topic, n))
                held_topics.add(topic)
                continue
            if topic in held_topics:
                await release()
            await send(topic, n)
        if held:
            await release()
        await asyncio.gather(*futures)
        last = section[-1].id
        await asyncio.to_thread(self.store.recorder.insert_tracking, Tracking(RELAY_TRACKING, last))
        self.position = last
        if self.metrics is not None:
            self.metrics.relay_published.inc(len(section))
        return len(section)
