"""Retries with exponential backoff and full jitter, within a time budget.

Attempt n (from 0) waits a uniform draw from [0, min(cap, base * 2**n)] (AWS's "full jitter"),
and no wait starts that would end past the budget. Sleep, clock and random source are injected so
tests run on simulated time with a seeded RNG.
"""

from __future__ import annotations

import asyncio
import random
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field

Sleep = Callable[[float], Awaitable[None]]
Clock = Callable[[], float]


@dataclass(frozen=True)
class RetryPolicy:
    budget_s: float = 10.0
    base_s: float = 0.2
    cap_s: float = 2.0
    max_attempts: int = 8


@dataclass
class Backoff:
    """One operation's retry schedule: ``await backoff.wait()`` sleeps before the next attempt
    and returns False when the budget or the attempts are spent."""

    policy: RetryPolicy
    sleep: Sleep = asyncio.sleep
    clock: Clock = time.monotonic
    rng: random.Random = field(default_factory=random.Random)
    attempt: int = 0
    started: float | None = None
    waits: list[float] = field(default_factory=list)

    def start(self) -> None:
        self.started = self.clock()

    def remaining(self) -> float:
        started = self.clock() if self.started is None else self.started
        return self.policy.budget_s - (self.clock() - started)

    async def wait(self) -> bool:
        if self.attempt + 1 >= self.policy.max_attempts:
            return False
        ceiling = min(self.policy.cap_s, self.policy.base_s * 2**self.attempt)
        delay = self.rng.uniform(0.0, ceiling)
        if delay > self.remaining():
            return False
        self.attempt += 1
        self.waits.append(delay)
        await self.sleep(delay)
        return True
