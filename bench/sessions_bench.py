"""The trading-session calendar: the next window of 10,000 bots, as the bots service's timer asks.

Issue 10's goal: under 50 ms for 10,000 bots on one core. The schedules are an honest worst case:
10,000 DISTINCT ones (no two compile to the same cache entry) across 24 time zones (DST in both
hemisphere, half-hour and 45-minute offsets), one to three windows each, some overnight.

- the service after a start: the bots service's `Library` compiles each bot's schedule into the
  timer's calendar as it applies the bot's versions (at start, while it catches up), then the
  first timer pass computes every window (zone timelines built in it);
- cold: a fresh `Calendar` asked directly: every schedule compiled in the pass itself, every
  zone's timeline built;
- warm: the same calendar eight days later: tables cached, every answer recomputed (each bot's
  previous window has ended);
- tick: one minute after that, the timer's steady pass: answers still valid are reused.
"""

from __future__ import annotations

import gc
import random
import time
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import msgspec
from plutarc_bots.sessions import Calendar, validate
from plutarc_bots.sessions_zones import BLOCK
from plutarc_contracts.bots import WEEKDAYS, SessionWindow, TradingSessions
from plutarc_runtime.domain import Invalid

ZONES = [
    "UTC",
    "Europe/London",
    "Europe/Paris",
    "Europe/Moscow",
    "America/New_York",
    "America/Chicago",
    "America/Los_Angeles",
    "America/Sao_Paulo",
    "America/Santiago",
    "America/St_Johns",
    "Asia/Tokyo",
    "Asia/Shanghai",
    "Asia/Kolkata",
    "Asia/Kathmandu",
    "Asia/Dubai",
    "Asia/Singapore",
    "Australia/Sydney",
    "Australia/Adelaide",
    "Australia/Lord_Howe",
    "Pacific/Auckland",
    "Pacific/Chatham",
    "Africa/Cairo",
    "Africa/Johannesburg",
    "Atlantic/Azores",
]


def schedules(count: int, seed: int = 10) -> list[TradingSessions]:
    rng = random.Random(seed)
    seen: set[bytes] = set()
    out: list[TradingSessions] = []
    while len(out) < count:
        windows = []
        for _ in range(rng.randint(1, 3)):
            start = rng.randrange(0, 1440, 5)
            end = (start + rng.randrange(30, 12 * 60, 5)) % 1440
            windows.append(
                SessionWindow(
                    days=rng.sample(WEEKDAYS, rng.randint(1, 7)),  # type: ignore[arg-type]
                    start=f"{start // 60:02d}:{start % 60:02d}",
                    end=f"{end // 60:02d}:{end % 60:02d}",
                    overnight=end <= start,
                )
            )
        s = TradingSessions(
            time_zone=ZONES[len(out) % len(ZONES)], always_on=False, windows=windows
        )
        key = msgspec.json.encode(s)
        if key in seen:
            continue
        try:
            validate(s)
        except Invalid:
            continue
        seen.add(key)
        out.append(s)
    return out


def _pass(calendar: Calendar, bots: list[TradingSessions], now: datetime) -> float:
    gc.collect()
    t0 = time.perf_counter()
    for s in bots:
        calendar.next_window(s, now)
    return (time.perf_counter() - t0) * 1000


def run(base: Path, quick: bool = False, bots: int = 10_000, repeats: int = 5) -> Iterator[str]:
    del base  # pure: nothing on disk
    if quick:
        repeats = 1
    sessions = schedules(bots)
    # A day into a four-week block of the timelines, as most days are; eight days later is in it.
    block = datetime(2026, 12, 3, tzinfo=UTC).timestamp() // BLOCK
    now = datetime.fromtimestamp((block * BLOCK) + 86_400, UTC)
    later = now + timedelta(days=8)
    cold, warm, tick, compiled, first = [], [], [], [], []
    for _ in range(repeats):
        # the service: each schedule compiled as its bot's version is applied, then the pass
        started = Calendar()
        gc.collect()
        t0 = time.perf_counter()
        for s in sessions:
            started.prepare(s)
        compiled.append((time.perf_counter() - t0) * 1000)
        first.append(_pass(started, sessions, now))
        calendar = Calendar()
        cold.append(_pass(calendar, sessions, now))
        ends = [calendar.next_window(s, now) for s in sessions]
        assert all(w is not None and w.ends_at is not None and w.ends_at <= later for w in ends)
        warm.append(_pass(calendar, sessions, later))
        tick.append(_pass(calendar, sessions, later + timedelta(minutes=1)))
    zones = len({s.time_zone for s in sessions})
    yield (
        f"sessions: next window for {bots:,} bots (distinct schedules, {zones} zones), "
        f"best of {repeats}: cold {min(cold):.1f} ms, warm {min(warm):.1f} ms, "
        f"tick {min(tick):.1f} ms (goal < 50 ms)"
    )
    yield (
        f"sessions: the service after a start, best of {repeats}: first timer pass "
        f"{min(first):.1f} ms (goal < 50 ms), schedules compiled as the read model applied "
        f"the bots' versions {min(compiled):.1f} ms"
    )
    yield (
        f"sessions: median of {repeats}: cold {sorted(cold)[repeats // 2]:.1f} ms, "
        f"warm {sorted(warm)[repeats // 2]:.1f} ms, tick {sorted(tick)[repeats // 2]:.1f} ms"
    )
