"""A tiny domain used only by the runtime's own tests: counters that open and increment."""

from __future__ import annotations

from datetime import datetime
from typing import Any, ClassVar
from uuid import UUID, uuid4

import msgspec
from plutarc_contracts import Payload, Registry, register_system_types
from plutarc_runtime.domain import Aggregate, DomainError
from plutarc_runtime.handling import Accepted, Context


class CounterOpened(Payload, frozen=True, kw_only=True):
    name: str
    limit: int = 1_000_000


class CounterIncremented(Payload, frozen=True, kw_only=True):
    by: int


class EventTallied(Payload, frozen=True, kw_only=True):
    event_id: str


class OpenCounter(Payload, frozen=True, kw_only=True):
    counter_id: str
    name: str
    limit: int = 1_000_000


class Increment(Payload, frozen=True, kw_only=True):
    counter_id: str
    by: int


def demo_registry() -> Registry:
    registry = register_system_types(Registry())
    registry.register_event("demo.counter_opened", {1: CounterOpened})
    registry.register_event("demo.counter_incremented", {1: CounterIncremented})
    registry.register_event("demo.event_tallied", {1: EventTallied})
    registry.register_command("demo.open_counter", {1: OpenCounter})
    registry.register_command("demo.increment", {1: Increment})
    return registry


class Counter(Aggregate):
    stream_type: ClassVar[str] = "demo.counter"

    name: str
    value: int
    limit: int
    history: list[int]

    @classmethod
    def open(
        cls, name: str, at: datetime, limit: int = 1_000_000, counter_id: UUID | None = None
    ) -> Counter:
        counter = cls(counter_id or uuid4())
        counter._trigger(CounterOpened(name=name, limit=limit), at)
        return counter

    def increment(self, by: int, at: datetime) -> None:
        if by <= 0:
            raise DomainError("increments must be positive", code="demo.bad_increment", field="by")
        if self.value + by > self.limit:
            raise DomainError(f"counter would pass its limit {self.limit}", code="demo.over_limit")
        self._trigger(CounterIncremented(by=by), at)

    def apply(self, payload: msgspec.Struct, at: datetime) -> None:
        match payload:
            case CounterOpened(name=name, limit=limit):
                self.name, self.value, self.limit, self.history = name, 0, limit, []
            case CounterIncremented(by=by):
                self.value += by
                self.history.append(by)


class Tally(Aggregate):
    """One per consumed event: a consumer that applied an event twice would fail on the stream id."""

    stream_type: ClassVar[str] = "demo.tally"
    event_id: str

    def apply(self, payload: msgspec.Struct, at: datetime) -> None:
        assert isinstance(payload, EventTallied)
        self.event_id = payload.event_id


def open_counter(payload: OpenCounter, ctx: Context) -> Accepted:
    counter_id = UUID(payload.counter_id)
    if ctx.store.find(Counter, counter_id) is not None:
        raise DomainError("counter exists already", code="demo.counter_exists")
    counter = Counter.open(payload.name, ctx.now, payload.limit, counter_id)
    return Accepted([counter], {"counter_id": str(counter.id)})


def increment(payload: Increment, ctx: Context) -> Accepted:
    counter = ctx.store.get(Counter, UUID(payload.counter_id))
    counter.increment(payload.by, ctx.now)
    return Accepted([counter], {"value": counter.value})


HANDLERS: dict[type[Any], Any] = {OpenCounter: open_counter, Increment: increment}
