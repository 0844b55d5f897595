"""An independent reading of the trading-session rules (docs/bots.md, "Trading sessions"), for
tests: walk UTC in steps, ask ``zoneinfo`` for the wall clock at each instant, decide membership
from the local date and time alone, and take the runs of members as the windows.

Shares nothing with the calendar but the wire shapes. During the second pass of a repeated hour
(``fold == 1``) the clock is held one second before the end of the repeat, as the rules say; the
end of the repeat is found by walking forward minute by minute until the fold ends.
"""

from __future__ import annotations

from datetime import UTC, datetime, time, timedelta
from zoneinfo import ZoneInfo

from plutarc_contracts.bots import TradingSessions

DAYS = ["mon", "tue", "wed", "thu", "fri", "sat", "sun"]


def wall_clock(t: datetime, zone: ZoneInfo) -> datetime:
    """The wall clock at ``t`` read as never going backwards (naive local time)."""
    local = t.astimezone(zone)
    if local.fold == 0:
        return local.replace(tzinfo=None)
    later = t
    while later.astimezone(zone).fold == 1:
        later += timedelta(minutes=1)
    return later.astimezone(zone).replace(tzinfo=None) - timedelta(seconds=1)


def member(sessions: TradingSessions, wall: datetime) -> bool:
    """Whether a window is open at local ``wall``: opened on its day at ``start`` and not yet
    closed, or opened the day before overnight and not yet at ``end``."""
    day = DAYS[wall.weekday()]
    yesterday = DAYS[(wall.date() - timedelta(days=1)).weekday()]
    clock = wall.time()
    for window in sessions.windows:
        start = time.fromisoformat(window.start)
        end = time.fromisoformat(window.end)
        if day in window.days and start <= clock and (window.overnight or clock < end):
            return True
        if window.overnight and yesterday in window.days and clock < end:
            return True
    return False


def wall_clocks(
    zone_name: str, start: datetime, end: datetime, step: timedelta
) -> list[tuple[datetime, datetime]]:
    """Each instant of the grid from ``start`` to ``end`` and its wall clock."""
    zone = ZoneInfo(zone_name)
    out = []
    t = start
    while t < end:
        out.append((t, wall_clock(t, zone)))
        t += step
    return out


def oracle_windows(
    sessions: TradingSessions, clocks: list[tuple[datetime, datetime]]
) -> list[tuple[datetime, datetime]]:
    """The runs of grid instants in the windows (a run open at either end of the grid is left
    out)."""
    runs: list[tuple[datetime, datetime]] = []
    opened: datetime | None = None
    was = True
    for t, wall in clocks:
        now = member(sessions, wall)
        if now and not was:
            opened = t
        elif was and not now and opened is not None:
            runs.append((opened.astimezone(UTC), t.astimezone(UTC)))
        was = now
    return runs
