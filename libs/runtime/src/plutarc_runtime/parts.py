"""What a service's spec becomes around its store: one wiring for the process and for the tests.

`Service` (over Kafka) and the test kit's `Harness` (without) both call `assemble`, so the
authorizer, command path, read models and timers a test drives are the ones the service runs.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta
from typing import TYPE_CHECKING

from plutarc_access import Authorizer

from .clock import Clock
from .commands import CommandProcessor
from .metrics import Metrics
from .store import EventStore
from .timers import ReadModels, TimerRunner

if TYPE_CHECKING:
    from .service import ServiceSpec


@dataclass
class Parts:
    authorizer: Authorizer | None
    processor: CommandProcessor
    models: ReadModels
    timers: TimerRunner


def assemble(
    spec: ServiceSpec,
    store: EventStore,
    clock: Clock,
    metrics: Metrics,
    *,
    max_age: timedelta | None = None,
) -> Parts:
    authorizer = spec.authorizer(store, clock) if spec.authorizer else None
    for collector in spec.collectors:
        metrics.registry.register(collector)
    models = ReadModels([make() for make in spec.read_models]).follow(store)
    processor = CommandProcessor(
        store,
        spec.registry,
        spec.handlers,
        clock,
        metrics,
        transient=spec.transient_errors,
        authorizer=authorizer,
        reactions=spec.reactions,
        max_age=max_age,
        models=models,
    )
    timers = TimerRunner(
        spec.name, spec.timers, clock, models, processor.execute, spec.registry, metrics
    )
    return Parts(authorizer, processor, models, timers)
