"""Intents and the adapter worker: side effects recorded first, carried out after, exactly once.

A reaction or a handler returns ``Intent``s; they are saved as ``system.intent_recorded`` events
of an ``IntentStream`` (stream id from adapter and key, so the same decision is recorded once) in
the same transaction as the change or the consumer position that caused them. The worker reads
the store's notification log, carries out each pending intent through its adapter with retries
(tenacity: exponential backoff with jitter, or longer when the adapter raises ``RetryLater``
with the delay the outside world asked for, such as a 429's retry_after), and records the outcome: ``intent_completed``, or
``intent_failed`` for a permanent refusal or when it gives up. Attempts that fail for a reason
that may pass are recorded too (``intent_attempt_failed``), so the audit log shows the outage.

While the outside world is down nothing is lost (the intent stays pending in the store, and a
restarted worker finds it again) and nothing is sent twice, except in one window no store can
close: a crash after the adapter acted and before its outcome was saved. The adapter receives the
intent's stable key for that case (an SMTP Message-ID, an exchange client order id).
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any, ClassVar, Literal, Protocol
from uuid import NAMESPACE_URL, UUID, uuid5

import msgspec
from eventsourcing.persistence import IntegrityError, Notification, Tracking
from plutarc_contracts import Registry
from plutarc_contracts.system import (
    INTENT_COMPLETED,
    INTENT_EVENTS,
    INTENT_FAILED,
    INTENT_RECORDED,
    IntentAttemptFailed,
    IntentCompleted,
    IntentFailed,
    IntentRecorded,
)
from tenacity import (
    AsyncRetrying,
    RetryCallState,
    retry_if_not_exception_type,
    wait_exponential_jitter,
)

from .clock import Clock
from .domain import Aggregate
from .handling import Accepted, Intent
from .metrics import Metrics
from .store import EventStore, HandOver, Meta

log = logging.getLogger(__name__)

INTENT_NS = uuid5(NAMESPACE_URL, "https://plutarc.dev/ns/intent")
WORKER_TRACKING = "intent-worker"
SECTION = 5000


def intent_id(adapter: str, key: str) -> UUID:
    return uuid5(INTENT_NS, f"{adapter}\x1f{key}")


class PermanentFailure(Exception):
    """An adapter's refusal that no retry can change (a rejected recipient, an invalid order)."""


class RetryLater(Exception):
    """A refusal that says when to try again (Telegram's 429 `retry_after`, HTTP `Retry-After`):
    the worker waits at least `after` seconds (at most `RETRY_LATER_CAP`) before the next attempt,
    longer if its own backoff is longer. The attempt counts as failed like any other."""

    def __init__(self, message: str, after: float) -> None:
        super().__init__(message)
        self.after = max(0.0, after)


RETRY_LATER_CAP = 600.0


def _wait_with_retry_later(backoff: Any) -> Callable[[RetryCallState], float]:
    def wait(state: RetryCallState) -> float:
        base = float(backoff(state))
        failed = state.outcome.exception() if state.outcome is not None else None
        if isinstance(failed, RetryLater):
            return max(base, min(failed.after, RETRY_LATER_CAP))
        return base

    return wait


@dataclass(frozen=True)
class RetryPolicy:
    """How long an adapter's intents are retried while the outside world fails. An adapter may
    carry one as its `retry` attribute; without it the worker's own limits apply.

    `max_attempts` None: no limit by count (an alert held back by a long outage still goes out
    when the outside world is back). `give_up_after`: measured on the service's clock from when
    the intent was recorded. `backoff_max`: the longest wait between two attempts (seconds)."""

    max_attempts: int | None = 30
    give_up_after: timedelta | None = None
    backoff_max: float | None = None


class Adapter(Protocol):
    """Carries out intents for one adapter name; returns a small result to record."""

    async def __call__(self, intent: IntentRecorded) -> dict[str, Any]: ...


@dataclass(frozen=True)
class Outcome:
    """What became of one attempt of an intent, handed to the service's outcome handler for its
    adapter (`ServiceSpec.outcomes`): ``attempt_failed`` (it will be tried again), ``completed``
    (with the adapter's result) or ``failed`` (given up)."""

    intent: IntentRecorded
    kind: Literal["attempt_failed", "completed", "failed"]
    attempt: int
    result: dict[str, Any]
    error: str | None


OutcomeHandler = Callable[[Outcome, EventStore, datetime], Accepted]
"""``handler(outcome, store, now) -> Accepted``: what an intent's outcome changes in the domain
(a host provisioned with its address), and the intents it leads to (a fallback size). Its
aggregates and intents are saved in the same transaction as the outcome itself, so the domain
never misses an outcome and never folds one twice."""


class IntentStream(Aggregate):
    stream_type: ClassVar[str] = "system.intent"

    adapter: str
    key: str
    attempts: int
    done: bool

    @classmethod
    def record(cls, intent: Intent, at: datetime) -> IntentStream:
        stream = cls(intent_id(intent.adapter, intent.key))
        stream._trigger(
            IntentRecorded(
                adapter=intent.adapter, key=intent.key, body=intent.body, secret=intent.secret
            ),
            at,
        )
        return stream

    def attempt_failed(self, error: str, at: datetime) -> None:
        self._trigger(
            IntentAttemptFailed(
                adapter=self.adapter, key=self.key, attempt=self.attempts + 1, error=error[:500]
            ),
            at,
        )

    def complete(self, result: dict[str, Any], at: datetime) -> None:
        self._trigger(
            IntentCompleted(
                adapter=self.adapter, key=self.key, attempts=self.attempts + 1, result=result
            ),
            at,
        )

    def fail(self, error: str, at: datetime) -> None:
        self._trigger(
            IntentFailed(
                adapter=self.adapter, key=self.key, attempts=self.attempts, error=error[:500]
            ),
            at,
        )

    def apply(self, payload: msgspec.Struct, at: datetime) -> None:
        match payload:
            case IntentRecorded():
                self.adapter, self.key, self.attempts, self.done = (
                    payload.adapter,
                    payload.key,
                    0,
                    False,
                )
            case IntentAttemptFailed():
                self.attempts = payload.attempt
            case IntentCompleted() | IntentFailed():
                self.attempts, self.done = payload.attempts, True


def new_intents(store: EventStore, intents: Sequence[Intent], at: datetime) -> list[IntentStream]:
    """Streams for the intents not recorded before (the key deduplicates a repeated decision)."""
    streams: dict[UUID, IntentStream] = {}
    for intent in intents:
        sid = intent_id(intent.adapter, intent.key)
        if sid not in streams and store.find(IntentStream, sid) is None:
            streams[sid] = IntentStream.record(intent, at)
    return list(streams.values())


def _attempt_failed(error: str) -> Callable[[IntentStream, datetime], None]:
    return lambda stream, at: stream.attempt_failed(error, at)


def _plain(result: Any) -> dict[str, Any]:
    """An adapter's result as plain JSON data; a result that is not is recorded as its repr."""
    try:
        plain = msgspec.to_builtins(result)
    except (TypeError, msgspec.EncodeError):
        return {"unencodable_result": repr(result)[:500]}
    return plain if isinstance(plain, dict) else {"result": plain}


@dataclass
class _Pending:
    notification_id: int
    recorded: IntentRecorded
    at: datetime
    task: asyncio.Task[None] | None = None


class IntentWorker:
    """Carries out a store's pending intents through their adapters (one worker per store)."""

    def __init__(
        self,
        store: EventStore,
        registry: Registry,
        adapters: Mapping[str, Adapter],
        clock: Clock,
        metrics: Metrics | None = None,
        *,
        max_attempts: int = 30,
        backoff_initial: float = 0.2,
        backoff_max: float = 30.0,
        poll_interval: float = 1.0,
        concurrency: int = 16,  # intents carried out at once, per adapter
        mark_interval: float = 1.0,
        outcomes: Mapping[str, OutcomeHandler] | None = None,
        adapter_concurrency: Mapping[str, int] | None = None,
    ) -> None:
        self.store = store
        self.registry = registry
        self.adapters = dict(adapters)
        self.clock = clock
        self.metrics = metrics
        self.max_attempts = max_attempts
        self.backoff_initial = backoff_initial
        self.backoff_max = backoff_max
        self.poll_interval = poll_interval
        self.mark_interval = mark_interval
        self.pending: dict[UUID, _Pending] = {}
        self.position = 0
        self._saved_mark = 0
        self._mark_saved_at = 0.0
        # What saves in this process committed: followed without reading the store back.
        self.handed_over = HandOver(capacity=SECTION)
        # Per adapter, so an outage of one (its intents waiting out their backoff) cannot hold up
        # the intents of another.
        limits = adapter_concurrency or {}
        self._slots = {
            name: asyncio.Semaphore(limits.get(name, concurrency)) for name in self.adapters
        }
        self.outcomes = dict(outcomes or {})

    # -- reading the log --------------------------------------------------------------------------
    def _scan(self) -> list[tuple[int, Any]]:
        """Intent events stored after the position (worker thread)."""
        found: list[tuple[int, Any]] = []
        while section := self.store.notifications(self.position + 1, SECTION):
            found.extend(self._intents_in(section))
        return found

    def _intents_in(self, section: Sequence[Notification]) -> list[tuple[int, Any]]:
        """The intent events of a section that directly follows the position, which moves past it."""
        found = [
            (n.id, self.registry.decode_event(n.state)) for n in section if n.topic in INTENT_EVENTS
        ]
        self.position = section[-1].id
        return found

    async def _read(self, read_store: bool) -> list[tuple[int, Any]]:
        """What saves handed over while it directly follows the position; the store otherwise."""
        found: list[tuple[int, Any]] = []
        while not read_store and self.handed_over.behind(self.position):
            section, _ = self.handed_over.take(self.position, SECTION)
            if not section:
                read_store = True  # a gap (another thread's save, another process, skipped ids)
                break
            found.extend(self._intents_in(section))
        if read_store:
            found.extend(await asyncio.to_thread(self._scan))
        return found

    def _follow(self, found: list[tuple[int, Any]]) -> None:
        for nid, env in found:
            sid = UUID(env.stream_id)
            if env.type == INTENT_RECORDED:
                if env.payload.adapter not in self.adapters:
                    # Kept pending (so the low-water mark stays below it) until a process with
                    # that adapter configured carries it out.
                    log.error("no adapter for an intent", extra={"adapter": env.payload.adapter})
                self.pending.setdefault(sid, _Pending(nid, env.payload, env.occurred_at))
            elif env.type in (INTENT_COMPLETED, INTENT_FAILED):
                self.pending.pop(sid, None)

    def _low_water(self) -> int:
        """Everything at or below this notification id needs no second look after a restart."""
        if not self.pending:
            return self.position
        return min(p.notification_id for p in self.pending.values()) - 1

    async def run(self, stop: asyncio.Event) -> None:
        self.handed_over.attach(asyncio.get_running_loop())
        unsubscribe = self.store.on_appended(self.handed_over)
        self.position = self._saved_mark = await asyncio.to_thread(
            self.store.max_tracking_id, WORKER_TRACKING
        )
        self._mark_saved_at = time.monotonic()
        read_store = True  # on start: whatever was stored before, or by another process
        try:
            while not stop.is_set():
                self.handed_over.wake.clear()
                failed = False
                try:
                    self._follow(await self._read(read_store))
                    await self._save_mark(quiet=read_store)
                except Exception as exc:  # the store is down: retry, lose nothing
                    failed = True
                    log.warning(
                        "intent worker could not read the store", extra={"error": repr(exc)}
                    )
                for sid, item in self.pending.items():
                    if item.task is None and item.recorded.adapter in self.adapters:
                        item.task = asyncio.create_task(self._carry_out(sid, item))
                saved = self.handed_over.wake
                if not saved.is_set():
                    waiters = [
                        asyncio.ensure_future(stop.wait()),
                        asyncio.ensure_future(saved.wait()),
                    ]
                    await asyncio.wait(
                        waiters, timeout=self.poll_interval, return_when="FIRST_COMPLETED"
                    )
                    for w in waiters:
                        w.cancel()
                # Woken by a save: follow what it handed over. After an error or a quiet interval:
                # read the store (saves by other processes are only seen there).
                read_store = failed or not saved.is_set()
        finally:
            unsubscribe()
            tasks = [p.task for p in self.pending.values() if p.task is not None]
            for task in tasks:
                task.cancel()
            await asyncio.gather(*tasks, return_exceptions=True)

    async def _save_mark(self, *, quiet: bool) -> None:
        """Record the low-water mark when it moved, at most every `mark_interval` while saves keep
        coming (a durable write per save would slow every command); a restart reads from there."""
        mark = self._low_water()
        if mark <= self._saved_mark:
            return
        if not quiet and time.monotonic() - self._mark_saved_at < self.mark_interval:
            return
        with contextlib.suppress(IntegrityError):  # recorded already by an earlier life
            await asyncio.to_thread(
                self.store.recorder.insert_tracking, Tracking(WORKER_TRACKING, mark)
            )
        self._saved_mark = mark
        self._mark_saved_at = time.monotonic()

    # -- carrying out -----------------------------------------------------------------------------
    async def _carry_out(self, sid: UUID, item: _Pending) -> None:
        rec = item.recorded
        adapter = self.adapters[rec.adapter]
        policy = getattr(adapter, "retry", None) or RetryPolicy(max_attempts=self.max_attempts)
        stream = await asyncio.to_thread(self.store.get, IntentStream, sid)
        if stream.done:
            return
        first = True
        try:
            async with self._slots[rec.adapter]:
                retrying = AsyncRetrying(
                    wait=_wait_with_retry_later(
                        wait_exponential_jitter(
                            multiplier=self.backoff_initial,
                            max=policy.backoff_max or self.backoff_max,
                            jitter=self.backoff_initial,
                        )
                    ),
                    stop=self._stop(policy, stream.attempts, item.at),
                    retry=retry_if_not_exception_type((PermanentFailure, asyncio.CancelledError)),
                    reraise=True,
                )
                async for attempt in retrying:
                    with attempt:
                        if first and self.metrics is not None:
                            lag = (self.clock.now() - item.at).total_seconds()
                            self.metrics.intent_latency.labels(rec.adapter).observe(max(0.0, lag))
                        first = False
                        try:
                            result = await adapter(rec)
                        except PermanentFailure:
                            raise
                        except Exception as exc:
                            error = repr(exc)
                            await self._record(sid, _attempt_failed(error), rec, "attempt_failed")
                            self._count(rec.adapter, "retried")
                            raise
            plain = _plain(result)
            await self._record(sid, lambda s, at: s.complete(plain, at), rec, "completed", plain)
            self._count(rec.adapter, "completed")
        except asyncio.CancelledError:
            raise
        except Exception as exc:
            error = repr(exc)
            await self._record(sid, lambda s, at: s.fail(error, at), rec, "failed", error=error)
            self._count(rec.adapter, "failed")
            log.error(
                "intent failed for good",
                extra={"adapter": rec.adapter, "key": rec.key, "error": error},
            )

    def _stop(
        self, policy: RetryPolicy, attempts_before: int, recorded_at: datetime
    ) -> Callable[[RetryCallState], bool]:
        """Give up after the policy's attempts (counting earlier lives') or its time, whichever
        comes first; one attempt at least is always made."""

        def stop(state: RetryCallState) -> bool:
            limit = policy.max_attempts
            if limit is not None and attempts_before + state.attempt_number >= limit:
                return True
            give_up = policy.give_up_after
            return give_up is not None and self.clock.now() - recorded_at >= give_up

        return stop

    async def _record(
        self,
        sid: UUID,
        change: Callable[[IntentStream, datetime], None],
        rec: IntentRecorded | None = None,
        kind: Literal["attempt_failed", "completed", "failed"] | None = None,
        result: dict[str, Any] | None = None,
        *,
        error: str | None = None,
    ) -> None:
        """Record an outcome on the intent's stream, with what the adapter's outcome handler makes
        of it in the same transaction; retried while the store is down (or a version conflict
        with a command that changed the same aggregate: the handler then decides again)."""
        handler = self.outcomes.get(rec.adapter) if rec is not None else None

        def save() -> None:
            now = self.clock.now()
            stream = self.store.get(IntentStream, sid)
            change(stream, now)
            aggregates: list[Aggregate] = []
            if handler is not None and rec is not None and kind is not None:
                outcome = Outcome(
                    intent=rec,
                    kind=kind,
                    attempt=max(1, stream.attempts),
                    result=result or {},
                    error=error,
                )
                accepted = handler(outcome, self.store, now)
                aggregates.extend(accepted.aggregates)
                aggregates.extend(new_intents(self.store, accepted.intents, now))
            self.store.save(
                stream,
                *aggregates,
                meta=Meta(actor=f"system:{self.store.producer}", correlation_id=str(sid)),
            )

        while True:
            try:
                await asyncio.to_thread(save)
                return
            except asyncio.CancelledError:
                raise
            except Exception as exc:  # the store is down: the outcome must not be lost
                log.warning("could not record an intent outcome: %r", exc)
                await asyncio.sleep(0.5)

    def _count(self, adapter: str, outcome: str) -> None:
        if self.metrics is not None:
            self.metrics.intents.labels(adapter, outcome).inc()
