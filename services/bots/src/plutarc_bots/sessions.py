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

import contextlib
import math
from bisect import bisect_right
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

import msgspec
from plutarc_contracts.bots import WEEKDAYS, TradingSessions

from .domain import errors
from .sessions_validate import known_time_zone, validate
from .sessions_week import DAY, WEEK
from .sessions_zones import BLOCK, Timeline, build_timeline

__all__ = ["ALWAYS_ON_SINCE", "Calendar", "Window", "next_window", "validate", "windows_between"]

EPOCH = datetime(1970, 1, 1, tzinfo=UTC)
ALWAYS_ON_SINCE = EPOCH
"""An always-on bot's window starts here and never ends: the same value at every call."""
_CLOCK = {f"{m // 60:02d}:{m % 60:02d}": m * 60 for m in range(24 * 60)}
_DAY_START = {day: i * DAY for i, day in enumerate(WEEKDAYS)}
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

    __slots__ = ("always", "answer", "ends", "since", "starts", "until", "zone")

    def __init__(self, zone: str, always: bool, starts: list[int], ends: list[int]) -> None:
        self.zone = zone
        self.always = always
        self.starts = starts
        self.ends = ends
        self.since = 0
        self.until = 0
        self.answer: Window | None = None

    def gap_after(self, i: int) -> int:
        """Local seconds from the end of interval ``i`` to the start of the next."""
        if i + 1 < len(self.starts):
            return self.starts[i + 1] - self.ends[i]
        return self.starts[0] + WEEK - self.ends[i]


def _compile(sessions: TradingSessions) -> _Schedule:
    """Once per distinct schedule (sessions_week.expand, without its named tuples, and merged)."""
    if sessions.always_on:
        return _Schedule(sessions.time_zone, True, [], [])
    spans: list[tuple[int, int]] = []
    for window in sessions.windows:
        start, end = _CLOCK[window.start], _CLOCK[window.end]
        if window.overnight:
            end += DAY
        elif end <= start:
            continue
        for day in window.days:
            base = _DAY_START[day]
            spans.append((base + start, base + end))
    spans.sort()
    starts: list[int] = []
    ends: list[int] = []
    for start, end in spans:
        if ends and start <= ends[-1]:
            if end > ends[-1]:
                ends[-1] = end
        else:
            starts.append(start)
            ends.append(end)
    if len(starts) > 1 and ends[-1] >= starts[0] + WEEK:  # runs into next Monday's
        starts.pop(0)
        ends[-1] = max(ends[-1], ends.pop(0) + WEEK)
    if starts and ends[-1] - starts[-1] >= WEEK:
        return _Schedule(sessions.time_zone, True, [], [])
    return _Schedule(sessions.time_zone, False, starts, ends)


class Calendar:
    """Next windows for many bots, with bounded caches: ``max_schedules`` compiled schedules and
    ``max_timelines`` (zone, four weeks) offset tables, the oldest dropped first.

    It trusts its input to be valid (:func:`validate`); an unknown zone still raises
    ``UnknownTimeZone``."""

    def __init__(self, *, max_schedules: int = 100_000, max_timelines: int = 2_000) -> None:
        self.max_schedules = max_schedules
        self.max_timelines = max_timelines
        self._schedules: dict[bytes, _Schedule] = {}
        self._by_identity: dict[int, tuple[TradingSessions, _Schedule]] = {}
        """The same ``TradingSessions`` object as last time: found without encoding it (the
        entry holds the object, so its id is not reused while it is here)."""
        self._timelines: dict[tuple[str, int], Timeline] = {}
        self._zones: dict[str, ZoneInfo] = {}
        self._now: datetime | None = None
        self._t = 0
        self._instants: dict[int, datetime] = {}

    def next_window(self, sessions: TradingSessions, now: datetime) -> Window | None:
        """The window containing ``now`` (``starts_at <= now < ends_at``), or else the next one
        to start; None if none ever will (no windows)."""
        known = self._by_identity.get(id(sessions))
        if known is not None and known[0] is sessions:
            schedule = known[1]
        else:
            schedule = self._schedule(sessions)
        if now is self._now:  # a timer pass asks for many bots at one instant
            t = self._t
        else:
            if now.tzinfo is None:
                raise ValueError(f"now must be aware (UTC), got {now!r}")
            t = math.floor(now.timestamp())
            self._now, self._t = now, t
        if schedule.always:
            return ALWAYS
        if schedule.since <= t < schedule.until:
            return schedule.answer
        if not schedule.starts:
            return None
        start, end = self._next(schedule, t)
        instants = self._instants
        if len(instants) > 100_000:
            instants.clear()
        starts_at = instants.get(start)
        if starts_at is None:
            starts_at = instants[start] = EPOCH + timedelta(seconds=start)
        ends_at = instants.get(end)
        if ends_at is None:
            ends_at = instants[end] = EPOCH + timedelta(seconds=end)
        window = Window(starts_at, ends_at)
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

    def prepare(self, sessions: TradingSessions) -> None:
        """Compile `sessions` now (when a configuration arrives) rather than in the next pass
        that asks for its window: the bots service's `Library` does so as it applies each
        version, so a timer pass after a start only computes. A zone this machine's time-zone
        database no longer knows is reported by the pass that asks, not here."""
        with contextlib.suppress(errors.UnknownTimeZone):
            self._schedule(sessions)

    def cache_sizes(self) -> tuple[int, int]:
        """How many compiled schedules and zone timelines are held (each bounded)."""
        return len(self._schedules), len(self._timelines)

    # --- internals ----------------------------------------------------------------------------------
    def _schedule(self, sessions: TradingSessions) -> _Schedule:
        key = msgspec.json.encode(sessions)
        schedule = self._schedules.get(key)
        if schedule is None:
            schedule = _compile(sessions)
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
        if len(self._by_identity) >= self.max_schedules:
            del self._by_identity[next(iter(self._by_identity))]
        self._by_identity[id(sessions)] = (sessions, schedule)
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
        zone, starts, ends = schedule.zone, schedule.starts, schedule.ends
        n = len(starts)
        timeline = self._timeline(zone, t)
        fixed = timeline.fixed
        now = t + fixed if fixed is not None else timeline.local(t)
        base = now - (now + _MONDAY) % WEEK  # local Monday 00:00 of this week
        i = bisect_right(starts, now - base) - 1
        if i < 0:  # perhaps in last week's last interval, running over Monday
            i, base = n - 1, base - WEEK
        if base + ends[i] <= now:
            i += 1
            if i == n:
                i, base = 0, base + WEEK
        if (
            fixed is not None
            and timeline.local_from <= base + starts[i]
            and base + ends[i] < timeline.local_until
        ):
            return base + starts[i] - fixed, base + ends[i] - fixed  # one offset, no DST change
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
                if (
                    schedule.gap_after(j) > self._timeline(zone, start).max_gap
                    or self._utc(zone, b + ends[j]) != start
                ):
                    break
                start = self._utc(zone, b + starts[j])
                j -= 1
        j, b = i, base
        for _ in range(n):
            if schedule.gap_after(j) > self._timeline(zone, end).max_gap:
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
