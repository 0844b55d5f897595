"""The compute scheduler: a decision pass for 10,000 bots (issue 12's goal: under 50 ms), and the
30-day simulation's totals.

- everything due at once: 10,000 bots with the same window (Monday 08:00 to 16:30 London), each
  pass timed on a fresh scheduler: plan (10,000 windows published), wake (the lead time before
  the start), verify (every host reported running), start (every bot's miss check), end (every
  host lingers for its next window), 15 s later (every host released; or half of them deferred
  with a position, then forced at the deadline);
- typical: the simulation's driver with 10,000 bots over two weekdays (windows across 11 zones,
  positions past ends, a seeded provider): every pass the compute timer makes, timed;
- the simulation: 1,000 bots over 30 days with DST changes (docs/compute-scheduler.md).
"""

from __future__ import annotations

import statistics
import sys
import time
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from typing import Any

from plutarc_compute.leadtime import LeadTimes
from plutarc_compute.scheduler import Scheduler

from .common import ROOT

sys.path.insert(0, str(ROOT / "services" / "compute" / "tests"))

START = datetime(2026, 12, 7, 8, 0, tzinfo=UTC)
END = datetime(2026, 12, 7, 16, 30, tzinfo=UTC)
WS = "ws-bench"


def _fresh(bots: int) -> Scheduler:
    s = Scheduler(LeadTimes(), default_drain_deadline_minutes=60)
    for i in range(bots):
        s.window_published(WS, f"bot-{i}", START, END, "flatten", "Europe/London")
    return s


def _timed(s: Scheduler, now: datetime) -> tuple[float, float, int]:
    """Wall and CPU milliseconds (the machine is shared: CPU time is the steadier of the two)."""
    started, cpu = time.perf_counter(), time.process_time()
    commands = s.decide(now)
    return (
        (time.perf_counter() - started) * 1000,
        (time.process_time() - cpu) * 1000,
        len(commands),
    )


def _all_due_once(bots: int, exposed: bool) -> dict[str, tuple[float, float, int]]:
    s = _fresh(bots)
    out = {"plan": _timed(s, START - timedelta(hours=1))}
    out["wake"] = _timed(s, START - timedelta(seconds=30))
    for i in range(bots):
        s.host_state(WS, f"bot-{i}", "running", "127.0.0.2")
    out["verify"] = _timed(s, START - timedelta(seconds=20))
    out["start"] = _timed(s, START)
    out["idle"] = _timed(s, START + timedelta(seconds=5))
    if exposed:
        for i in range(0, bots, 2):
            s.position(WS, f"bot-{i}", "BTC/USDT", Decimal("0.1"), mode="testnet")
    out["end (lingering)"] = _timed(s, END)
    drained = END + timedelta(seconds=15)
    if exposed:
        out["+15 s: half deferred"] = _timed(s, drained)
        out["deadline: half forced"] = _timed(s, END + timedelta(minutes=60))
    else:
        out["+15 s: all released"] = _timed(s, drained)
    return out


def all_due(bots: int, repeats: int) -> Iterator[str]:
    walls: dict[str, list[float]] = {}
    cpus: dict[str, list[float]] = {}
    counts: dict[str, int] = {}
    for _ in range(repeats):
        for exposed in (False, True):
            for name, (wall, cpu, n) in _all_due_once(bots, exposed).items():
                walls.setdefault(name, []).append(wall)
                cpus.setdefault(name, []).append(cpu)
                counts[name] = n
    yield (
        f"everything due at once, {bots:,} bots (over fresh schedulers: wall median / max, "
        "CPU median):"
    )
    for name, values in walls.items():
        yield (
            f"  {name:<22} {counts[name]:>6,} commands  {statistics.median(values):6.1f} ms"
            f" / {max(values):6.1f} ms, CPU {statistics.median(cpus[name]):6.1f} ms"
        )


def _percentile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(q * len(ordered)))]


def typical(sim: Any, bots: int, days: int) -> Iterator[str]:
    """``sim``: the simulation's module (services/compute/tests/simulation/compute_sim.py)."""
    monday = datetime(2026, 10, 5, tzinfo=UTC)
    result = sim.simulate(sim.SimConfig(bots=bots, days=days, seed=7, start=monday))
    timings: list[float] = result.pass_ms
    first, rest = timings[0], timings[1:]
    yield f"typical passes, {bots:,} bots over {days} simulated weekdays ({len(rest):,} passes):"
    yield (
        f"  p50 {_percentile(rest, 0.5):.3f} ms, p99 {_percentile(rest, 0.99):.2f} ms, "
        f"max {max(rest):.1f} ms; the first pass ({bots:,} windows published at once) "
        f"{first:.1f} ms"
    )
    yield (
        f"  misses {result.misses_observed}, violations {len(result.violations)}, "
        f"wall {result.wall_seconds:.1f} s"
    )


def run(quick: bool = False) -> Iterator[str]:
    from simulation import compute_sim  # services/compute/tests/simulation

    yield from all_due(10_000, 2 if quick else 5)
    yield from typical(compute_sim, 10_000, 1 if quick else 2)
    config = compute_sim.SimConfig(days=7) if quick else compute_sim.SimConfig()
    yield from compute_sim.simulate(config).lines()
