"""A service process: its store, outbox relay, command handler, event consumers and ops endpoint.

`ServiceSpec` is what a service declares (its registry, topics, aggregates and handlers);
`Service` wires real adapters around it (cosmicpython's bootstrap). Nothing here is domain logic.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import signal
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from aiokafka import AIOKafkaClient
from plutarc_contracts import (
    DEAD_LETTERED,
    ContextTopics,
    Registry,
    Topic,
    commands_topic,
    deadletter_topic,
    declare_deadletter,
    topics_of,
)

from .bus import ensure_topics, make_producer
from .clock import Clock, SystemClock
from .commands import CommandHandler, CommandOutcome, CommandProcessor
from .consumer import Consumer, EventHandler, EventProcessor
from .domain import Aggregate
from .logs import configure_logging
from .metrics import Metrics
from .ops import OpsServer, ops_app
from .relay import OutboxRelay
from .settings import RuntimeSettings
from .store import EventStore

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class Subscription:
    """Events from other services' topics that this service applies to its own store."""

    name: str
    topics: Sequence[str]
    make_handler: Callable[[EventStore, Clock], EventHandler]


@dataclass
class ServiceSpec:
    name: str
    registry: Registry
    context: str | None = None
    stream_types: Sequence[type[Aggregate]] = ()
    command_handlers: Callable[[EventStore, Clock], Mapping[str, CommandHandler]] | None = None
    subscriptions: Sequence[Subscription] = ()
    context_topics: ContextTopics | None = None
    """The context's topics when they are not in the catalogue (tests); normally looked up."""
    transient_errors: tuple[type[Exception], ...] = ()
    """Errors that mean a dependency is down, not that the message is bad: its consumers retry
    the message after a backoff instead of dead-lettering it (the store's are always included)."""

    @property
    def topic_context(self) -> str:
        return self.context or self.name

    def declared_topics(self) -> ContextTopics:
        """The context's topics as contracts declare them: `context_topics`, else the catalogue's."""
        return self.context_topics or topics_of(self.topic_context)

    def topics(self) -> list[Topic]:
        return [*self.declared_topics().all(), declare_deadletter(self.name)]

    def route(self, type_name: str) -> str:
        """The topic an event of this type is published to, as its context's contracts route it."""
        if type_name == DEAD_LETTERED:
            return deadletter_topic(self.name)
        return self.declared_topics().route(type_name)


class Service:
    def __init__(
        self,
        spec: ServiceSpec,
        settings: RuntimeSettings,
        *,
        clock: Clock | None = None,
        consumer_overrides: dict[str, Any] | None = None,
    ) -> None:
        self.spec = spec
        self.settings = settings
        self.clock = clock or SystemClock()
        self.metrics = Metrics(spec.name)
        self.consumer_overrides = consumer_overrides or {}
        self.store = EventStore(
            name=spec.name,
            producer=spec.name,
            registry=spec.registry,
            database_url=settings.database_url,
            sqlite_path=settings.sqlite_path(spec.name),
            clock=self.clock,
            snapshot_interval=settings.snapshot_interval,
            aggregate_cache=settings.aggregate_cache,
            stream_types=[*spec.stream_types, CommandOutcome],
        )
        self.probe: AIOKafkaClient | None = None
        self.relay: OutboxRelay | None = None
        self.consumers: list[Consumer] = []
        self.ops: OpsServer | None = None
        self.started = asyncio.Event()

    def route(self, type_name: str) -> str:
        return self.spec.route(type_name)

    def _consumer(self, name: str, topics: Sequence[str], processor: Any) -> Consumer:
        return Consumer(
            name=name,
            store=self.store,
            registry=self.spec.registry,
            bootstrap=self.settings.kafka_bootstrap,
            topics=topics,
            processor=processor,
            clock=self.clock,
            metrics=self.metrics,
            transient=self.spec.transient_errors,
            **self.consumer_overrides,
        )

    async def _check_store(self) -> None:
        await asyncio.to_thread(self.store.max_notification_id)

    async def _check_broker(self) -> None:
        assert self.probe is not None
        await self.probe.fetch_all_metadata()

    async def run(self, stop: asyncio.Event) -> None:
        s = self.settings
        await ensure_topics(s.kafka_bootstrap, self.spec.topics())
        self.probe = AIOKafkaClient(
            bootstrap_servers=s.kafka_bootstrap, client_id=f"{self.spec.name}-probe"
        )
        await self.probe.bootstrap()
        self.relay = OutboxRelay(
            self.store,
            lambda: make_producer(
                s.kafka_bootstrap, client_id=f"{self.spec.name}-relay", linger_ms=0
            ),
            self.route,
            metrics=self.metrics,
        )
        if self.spec.command_handlers:
            handlers = self.spec.command_handlers(self.store, self.clock)
            processor = CommandProcessor(
                self.store,
                self.spec.registry,
                handlers,
                self.clock,
                self.metrics,
                transient=self.spec.transient_errors,
            )
            self.consumers.append(
                self._consumer(
                    f"{self.spec.name}.commands",
                    [commands_topic(self.spec.topic_context)],
                    processor,
                )
            )
        for sub in self.spec.subscriptions:
            self.consumers.append(
                self._consumer(
                    f"{self.spec.name}.{sub.name}",
                    sub.topics,
                    EventProcessor(
                        self.store, self.spec.registry, sub.make_handler(self.store, self.clock)
                    ),
                )
            )
        checks = {"store": self._check_store, "broker": self._check_broker}
        self.ops = OpsServer(
            ops_app(self.spec.name, self.metrics, checks), s.http_host, s.http_port
        )
        tasks = [
            asyncio.create_task(self.relay.run(stop), name="relay"),
            asyncio.create_task(self.ops.run(stop), name="ops"),
            *(asyncio.create_task(c.run(stop), name=c.name) for c in self.consumers),
        ]
        self.started.set()
        try:
            done, _ = await asyncio.wait(
                [asyncio.create_task(stop.wait()), *tasks], return_when=asyncio.FIRST_EXCEPTION
            )
            for task in done:
                if task.exception() is not None:
                    raise task.exception()  # type: ignore[misc]
        finally:
            stop.set()
            for task in tasks:
                with contextlib.suppress(asyncio.CancelledError, Exception):
                    await asyncio.wait_for(task, 10)
            await self.probe.close()
            self.store.close()


def run_service(
    spec: ServiceSpec,
    settings: RuntimeSettings | None = None,
    on_started: Callable[[Service], None] | None = None,
) -> None:
    """Entry point for a service process: JSON logs, SIGINT/SIGTERM stop it cleanly."""
    settings = settings or RuntimeSettings()
    configure_logging(spec.name, settings.log_level, settings.log_json)

    async def main() -> None:
        stop = asyncio.Event()
        loop = asyncio.get_running_loop()
        for sig in (signal.SIGINT, signal.SIGTERM):
            loop.add_signal_handler(sig, stop.set)
        service = Service(spec, settings)
        runner = asyncio.create_task(service.run(stop))
        await asyncio.wait(
            [asyncio.ensure_future(service.started.wait()), runner],
            return_when=asyncio.FIRST_COMPLETED,
        )
        if runner.done():
            runner.result()
        log.info(
            "service started",
            extra={
                "ops_port": service.ops.port if service.ops else None,
                "kafka": settings.kafka_bootstrap,
                "store": service.store.backend,
            },
        )
        if on_started is not None:
            on_started(service)
        await runner

    asyncio.run(main())
