"""Timers: scheduled work on the injectable clock, issued as commands to the service itself.

A timer declares how often it runs and a pure ``decide(now, models)`` that returns commands from
the service's read models (an index of what falls due). Each command goes through the service's
own idempotent command path with actor ``system:<service>``, so it is checked by the aggregates,
recorded in the audit log, and its id derives from the timer and the command's content: a pass
repeated after a crash issues the same ids and changes nothing twice.

``run_due()`` is one pass at the clock's current instant; tests call it after moving a FakeClock.
The service calls it every ``poll`` seconds of real time (timers whose interval has not elapsed on
the clock are skipped).
"""

from __future__ import annotations

import asyncio
import contextlib
import heapq
import logging
import threading
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any, TypeVar
from uuid import NAMESPACE_URL, uuid5

import msgspec
from eventsourcing.persistence import Notification
from plutarc_contracts import CommandRejected, Registry

from .clock import Clock
from .metrics import Metrics
from .store import EventStore

log = logging.getLogger(__name__)
TIMER_NS = uuid5(NAMESPACE_URL, "https://plutarc.dev/ns/timer")
M = TypeVar("M")


class ReadModels:
    """The service's read models of its own events, by class (timers look theirs up here).

    They follow the store's notification log: brought up to date at start and right after every
    save, in the saving thread, so a timer never decides from a view older than the last write.
    """

    def __init__(self, models: Sequence[Any] = ()) -> None:
        self._models = {type(m): m for m in models}
        self._wanted = self._declared_types()
        self.position = 0
        self.lock = threading.Lock()
        self._store: EventStore | None = None

    def follow(self, store: EventStore) -> ReadModels:
        """Catch up with `store` now and after each of its saves."""
        self._store = store
        self.catch_up()
        store.on_appended(self._on_appended)
        return self

    def _on_appended(self, notifications: Sequence[Notification], _hashes: Any) -> None:
        """Apply what a save handed over if it directly follows; read the store on a gap (a save
        in another thread or process that came first)."""
        if self._store is None or not self._models:
            return
        with self.lock:
            if notifications[-1].id <= self.position:
                return  # read from the store already, after a gap
            if notifications[0].id == self.position + 1:
                self._apply(notifications)
            else:
                self._read()

    def catch_up(self) -> int:
        if self._store is None or not self._models:
            return 0
        with self.lock:
            return self._read()

    def _read(self) -> int:
        assert self._store is not None
        applied = 0
        while section := self._store.notifications(self.position + 1, 5000):
            applied += self._apply(section)
        return applied

    def _apply(self, section: Sequence[Notification]) -> int:
        assert self._store is not None
        decode = self._store.registry.decode_event
        wanted = self._wanted
        applied = 0
        for n in section:
            if wanted is not None and n.topic not in wanted:
                continue  # no model reads this type: not even decoded
            env = decode(n.state)
            for model in self._models.values():
                model.apply(env)
            applied += 1
        self.position = section[-1].id
        return applied

    def _declared_types(self) -> frozenset[str] | None:
        """The event types the models read, when every model declares `event_types`."""
        declared = [getattr(m, "event_types", None) for m in self._models.values()]
        if any(d is None for d in declared):
            return None
        return frozenset().union(*declared)  # type: ignore[arg-type]

    def get(self, cls: type[M]) -> M:
        model = self._models.get(cls)
        if model is None:
            raise KeyError(f"no read model {cls.__name__} in this service")
        return model  # type: ignore[no-any-return]


Decide = Callable[[datetime, ReadModels], Sequence[msgspec.Struct]]


@dataclass(frozen=True)
class Timer:
    name: str
    every: timedelta
    decide: Decide


Issue = Callable[..., Any]
"""``issue(actor, payload, command_id=...)`` -> the reply: the service's own command path."""


class TimerRunner:
    def __init__(
        self,
        service: str,
        timers: Sequence[Timer],
        clock: Clock,
        models: ReadModels,
        issue: Issue,
        registry: Registry,
        metrics: Metrics | None = None,
    ) -> None:
        self.service = service
        self.timers = list(timers)
        self.clock = clock
        self.models = models
        self.issue = issue
        self.registry = registry
        self.metrics = metrics
        self.next_at: dict[str, datetime] = {}

    def command_id(self, timer: Timer, payload: msgspec.Struct) -> str:
        name, _ = self.registry.type_name_of(type(payload))
        body = msgspec.json.encode(payload).decode()
        return str(uuid5(TIMER_NS, f"{self.service}\x1f{timer.name}\x1f{name}\x1f{body}"))

    def run_due(self) -> int:
        """One pass: every timer whose time has come decides and issues; returns commands issued."""
        now = self.clock.now()
        issued = 0
        for timer in self.timers:
            due = self.next_at.get(timer.name)
            if due is not None and due > now:
                continue
            self.next_at[timer.name] = now + timer.every
            with self.models.lock:  # the views change as saves land, in other threads
                commands = timer.decide(now, self.models)
            for payload in commands:
                reply = self.issue(
                    f"system:{self.service}", payload, command_id=self.command_id(timer, payload)
                )
                if isinstance(reply, CommandRejected):
                    log.error(
                        "a timer's command was rejected",
                        extra={"timer": timer.name, "code": reply.code, "detail": reply.detail},
                    )
                issued += 1
            if self.metrics is not None:
                self.metrics.timer_runs.labels(timer.name, "passes").inc()
                self.metrics.timer_runs.labels(timer.name, "commands").inc(len(commands))
        return issued

    async def run(self, stop: asyncio.Event, poll: float = 1.0) -> None:
        while not stop.is_set():
            try:
                await asyncio.to_thread(self.run_due)
            except Exception as exc:  # the store is down, say: the next pass tries again
                log.warning("timer pass failed", extra={"error": repr(exc)})
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(stop.wait(), poll)


class Deadlines:
    """Keys with a deadline, for a timer's read model: a pass finds what fell due without looking
    at the rest (a heap; the dict is the truth, stale heap entries are skipped). Keys that fell due
    leave the heap for `due_now`, where they stay until the model sets or drops them again (an
    event settled them), so a pass repeated before that issues the same decision again."""

    def __init__(self) -> None:
        self.deadline: dict[Any, datetime] = {}
        self.heap: list[tuple[datetime, Any]] = []
        self.due_now: set[Any] = set()

    def __len__(self) -> int:
        return len(self.deadline)

    def set(self, key: Any, at: datetime) -> None:
        if self.deadline.get(key) == at and key not in self.due_now:
            return  # already scheduled for exactly then
        self.deadline[key] = at
        self.due_now.discard(key)
        heapq.heappush(self.heap, (at, key))

    def drop(self, key: Any) -> None:
        self.deadline.pop(key, None)
        self.due_now.discard(key)

    def due(self, now: datetime) -> list[Any]:
        heap, deadline = self.heap, self.deadline
        while heap and heap[0][0] <= now:
            at, key = heapq.heappop(heap)
            if deadline.get(key) == at:
                self.due_now.add(key)
        if len(heap) > 2 * len(deadline) + 1024:  # drop stale entries now and then
            self.heap = [(at, key) for key, at in deadline.items() if key not in self.due_now]
            heapq.heapify(self.heap)
        return list(self.due_now)


def by_batches(items: Sequence[Any], size: int) -> Iterator[Sequence[Any]]:
    for start in range(0, len(items), size):
        yield items[start : start + size]
