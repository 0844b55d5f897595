"""Weekly wall-clock arithmetic shared by the sessions' validation and calendar.

A week of local wall time is the axis ``[0, WEEK)`` in seconds from Monday 00:00. A window on one
of its days is the interval ``[day * DAY + start, day * DAY + end)`` on it; an overnight window's
end is on the next day, so a Sunday overnight window ends past ``WEEK`` (on next week's Monday).
"""

from __future__ import annotations

from typing import NamedTuple

from plutarc_contracts.bots import WEEKDAYS, SessionWindow

MINUTE = 60
DAY = 86_400
WEEK = 7 * DAY
DAY_INDEX = {name: i for i, name in enumerate(WEEKDAYS)}


class Interval(NamedTuple):
    """One day's occurrence of a window on the weekly axis, in seconds."""

    start: int
    end: int
    window: int
    """The window's index in ``TradingSessions.windows``."""


def clock(hhmm: str) -> int:
    """``"08:30"`` as seconds after midnight."""
    return (int(hhmm[:2]) * 60 + int(hhmm[3:5])) * MINUTE


def expand(windows: list[SessionWindow]) -> list[Interval]:
    """Each window on each of its days, in the order given (not sorted, not merged). A window
    whose end is not after its start without ``overnight`` is invalid: it expands to nothing."""
    out: list[Interval] = []
    for index, window in enumerate(windows):
        start = clock(window.start)
        end = clock(window.end)
        if window.overnight:
            end += DAY
        elif end <= start:
            continue
        for day in window.days:
            base = DAY_INDEX[day] * DAY
            out.append(Interval(base + start, base + end, index))
    return out


def describe(window: SessionWindow) -> str:
    """``"mon, tue 08:00-16:30"`` or ``"fri 22:00 to 02:00 the next day"``."""
    days = ", ".join(window.days)
    if window.overnight:
        return f"{days} {window.start} to {window.end} the next day"
    return f"{days} {window.start}-{window.end}"


def at(seconds: int) -> str:
    """A point on the weekly axis as ``"sat 01:00"`` (wrapping past Sunday)."""
    day, rest = divmod(seconds % WEEK, DAY)
    return f"{WEEKDAYS[day]} {rest // 3600:02d}:{rest % 3600 // 60:02d}"
