"""How long and how often the worker retries an adapter: not sooner than a 429's retry_after
(RetryLater), and as long as the adapter's own RetryPolicy says (attempts, time, longest wait)."""

from __future__ import annotations

import asyncio
import time
from datetime import timedelta
from pathlib import Path
from typing import Any
from uuid import uuid4

from plutarc_access import Memberships
from plutarc_contracts.system import IntentRecorded
from plutarc_runtime.intents import RetryLater, RetryPolicy
from plutarc_testkit.harness import Harness
from plutarc_testkit.waiting import until

from .reminders.bootstrap import build
from .test_service_shape import ENGINE, set_reminder, workspace_events


class Throttled:
    """Says "retry after `after` seconds" `times` times, then pages; remembers when it was called."""

    def __init__(self, times: int, after: float) -> None:
        self.times, self.after = times, after
        self.called_at: list[float] = []

    async def __call__(self, intent: IntentRecorded) -> dict[str, Any]:
        self.called_at.append(time.monotonic())
        if len(self.called_at) <= self.times:
            raise RetryLater("429 Too Many Requests", self.after)
        return {"paged": True}


def harness(tmp_path: Path, pager: Throttled) -> tuple[Harness, str]:
    memberships, ws = Memberships(ENGINE), str(uuid4())
    for env in workspace_events(ws):
        memberships.apply(env)
    return Harness(build(memberships, {"pager": pager}), sqlite_path=tmp_path / "r.sqlite"), ws


async def test_the_worker_waits_at_least_what_the_adapter_was_told(tmp_path: Path) -> None:
    pager = Throttled(times=2, after=0.4)
    h, ws = harness(tmp_path, pager)
    try:
        h.ok("user:alice", set_reminder(ws, h.clock.now()))
        h.advance(timedelta(minutes=1))
        # The worker's own backoff would retry after about 10 ms.
        await h.drain_intents(backoff_initial=0.01, backoff_max=0.05)
        assert len(pager.called_at) == 3
        gaps = [b - a for a, b in zip(pager.called_at, pager.called_at[1:], strict=False)]
        assert all(gap >= 0.4 for gap in gaps), gaps
        assert [p.attempt for p in h.intents("system.intent_attempt_failed")] == [1, 2]
        assert "429" in h.intents("system.intent_attempt_failed")[0].error
        assert len(h.intents("system.intent_completed")) == 1
    finally:
        h.close()


async def test_a_longer_own_backoff_is_kept(tmp_path: Path) -> None:
    pager = Throttled(times=1, after=0.0)
    h, ws = harness(tmp_path, pager)
    try:
        h.ok("user:alice", set_reminder(ws, h.clock.now()))
        h.advance(timedelta(minutes=1))
        await h.drain_intents(backoff_initial=0.3, backoff_max=0.3)
        assert len(pager.called_at) == 2
        assert pager.called_at[1] - pager.called_at[0] >= 0.3
    finally:
        h.close()


class Flaky:
    """Fails `failures` times (forever when None), then pages; carries its own retry policy."""

    def __init__(self, failures: int | None, retry: RetryPolicy) -> None:
        self.failures, self.retry = failures, retry
        self.calls = 0

    async def __call__(self, intent: IntentRecorded) -> dict[str, Any]:
        self.calls += 1
        if self.failures is None or self.calls <= self.failures:
            raise ConnectionError("down")
        return {"paged": True}


def flaky_harness(tmp_path: Path, pager: Flaky) -> tuple[Harness, str]:
    memberships, ws = Memberships(ENGINE), str(uuid4())
    for env in workspace_events(ws):
        memberships.apply(env)
    return Harness(build(memberships, {"pager": pager}), sqlite_path=tmp_path / "f.sqlite"), ws


async def test_an_adapter_without_an_attempt_limit_outlasts_the_workers_default(
    tmp_path: Path,
) -> None:
    pager = Flaky(failures=40, retry=RetryPolicy(max_attempts=None, backoff_max=0.01))
    h, ws = flaky_harness(tmp_path, pager)
    try:
        h.ok("user:alice", set_reminder(ws, h.clock.now()))
        h.advance(timedelta(minutes=1))
        await h.drain_intents(backoff_initial=0.001, max_attempts=30)
        assert h.intents("system.intent_failed") == []
        (done,) = h.intents("system.intent_completed")
        assert done.attempts == 41 and pager.calls == 41
    finally:
        h.close()


async def test_an_adapter_gives_up_after_its_time_on_the_services_clock(tmp_path: Path) -> None:
    policy = RetryPolicy(max_attempts=None, give_up_after=timedelta(days=3), backoff_max=0.02)
    pager = Flaky(failures=None, retry=policy)
    h, ws = flaky_harness(tmp_path, pager)
    try:
        h.ok("user:alice", set_reminder(ws, h.clock.now()))
        h.advance(timedelta(minutes=1))
        worker = h.worker(backoff_initial=0.005)
        stop = asyncio.Event()
        task = asyncio.create_task(worker.run(stop))
        try:
            await until(lambda: pager.calls >= 5, what="attempts while it is down")
            assert h.intents("system.intent_failed") == []
            h.clock.advance(timedelta(days=3))
            await until(lambda: h.intents("system.intent_failed"), what="given up")
        finally:
            stop.set()
            await task
        (failed,) = h.intents("system.intent_failed")
        assert "down" in failed.error and failed.attempts >= 5
    finally:
        h.close()
