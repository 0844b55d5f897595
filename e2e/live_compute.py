"""The compute service for the live platform, on a clock a test moves: an option of
`LivePlatform` that only the wake journey takes (the other journeys start without it).

- `AcceleratedClock`: time that runs `rate` times faster than the wall clock from `start`, and
  jumps forward when told (`jump_to`), so timers keep firing between jumps. Only the compute
  service (which wakes hosts for the windows the bots service plans) runs on it: a service
  refuses a command issued more than 60 s before its own clock's now (`command.expired`), and
  the bots service takes the API's commands (create, start) at the wall clock's time. The compute
  service's own commands are its scheduler's, issued on its clock.
- `WakeGate`: a wake waits at the gate until the test opens it, so the "waking" state lasts
  long enough to be seen, then completes.
- `RuntimeHosts`: the in-memory provider (no Pulumi, no process) whose hosts run the bot: a woken
  host starts the bot's runtime (`BotRuntime`, on the platform's loop and the accelerated clock)
  and counts as running once the runtime has caught up, as a local host's `plutarc bot run`
  writes its ready file; a host put to sleep or released stops it. The runtime trades as it does
  on a real host: it reads the bot's versions, candles and orders from Kafka and sends the
  strategy's orders to the gateway.
"""

from __future__ import annotations

import asyncio
import contextlib
import threading
import time
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from plutarc_bots.runtime import BotRuntime
from plutarc_bots.runtime.runner import RuntimeSettings as BotRuntimeSettings
from plutarc_compute.bootstrap import build as build_compute
from plutarc_compute.leadtime import LeadTimes
from plutarc_compute.providers.base import Awake, HostSpec, ProvisioningFailed
from plutarc_compute.providers.memory import MemoryProvider, fixed
from plutarc_compute.scheduler import Scheduler
from plutarc_compute.settings import ComputeSettings
from plutarc_compute.views import Fleet
from plutarc_runtime.service import Service


class AcceleratedClock:
    """`now()` = the instant last jumped to + (wall seconds since) x `rate`. Thread-safe."""

    def __init__(self, start: datetime | None = None, rate: float = 1.0) -> None:
        if rate <= 0:
            raise ValueError("the clock's rate must be positive")
        start = start or datetime.now(UTC)
        if start.tzinfo is None:
            raise ValueError("AcceleratedClock needs a timezone-aware start instant")
        self.rate = rate
        self._base = start.astimezone(UTC)
        self._wall = time.monotonic()
        self._lock = threading.Lock()

    def now(self) -> datetime:
        with self._lock:
            return self._base + timedelta(seconds=(time.monotonic() - self._wall) * self.rate)

    def jump_to(self, instant: datetime) -> None:
        """Move to `instant` (never backwards) and keep running from there."""
        if instant.tzinfo is None:
            raise ValueError("instants must be timezone-aware")
        with self._lock:
            now = self._base + timedelta(seconds=(time.monotonic() - self._wall) * self.rate)
            if instant < now:
                raise ValueError("time does not run backwards")
            self._base, self._wall = instant.astimezone(UTC), time.monotonic()


class WakeGate:
    """The in-memory provider's `pause`: each wake waits here until `open()` (from any thread)."""

    def __init__(self) -> None:
        self.loop: asyncio.AbstractEventLoop | None = None
        self._opened: asyncio.Event | None = None
        self.waiting = 0
        """Wakes held at the gate now."""

    async def pause(self, _seconds: float) -> None:
        if self._opened is None:
            self.loop, self._opened = asyncio.get_running_loop(), asyncio.Event()
        self.waiting += 1
        try:
            await self._opened.wait()
        finally:
            self.waiting -= 1

    def open(self) -> None:
        if self.loop is None or self._opened is None:
            raise RuntimeError("no wake has reached the gate yet")
        self.loop.call_soon_threadsafe(self._opened.set)


@dataclass
class _Runtime:
    runtime: BotRuntime
    stop: asyncio.Event
    task: asyncio.Task[object]


class RuntimeHosts(MemoryProvider):
    """The in-memory provider whose hosts run the bot's runtime (see the module's docstring)."""

    READY_SECONDS = 60

    def __init__(
        self, *, kafka_bootstrap: str, data_dir: Path, clock: AcceleratedClock, **memory: Any
    ) -> None:
        super().__init__(**memory)
        self.kafka_bootstrap, self.data_dir, self.clock = kafka_bootstrap, data_dir, clock
        self.runtimes: dict[str, _Runtime] = {}

    def runtime(self, bot_id: str) -> BotRuntime | None:
        host = self.runtimes.get(bot_id)
        return host.runtime if host is not None and not host.task.done() else None

    async def wake(self, spec: HostSpec) -> Awake:
        awake = await super().wake(spec)
        if self.runtime(spec.bot_id) is None:
            await self._start(spec.bot_id)
        return awake

    async def sleep(self, bot_id: str) -> None:
        await self._stop(bot_id)
        await super().sleep(bot_id)

    async def release(self, bot_id: str) -> None:
        await self._stop(bot_id)
        await super().release(bot_id)

    async def close(self) -> None:
        """Every host's runtime stopped (the platform is going)."""
        for bot_id in list(self.runtimes):
            await self._stop(bot_id)

    async def _start(self, bot_id: str) -> None:
        settings = BotRuntimeSettings(
            kafka_bootstrap=self.kafka_bootstrap, data_dir=self.data_dir / bot_id
        )
        ready = asyncio.Event()
        runtime = BotRuntime(settings, bot_id, clock=self.clock, on_ready=ready.set)
        stop = asyncio.Event()
        task: asyncio.Task[object] = asyncio.create_task(
            runtime.run(stop), name=f"bot-runtime-{bot_id}"
        )
        self.runtimes[bot_id] = _Runtime(runtime, stop, task)
        waiting = asyncio.create_task(ready.wait())
        await asyncio.wait(
            {task, waiting}, timeout=self.READY_SECONDS, return_when=asyncio.FIRST_COMPLETED
        )
        waiting.cancel()
        if ready.is_set() and not task.done():
            return
        failure = task.exception() if task.done() and not task.cancelled() else None
        await self._stop(bot_id)
        await super().sleep(bot_id)
        raise ProvisioningFailed(
            f"the bot's runtime did not start: {failure or 'not ready in time'}"
        )

    async def _stop(self, bot_id: str) -> None:
        host = self.runtimes.pop(bot_id, None)
        if host is None:
            return
        host.stop.set()
        # A runtime's failure was logged by the runtime; the host goes either way.
        with contextlib.suppress(Exception):
            await asyncio.wait_for(host.task, 30)


@dataclass
class ComputeOption:
    """What `LivePlatform(compute=...)` runs: the compute service on `clock`, waking hosts
    through the in-memory provider behind `gate`, each host running its bot's runtime."""

    clock: AcceleratedClock = field(default_factory=AcceleratedClock)
    gate: WakeGate = field(default_factory=WakeGate)
    provider: RuntimeHosts | None = None

    def service(self, kafka_bootstrap: str, data_dir: Path, **consumer: object) -> Service:
        settings = ComputeSettings(
            kafka_bootstrap=kafka_bootstrap,
            data_dir=data_dir,
            compute_provider="memory",
            compute_timer_interval_seconds=0.2,
            timer_poll=0.2,
        )
        self.provider = RuntimeHosts(
            kafka_bootstrap=kafka_bootstrap,
            data_dir=data_dir / "hosts",
            clock=self.clock,
            name="memory",
            delay=fixed(1),
            pause=self.gate.pause,
        )
        # A window's end is acted on after 1 s rather than the scheduler's 15 s wait.
        scheduler = Scheduler(LeadTimes(), default_provider="memory", linger=timedelta(seconds=1))
        fleet = Fleet("memory", scheduler=scheduler)
        return Service(
            build_compute(settings, provider=self.provider, fleet=fleet),
            settings,
            clock=self.clock,
            consumer_overrides=dict(consumer),
        )
