"""A service process: its store, outbox relay, command handler, event consumers, reactions and
their adapter worker, timers, read models and ops endpoint.

`ServiceSpec` is what a service declares (registry, aggregates, handlers by command class,
reactions by event class, adapters, timers, read models, how it authorizes); `Service` runs it.
A service's `bootstrap.build()` returns its spec. Nothing here is domain logic.
"""

from __future__ import annotations

import asyncio
import logging
import signal
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import timedelta
from typing import Any, Protocol

from aiokafka import AIOKafkaClient
from plutarc_access import Authorizer
from plutarc_contracts import (
    DEAD_LETTERED,
    CommandAccepted,
    CommandRejected,
    ContextTopics,
    Registry,
    Topic,
    commands_topic,
    deadletter_topic,
    declare_deadletter,
    topics_of,
)
from plutarc_contracts.system import INTENT_EVENTS

from .bus import ensure_topics, make_producer
from .clock import Clock, SystemClock
from .commands import CommandOutcome
from .consumer import Consumer, EventHandler, EventProcessor
from .domain import Aggregate
from .handling import Handlers, Reactions, ReadModel
from .intents import Adapter, IntentStream, IntentWorker, OutcomeHandler
from .logs import configure_logging
from .metrics import Metrics
from .ops import OpsServer, ops_app
from .parts import assemble
from .projection import Projection, ReplayConsumer
from .relay import OutboxRelay
from .settings import RuntimeSettings
from .store import EventStore
from .timers import Timer

log = logging.getLogger(__name__)

CATCH_UP_SECONDS = 5.0
"""How long a refused command waits for the service's followers to apply their topics' newest
events before its refusal stands (`handling.CatchUpFirst`)."""


@dataclass(frozen=True)
class Subscription:
    """Events from other services' topics that this service applies to its own store, or reacts
    to (intents recorded with the consumer's position)."""

    name: str
    topics: Sequence[str]
    make_handler: Callable[[EventStore, Clock], EventHandler] | None = None
    reactions: Reactions = field(default_factory=dict)


@dataclass(frozen=True)
class Replayed:
    """In-memory projections of other contexts' topics, replayed from offset 0 at start (such as
    the `Memberships` a service authorizes with)."""

    name: str
    topics: Sequence[str]
    projections: Sequence[Projection]


AuthorizerFactory = Callable[[EventStore, Clock], Authorizer]
Execute = Callable[..., CommandAccepted | CommandRejected]
"""The service's own idempotent command path: `execute(actor, payload, *, workspace_id,
command_id)` (CommandProcessor.execute); blocking, so call it in a thread."""


class Inbound(Protocol):
    """A source of commands from outside the bus (operators answering an alert in Telegram). It
    runs beside the service until `stop` and hands each command to `execute` with a command id
    derived from what it received, so something received twice is handled once. It keeps
    going through its own outages (it must not raise)."""

    name: str

    async def run(self, execute: Execute, stop: asyncio.Event) -> None: ...


@dataclass
class ServiceSpec:
    name: str
    registry: Registry
    context: str | None = None
    stream_types: Sequence[type[Aggregate]] = ()
    handlers: Handlers = field(default_factory=dict)
    """{CommandClass: handler(payload, ctx) -> Accepted}"""
    reactions: Reactions = field(default_factory=dict)
    """{EventClass: reaction(occurred) -> [Intent]} for the service's own events"""
    adapters: Mapping[str, Adapter] = field(default_factory=dict)
    """Adapter name -> what carries out intents for it (real or fake, chosen by bootstrap)"""
    outcomes: Mapping[str, OutcomeHandler] = field(default_factory=dict)
    """Adapter name -> what its intents' outcomes change in the domain (`intents.Outcome`)"""
    adapter_concurrency: Mapping[str, int] = field(default_factory=dict)
    """Adapter name -> intents carried out at once (16 when not named)"""
    timers: Sequence[Timer] = ()
    read_models: Sequence[Callable[[], ReadModel]] = ()
    """Factories of views of the service's own events (timers decide from them)"""
    authorizer: AuthorizerFactory | None = None
    """How `ctx.require` decides: identity reads its own aggregates; a service that follows
    identity returns `memberships.authorizer(clock.now)` over a `Replayed` Memberships projection"""
    subscriptions: Sequence[Subscription] = ()
    replayed: Sequence[Replayed] = ()
    context_topics: ContextTopics | None = None
    """The context's topics when they are not in the catalogue (tests); normally looked up."""
    inbound: Sequence[Inbound] = ()
    """Sources of commands from outside the bus, run beside the service (`Inbound`)."""
    collectors: Sequence[Any] = ()
    """Prometheus collectors of the service's own (objects with ``collect()``, computed from its
    read models at each scrape), served on ``/metrics`` beside the runtime's."""
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

    def route(self, type_name: str) -> str | None:
        """The topic an event of this type is published to, as its context's contracts route it;
        None for intents, which (holding secrets) stay in the store, the audit log."""
        if type_name == DEAD_LETTERED:
            return deadletter_topic(self.name)
        if type_name in INTENT_EVENTS:
            return None
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
            stream_types=[*spec.stream_types, CommandOutcome, IntentStream],
        )
        ttl = settings.command_ttl_seconds
        parts = assemble(
            spec,
            self.store,
            self.clock,
            self.metrics,
            max_age=timedelta(seconds=ttl) if ttl else None,
        )
        self.authorizer, self.processor = parts.authorizer, parts.processor
        self.models, self.timers = parts.models, parts.timers
        self.intents = IntentWorker(
            self.store,
            spec.registry,
            spec.adapters,
            self.clock,
            self.metrics,
            outcomes=spec.outcomes,
            adapter_concurrency=spec.adapter_concurrency,
        )
        self.probe: AIOKafkaClient | None = None
        self.relay: OutboxRelay | None = None
        self.consumers: list[Consumer] = []
        self.replays: list[ReplayConsumer] = []
        self.ops: OpsServer | None = None
        self.started = asyncio.Event()

    def route(self, type_name: str) -> str | None:
        return self.spec.route(type_name)

    def _consumer(
        self, name: str, topics: Sequence[str], processor: Any, **batching: Any
    ) -> Consumer:
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
            **batching,
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
        replays = [
            ReplayConsumer(
                name=f"{self.spec.name}.{r.name}",
                bootstrap=s.kafka_bootstrap,
                topics=r.topics,
                registry=self.spec.registry,
                projections=r.projections,
            )
            for r in self.spec.replayed
        ]
        self.replays = replays

        async def catch_up() -> None:
            await asyncio.gather(*(r.catch_up(CATCH_UP_SECONDS) for r in replays))

        # A refusal for what the followers tell (no such workspace, not a member, no such bot) is
        # decided again once they caught up: the write that changes it may be on its way.
        self.processor.catch_up_first = bool(replays)
        if self.spec.handlers:
            self.consumers.append(
                self._consumer(
                    f"{self.spec.name}.commands",
                    [commands_topic(self.spec.topic_context)],
                    self.processor,
                    batch_size=s.command_batch,
                    single_writer=s.single_writer,
                    cache_size=s.aggregate_cache,
                    catch_up=catch_up if replays else None,
                )
            )
        for sub in self.spec.subscriptions:
            handler = sub.make_handler(self.store, self.clock) if sub.make_handler else None
            self.consumers.append(
                self._consumer(
                    f"{self.spec.name}.{sub.name}",
                    sub.topics,
                    EventProcessor(
                        self.store, self.spec.registry, handler, sub.reactions, self.clock
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
            asyncio.create_task(self.intents.run(stop), name="intents"),
            *(asyncio.create_task(r.run(stop), name=r.name) for r in replays),
            asyncio.create_task(self.timers.run(stop, s.timer_poll), name="timers"),
            *(asyncio.create_task(c.run(stop), name=c.name) for c in self.consumers),
            *(
                asyncio.create_task(i.run(self.processor.execute, stop), name=f"inbound.{i.name}")
                for i in self.spec.inbound
            ),
        ]
        self.started.set()
        stopping = asyncio.create_task(stop.wait(), name="stop")
        try:
            # Until `stop`, or a part fails (a part that ends on its own is let go). Not until
            # every part has ended: one that ignores `stop` would hold the service for good.
            waiting: set[asyncio.Task[Any]] = {stopping, *tasks}
            while stopping in waiting:
                done, waiting = await asyncio.wait(waiting, return_when=asyncio.FIRST_COMPLETED)
                for task in done:
                    if task is not stopping and not task.cancelled() and task.exception():
                        raise task.exception()  # type: ignore[misc]
        finally:
            stop.set()
            await stop_tasks([*tasks, stopping])
            await self.probe.close()
            self.store.close()


STOP_GRACE_SECONDS = 30.0
"""How long a stopping service waits for its parts to end on `stop` before it cancels them."""


async def stop_tasks(tasks: Sequence[asyncio.Task[Any]]) -> None:
    """Wait for `tasks` to end (they were told to stop), at most STOP_GRACE_SECONDS in all;
    cancel the rest and give them 5 s more. A task that ignores even that is logged and left:
    it must not hold the service's stop forever (asyncio.wait_for would wait for it to end)."""
    if not tasks:
        return
    _, pending = await asyncio.wait(tasks, timeout=STOP_GRACE_SECONDS)
    for task in pending:
        task.cancel()
    if pending:
        _, stuck = await asyncio.wait(pending, timeout=5.0)
        for task in stuck:
            log.error(
                "a task ignored its cancellation; stopping without it",
                extra={"task": task.get_name()},
            )
    for task in tasks:
        if task.done() and not task.cancelled():
            task.exception()  # retrieved: a part's failure at stop is not the stop's


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
