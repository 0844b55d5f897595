"""A service built from its spec, on a chosen backend, without Kafka: the service-level test tier.

`Harness(spec, ...)` wires what `Service` wires (store, authorizer, command processor with the
spec's handlers and reactions, read models, timers and the intent worker with the spec's
adapters, fakes from the test), on a FakeClock. Commands go through the same idempotent path as
over Kafka; `deliver` hands an event from another context to the spec's subscriptions; `advance`
moves simulated time and runs the timers that fell due; `drain_intents` runs the adapter worker
until nothing is pending. Aggregates are tested without any of this (the unit tier).
"""

from __future__ import annotations

import asyncio
import contextlib
from datetime import timedelta
from pathlib import Path
from typing import Any

import msgspec
from plutarc_contracts import CommandAccepted, CommandRejected, Envelope
from plutarc_contracts.system import INTENT_COMPLETED, INTENT_FAILED, INTENT_RECORDED
from plutarc_runtime.clock import FakeClock
from plutarc_runtime.commands import CommandOutcome
from plutarc_runtime.consumer import EventProcessor
from plutarc_runtime.intents import IntentStream, IntentWorker
from plutarc_runtime.metrics import Metrics
from plutarc_runtime.parts import assemble
from plutarc_runtime.service import ServiceSpec
from plutarc_runtime.store import EventStore

from .waiting import until


class Harness:
    def __init__(
        self,
        spec: ServiceSpec,
        *,
        sqlite_path: Path | None = None,
        database_url: str | None = None,
        clock: FakeClock | None = None,
        aggregate_cache: int = 1000,
    ) -> None:
        self.spec = spec
        self.clock = clock or FakeClock()
        self.metrics = Metrics(spec.name)
        self.store = EventStore(
            name=spec.name,
            producer=spec.name,
            registry=spec.registry,
            database_url=database_url,
            sqlite_path=sqlite_path,
            clock=self.clock,
            stream_types=[*spec.stream_types, CommandOutcome, IntentStream],
            aggregate_cache=aggregate_cache,
        )
        parts = assemble(spec, self.store, self.clock, self.metrics)
        self.authorizer, self.processor = parts.authorizer, parts.processor
        self.models, self.timers = parts.models, parts.timers
        self.subscribers = [
            EventProcessor(
                self.store,
                spec.registry,
                sub.make_handler(self.store, self.clock) if sub.make_handler else None,
                sub.reactions,
                self.clock,
            )
            for sub in spec.subscriptions
        ]

    # -- commands and events ----------------------------------------------------------------------
    def send(
        self,
        actor: str,
        payload: msgspec.Struct,
        *,
        workspace_id: str | None = None,
        command_id: str | None = None,
    ) -> CommandAccepted | CommandRejected:
        if workspace_id is None:
            workspace_id = getattr(payload, "workspace_id", None)
        return self.processor.execute(
            actor, payload, workspace_id=workspace_id, command_id=command_id
        )

    def ok(self, actor: str, payload: msgspec.Struct) -> CommandAccepted:
        reply = self.send(actor, payload)
        assert isinstance(reply, CommandAccepted), reply
        return reply

    def rejected(self, actor: str, payload: msgspec.Struct, code: str) -> CommandRejected:
        """Expect a rejection with `code` that stored nothing but its outcome."""
        before = self.domain_events()
        reply = self.send(actor, payload)
        assert isinstance(reply, CommandRejected), f"expected {code}, got {reply}"
        assert reply.code == code, reply
        assert self.domain_events() == before, "a rejected command must not change anything"
        return reply

    def deliver(self, env: Envelope) -> str:
        """Hand an event of another context to every subscription, as their consumers would."""
        outcome = "ignored"
        for processor in self.subscribers:
            work = processor(self.spec.registry.encode_event(env))
            if work.aggregates or work.extra:
                assert work.meta is not None
                self.store.save(
                    *work.aggregates, meta=work.meta, inbox_ids=work.inbox_ids, extra=work.extra
                )
            outcome = work.outcome
        return outcome

    # -- reading ----------------------------------------------------------------------------------
    def events(self, prefix: str = "") -> list[Envelope]:
        decode = self.spec.registry.decode_event
        return [
            decode(n.state)
            for n in self.store.notifications(1, 10_000_000)
            if n.topic.startswith(prefix)
        ]

    def domain_events(self) -> list[tuple[str, int]]:
        return [
            (str(n.originator_id), n.originator_version)
            for n in self.store.notifications(1, 10_000_000)
            if not n.topic.startswith("system.")
        ]

    def intents(self, what: str = INTENT_RECORDED) -> list[Any]:
        return [e.payload for e in self.events("system.intent_") if e.type == what]

    def pending_intents(self) -> int:
        done = {(p.adapter, p.key) for p in self.intents(INTENT_COMPLETED)}
        done |= {(p.adapter, p.key) for p in self.intents(INTENT_FAILED)}
        return sum(1 for p in self.intents() if (p.adapter, p.key) not in done)

    # -- time and side effects --------------------------------------------------------------------
    def advance(self, delta: timedelta) -> int:
        """Move simulated time, then run every timer that fell due; returns commands issued."""
        self.clock.advance(delta)
        return self.timers.run_due()

    def worker(self, **kwargs: Any) -> IntentWorker:
        options = {
            "backoff_initial": 0.01,
            "backoff_max": 0.2,
            "poll_interval": 0.05,
            "outcomes": self.spec.outcomes,
            "adapter_concurrency": self.spec.adapter_concurrency,
            **kwargs,
        }
        return IntentWorker(
            self.store, self.spec.registry, self.spec.adapters, self.clock, self.metrics, **options
        )

    async def drain_intents(self, timeout: float = 20.0, **kwargs: Any) -> None:
        """Run the adapter worker until no intent is pending (completed or failed for good)."""
        worker = self.worker(**kwargs)
        stop = asyncio.Event()
        task = asyncio.create_task(worker.run(stop))
        try:
            await until(
                lambda: self.pending_intents() == 0 or task.done(),
                timeout=timeout,
                what="every intent carried out",
            )
        finally:
            stop.set()
            with contextlib.suppress(asyncio.CancelledError):
                await task

    def close(self) -> None:
        self.store.close()
