"""The trading-session calendar: when a bot's next window starts and ends, in UTC.

Pure: no I/O, no clock (``now`` is always given). The rules, DST included, are in docs/bots.md,
"Trading sessions"; in short, a window is open while the wall clock of ``time_zone`` (read as never
going backwards) shows a time in ``[start, end)`` on one of its days; windows that touch are one
window; a schedule covering the whole week is always on.

The bots service's timer holds one :class:`Calendar` and asks it for the next window of each
running bot: a schedule is compiled once (a sorted array of weekly intervals, keyed by its JSON),
a zone's offsets once per four weeks, and a bot's answer is kept until its window ends, so a
timer pass over thousands of bots is mostly dictionary look-ups (bench/sessions_bench.py).
"""

from __future__ import annotations

import math
from bisect import bisect_right
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

import msgspec
from plutarc_contracts.bots import TradingSessions

from .domain import errors
from .sessions_validate import known_time_zone, validate
from .sessions_week import DAY, WEEK, expand
from .sessions_zones import BLOCK, Timeline, build_timeline

__all__ = ["ALWAYS_ON_SINCE", "Calendar", "Window", "next_window", "validate", "windows_between"]

EPOCH = datetime(1970, 1, 1, tzinfo=UTC)
ALWAYS_ON_SINCE = EPOCH
"""An always-on bot's window starts here and never ends: the same value at every call."""
_MONDAY = 3 * DAY
"""1970-01-01 was a Thursday: local seconds plus this, modulo a week, is the time since Monday."""


@dataclass(frozen=True, slots=True)
class Window:
    """A trading window in UTC. ``ends_at`` None: it never ends (always on)."""

    starts_at: datetime
    ends_at: datetime | None


ALWAYS = Window(ALWAYS_ON_SINCE, None)


class _Schedule:
    """A ``TradingSessions`` compiled: merged weekly intervals sorted by start (the last may end
    past ``WEEK``), and the last answer, valid from ``since`` until its window ends."""

    __slots__ = ("always", "answer", "ends", "gaps", "since", "starts", "until", "zone")

    def __init__(self, sessions: TradingSessions) -> None:
        self.zone = sessions.time_zone
        self.always = sessions.always_on
        self.starts: list[int] = []
        self.ends: list[int] = []
        self.gaps: list[int] = []
        """``gaps[i]``: local seconds from the end of interval ``i`` to the start of the next."""
        self.since = 0
        self.until = 0
        self.answer: Window | None = None
        if not self.always:
            self._compile(sessions)

    def _compile(self, sessions: TradingSessions) -> None:
        spans = sorted((x.start, x.end) for x in expand(sessions.windows))
        merged: list[list[int]] = []
        for start, end in spans:
            if merged and start <= merged[-1][1]:
                merged[-1][1] = max(merged[-1][1], end)
            else:
                merged.append([start, end])
        if len(merged) > 1 and merged[-1][1] >= merged[0][0] + WEEK:  # runs into next Monday's
            first = merged.pop(0)
            merged[-1][1] = max(merged[-1][1], first[1] + WEEK)
        if merged and merged[-1][1] - merged[-1][0] >= WEEK:
            self.always = True
            return
        self.starts = [start for start, _ in merged]
        self.ends = [end for _, end in merged]
        n = len(merged)
        self.gaps = [
            self.starts[(i + 1) % n] + (WEEK if i == n - 1 else 0) - self.ends[i] for i in range(n)
        ]


class Calendar:
    """Next windows for many bots, with bounded caches: ``max_schedules`` compiled schedules and
    ``max_timelines`` (zone, four weeks) offset tables, the oldest dropped first.

    It trusts its input to be valid (:func:`validate`); an unknown zone still raises
    ``UnknownTimeZone``."""

    def __init__(self, *, max_schedules: int = 100_000, max_timelines: int = 2_000) -> None:
        self.max_schedules = max_schedules
        self.max_timelines = max_timelines
        self._schedules: dict[bytes, _Schedule] = {}
        self._timelines: dict[tuple[str, int], Timeline] = {}
        self._zones: dict[str, ZoneInfo] = {}

    def next_window(self, sessions: TradingSessions, now: datetime) -> Window | None:
        """The window containing ``now`` (``starts_at <= now < ends_at``), or else the next one
        to start; None if none ever will (no windows)."""
        key = msgspec.json.encode(sessions)
        schedule = self._schedules.get(key)
        if schedule is None:
            schedule = self._compile(key, sessions)
        if schedule.always:
            return ALWAYS
        t = math.floor(now.timestamp())
        if schedule.since <= t < schedule.until:
            return schedule.answer
        if not schedule.starts:
            return None
        start, end = self._next(schedule, t)
        window = Window(EPOCH + timedelta(seconds=start), EPOCH + timedelta(seconds=end))
        schedule.since, schedule.until, schedule.answer = t, end, window
        return window

    def windows_between(
        self, sessions: TradingSessions, start: datetime, end: datetime
    ) -> list[Window]:
        """The windows that overlap ``[start, end)``, in order; the first may start before
        ``start`` and the last end after ``end`` (they are not clipped)."""
        out: list[Window] = []
        window = self.next_window(sessions, start)
        while window is not None and window.starts_at < end:
            out.append(window)
            if window.ends_at is None:
                break
            after = self.next_window(sessions, window.ends_at)
            if after is not None and after.starts_at <= window.starts_at:
                raise RuntimeError(f"the calendar went backwards after {window}")
            window = after
        return out

    # --- internals ----------------------------------------------------------------------------------
    def _compile(self, key: bytes, sessions: TradingSessions) -> _Schedule:
        schedule = _Schedule(sessions)
        if not schedule.always and schedule.zone not in self._zones:
            if not known_time_zone(schedule.zone):
                raise errors.UnknownTimeZone(
                    f"{schedule.zone!r} is not a time zone of the IANA database",
                    field="sessions.time_zone",
                )
            self._zones[schedule.zone] = ZoneInfo(schedule.zone)
        if len(self._schedules) >= self.max_schedules:
            del self._schedules[next(iter(self._schedules))]
        self._schedules[key] = schedule
        return schedule

    def _timeline(self, zone: str, t: int) -> Timeline:
        key = (zone, t // BLOCK)
        timeline = self._timelines.get(key)
        if timeline is None:
            timeline = build_timeline(self._zones[zone], key[1])
            if len(self._timelines) >= self.max_timelines:
                del self._timelines[next(iter(self._timelines))]
            self._timelines[key] = timeline
        return timeline

    def _utc(self, zone: str, x: int) -> int:
        return self._timeline(zone, x).utc(x)

    def _next(self, schedule: _Schedule, t: int) -> tuple[int, int]:
        """The first window (UTC seconds) whose end is after ``t``."""
        zone, starts, ends, gaps = schedule.zone, schedule.starts, schedule.ends, schedule.gaps
        n = len(starts)
        timeline = self._timeline(zone, t)
        now = timeline.local(t)
        base = now - (now + _MONDAY) % WEEK  # local Monday 00:00 of this week
        i = bisect_right(starts, now - base) - 1
        if i < 0:  # perhaps in last week's last interval, running over Monday
            i, base = n - 1, base - WEEK
        if base + ends[i] <= now:
            i += 1
            if i == n:
                i, base = 0, base + WEEK
        # Interval (base, i) is the first whose local end is after now; in UTC it may be empty
        # (inside a skipped hour) and may touch its neighbours (the skipped hour between them).
        start = self._utc(zone, base + starts[i])
        end = self._utc(zone, base + ends[i])
        for _ in range(n + 1):
            if start < end:
                break
            i += 1
            if i == n:
                i, base = 0, base + WEEK
            start = self._utc(zone, base + starts[i])
            end = self._utc(zone, base + ends[i])
        if start <= t:
            j, b = i - 1, base
            for _ in range(n):
                if j < 0:
                    j, b = n - 1, b - WEEK
                if gaps[j] > timeline.max_gap or self._utc(zone, b + ends[j]) != start:
                    break
                start = self._utc(zone, b + starts[j])
                j -= 1
        j, b = i, base
        for _ in range(n):
            if gaps[j] > self._timeline(zone, end).max_gap:
                break
            j += 1
            if j == n:
                j, b = 0, b + WEEK
            if self._utc(zone, b + starts[j]) != end:
                break
            end = max(end, self._utc(zone, b + ends[j]))
        return start, end


def next_window(sessions: TradingSessions, now: datetime) -> Window | None:
    """:meth:`Calendar.next_window` with a calendar of its own (a service keeps one instead)."""
    return Calendar().next_window(sessions, now)


def windows_between(sessions: TradingSessions, start: datetime, end: datetime) -> list[Window]:
    """:meth:`Calendar.windows_between` with a calendar of its own."""
    return Calendar().windows_between(sessions, start, end)
