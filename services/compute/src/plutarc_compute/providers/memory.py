"""The `Provider` contract in memory, for simulations and the scheduler's tests.

Addresses come from a private range, one per bot, allocated at its first wake (kept even when
that wake fails, as an Elastic IP is), kept while it sleeps, freed by `release` (never handed out again). A wake returns at once, or after a delay
drawn from a seeded distribution and awaited through an injectable ``pause`` (a simulated clock's
sleep, in a simulation): the provider reads no clock. Failures are injected per bot or per size;
counters tell a test what happened (wakes, sleeps, live hosts, the address of every wake).

    provider = MemoryProvider(delay=lognormal(median=40, sigma=0.3), seed=7, pause=clock.sleep)
    provider.fail_next_wakes(size="small", count=2, retryable=False)
"""

from __future__ import annotations

import asyncio
import ipaddress
import math
import random
from collections import Counter, defaultdict
from collections.abc import AsyncIterator, Awaitable, Callable, Iterator
from contextlib import asynccontextmanager
from dataclasses import dataclass
from typing import Literal

from plutarc_compute.providers.base import Awake, HostSpec, Observed, ProvisioningFailed, StackBusy

Delay = Callable[[random.Random], float]
"""Seconds a wake takes, drawn from the bot's generator (seeded by the provider's seed and the
bot id, so a bot's delays do not depend on the order bots wake in)."""


def fixed(seconds: float) -> Delay:
    return lambda rng: seconds


def uniform(low: float, high: float) -> Delay:
    return lambda rng: rng.uniform(low, high)


def lognormal(median: float, sigma: float) -> Delay:
    """Provisioning times are skewed: most near the median, a long tail."""
    mu = math.log(median)
    return lambda rng: rng.lognormvariate(mu, sigma)


@dataclass
class _Injected:
    count: int
    retryable: bool
    message: str


@dataclass(frozen=True)
class _Host:
    host_id: str
    size: str


class MemoryProvider:
    def __init__(
        self,
        *,
        name: str = "memory",
        sizes: tuple[str, ...] = ("small", "medium"),
        network: str = "198.18.0.0/15",
        delay: Delay | None = None,
        seed: int = 0,
        pause: Callable[[float], Awaitable[object]] = asyncio.sleep,
        when_busy: Literal["wait", "raise"] = "wait",
    ) -> None:
        """``when_busy``: a second call for a bot whose stack is in use waits its turn, or
        raises `StackBusy` as a locked Pulumi stack does."""
        if not sizes:
            raise ValueError("at least one size is needed")
        self.name = name
        self.sizes = sizes
        self._addresses: Iterator[ipaddress.IPv4Address | ipaddress.IPv6Address] = iter(
            ipaddress.ip_network(network).hosts()
        )
        self._delay = delay
        self._seed = seed
        self._rngs: dict[str, random.Random] = {}
        self._pause = pause
        self._when_busy = when_busy
        self._locks: defaultdict[str, asyncio.Lock] = defaultdict(asyncio.Lock)
        self._address: dict[str, str] = {}
        self._host: dict[str, _Host] = {}
        self._by_bot: dict[str, list[_Injected]] = defaultdict(list)
        self._by_size: dict[str, list[_Injected]] = defaultdict(list)
        self._serial = 0
        self.wakes = 0
        """Hosts created."""
        self.sleeps = 0
        """Hosts deleted by `sleep` or `release`."""
        self.releases = 0
        self.replacements = 0
        """Hosts replaced by a wake on another size."""
        self.failures = 0
        self.calls: Counter[str] = Counter()
        """Every call, by operation, including the idempotent ones."""
        self.in_flight = 0
        """Wakes being carried out now (those awaiting their delay)."""
        self.peak_in_flight = 0
        self.peak_live = 0
        self.address_history: defaultdict[str, list[str]] = defaultdict(list)
        """The address each successful wake of a bot came up with, in order."""
        self.wake_sizes: defaultdict[str, list[str]] = defaultdict(list)
        """The size each host of a bot was created with, in order."""

    @property
    def live_hosts(self) -> int:
        return len(self._host)

    def awake(self, bot_id: str) -> bool:
        return bot_id in self._host

    def address_of(self, bot_id: str) -> str | None:
        return self._address.get(bot_id)

    def fail_next_wakes(
        self,
        *,
        bot_id: str | None = None,
        size: str | None = None,
        count: int = 1,
        retryable: bool = True,
        message: str = "injected failure",
    ) -> None:
        """The next ``count`` wakes of ``bot_id`` (any size) or of ``size`` (any bot) fail."""
        if (bot_id is None) == (size is None):
            raise ValueError("name a bot or a size, not both")
        if count < 1:
            raise ValueError("count must be positive")
        injected = _Injected(count, retryable, message)
        if bot_id is not None:
            self._by_bot[bot_id].append(injected)
        else:
            self._by_size[str(size)].append(injected)

    async def wake(self, spec: HostSpec) -> Awake:
        self.calls["wake"] += 1
        if spec.size not in self.sizes:
            raise ProvisioningFailed(
                f"size {spec.size!r} is not one of {self.sizes}", retryable=False
            )
        async with self._turn(spec.bot_id):
            host = self._host.get(spec.bot_id)
            if host is not None and host.size == spec.size:
                return Awake(self._address[spec.bot_id], host.host_id, host.size)
            address = self._address.get(spec.bot_id) or self._allocate()
            self._address[spec.bot_id] = address
            self.in_flight += 1
            self.peak_in_flight = max(self.peak_in_flight, self.in_flight)
            try:
                if self._delay is not None:
                    await self._pause(max(0.0, self._delay(self._rng(spec.bot_id))))
                self._take_failure(spec)
            finally:
                self.in_flight -= 1
            if host is not None:
                self.replacements += 1
            self._serial += 1
            created = _Host(f"{self.name}-{self._serial}", spec.size)
            self._host[spec.bot_id] = created
            self.wakes += 1
            self.peak_live = max(self.peak_live, self.live_hosts)
            self.address_history[spec.bot_id].append(address)
            self.wake_sizes[spec.bot_id].append(spec.size)
            return Awake(address, created.host_id, spec.size)

    async def sleep(self, bot_id: str) -> None:
        self.calls["sleep"] += 1
        async with self._turn(bot_id):
            if self._host.pop(bot_id, None) is not None:
                self.sleeps += 1

    async def release(self, bot_id: str) -> None:
        self.calls["release"] += 1
        async with self._turn(bot_id):
            if self._host.pop(bot_id, None) is not None:
                self.sleeps += 1
            if self._address.pop(bot_id, None) is not None:
                self.releases += 1

    async def observe(self, bot_id: str) -> Observed:
        self.calls["observe"] += 1
        host = self._host.get(bot_id)
        return Observed(
            address=self._address.get(bot_id),
            host_id=host.host_id if host else None,
            address_on_host=host is not None,
        )

    def _rng(self, bot_id: str) -> random.Random:
        """One generator per bot: its delays do not depend on the order bots wake in."""
        if bot_id not in self._rngs:
            self._rngs[bot_id] = random.Random(f"{self._seed}:{bot_id}")
        return self._rngs[bot_id]

    def _allocate(self) -> str:
        try:
            return str(next(self._addresses))
        except StopIteration:
            raise ProvisioningFailed("no address left in the provider's network") from None

    def _take_failure(self, spec: HostSpec) -> None:
        for queue in (self._by_bot.get(spec.bot_id), self._by_size.get(spec.size)):
            if not queue:
                continue
            injected = queue[0]
            injected.count -= 1
            if injected.count == 0:
                queue.pop(0)
            self.failures += 1
            raise ProvisioningFailed(
                f"bot {spec.bot_id} on {spec.size}: {injected.message}",
                retryable=injected.retryable,
            )

    @asynccontextmanager
    async def _turn(self, bot_id: str) -> AsyncIterator[None]:
        lock = self._locks[bot_id]
        if self._when_busy == "raise" and lock.locked():
            raise StackBusy(f"bot {bot_id}: another operation holds its stack")
        async with lock:
            yield
