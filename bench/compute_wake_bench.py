"""The local compute provider's wake through the real Pulumi engine (docs/compute-providers.md).

Requested to running: from `LocalProvider.wake` called until it returns, which is when the host
process has written its ready file. The host here is a small script that writes it at once, so
the numbers are Pulumi's and the provider's share; a real bot adds its own catch-up (reading its
topics) on top.

  first wake      a new bot: its stack created, its address allocated, its host started
  wake            an asleep bot (stack and address kept): the host started again, p50/p95
  sleep           the host stopped (SIGTERM to its process group), the address kept
  ten new         ten new bots woken at once: until all are running
  ten asleep      ten asleep bots woken at once (the window-start case): until all are running

Goals: wake p95 under 4 s; ten at once all running within 15 s.
"""

from __future__ import annotations

import asyncio
import os
import statistics
import subprocess
import sys
import time
import uuid
from collections.abc import Iterator
from pathlib import Path

from plutarc_compute.providers.base import HostSpec
from plutarc_compute.providers.local import LocalProvider
from plutarc_compute.providers.stacks import REPO_ROOT, PulumiSettings

HOST = """\
import os, signal, sys, time
signal.signal(signal.SIGTERM, lambda *_: sys.exit(0))
open(os.environ["PLUTARC_HOST_READY_FILE"], "w").write(str(os.getpid()))
while True:
    time.sleep(3600)
"""


def run(base: Path, quick: bool = False, wakes: int = 12, fleet: int = 10) -> Iterator[str]:
    if quick:
        wakes, fleet = 4, 4
    built = subprocess.run(
        [str(REPO_ROOT / "scripts" / "ensure-pulumi")], capture_output=True, text=True
    )
    if built.returncode != 0:
        yield f"compute_wake: skipped (no pulumi CLI: {built.stderr.strip()[-200:]})"
        return
    where = base / "compute-wake"
    where.mkdir(parents=True, exist_ok=True)
    (where / "host.py").write_text(HOST)
    yield from asyncio.run(_run(where, Path(built.stdout.strip()), wakes, fleet))


def _spread(seconds: list[float]) -> str:
    ordered = sorted(seconds)
    p95 = ordered[min(len(ordered) - 1, round(0.95 * (len(ordered) - 1)))]
    return (
        f"p50 {statistics.median(ordered):.2f} s, p95 {p95:.2f} s, "
        f"max {ordered[-1]:.2f} s (n={len(ordered)})"
    )


async def _run(base: Path, pulumi: Path, wakes: int, fleet: int) -> list[str]:
    script = base / "host.py"
    settings = PulumiSettings(data_dir=base, passphrase="bench", bin_dir=pulumi.parent)
    provider = LocalProvider(settings, command=[sys.executable, str(script)], stop_grace=5)
    lines = [
        f"pulumi {pulumi}, {os.cpu_count()} cores, at most {settings.max_concurrent} "
        "Pulumi operations at once"
    ]

    async def timed(coro: object) -> float:
        start = time.perf_counter()
        await coro  # type: ignore[misc]
        return time.perf_counter() - start

    def spec(bot: str) -> HostSpec:
        return HostSpec(bot_id=bot, workspace_id="bench", size="default")

    bot = str(uuid.uuid4())
    bots = [str(uuid.uuid4()) for _ in range(fleet)]
    try:
        first = await timed(provider.wake(spec(bot)))
        lines.append(f"first wake (new stack and address): {first:.2f} s")
        woke, slept = [], []
        for _ in range(wakes):
            slept.append(await timed(provider.sleep(bot)))
            woke.append(await timed(provider.wake(spec(bot))))
        lines.append(f"wake, requested to running: {_spread(woke)}  (goal: p95 < 4 s)")
        lines.append(f"sleep: {_spread(slept)}")

        start = time.perf_counter()
        await asyncio.gather(*(provider.wake(spec(b)) for b in bots))
        lines.append(f"{fleet} new bots at once, all running: {time.perf_counter() - start:.2f} s")
        await asyncio.gather(*(provider.sleep(b) for b in bots))
        start = time.perf_counter()
        await asyncio.gather(*(provider.wake(spec(b)) for b in bots))
        lines.append(
            f"{fleet} asleep bots at once, all running: {time.perf_counter() - start:.2f} s"
            "  (goal: < 15 s)"
        )
        if provider.stacks.lock_waits:
            lines.append(f"(waited on a locked stack {provider.stacks.lock_waits} times)")
    finally:
        await asyncio.gather(*(provider.release(b) for b in [bot, *bots]), return_exceptions=True)
    return lines
