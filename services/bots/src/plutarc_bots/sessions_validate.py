"""Validation of trading sessions: the rules the wire shapes cannot state (see docs/bots.md,
"Trading sessions"). Pure: ``zoneinfo`` reads the time zone database, nothing else."""

from __future__ import annotations

import re
import zoneinfo
from functools import cache
from typing import NoReturn

from plutarc_contracts.bots import TradingSessions

from .domain import errors
from .sessions_week import WEEK, Interval, at, clock, describe, expand

_ZONE_NAME = re.compile(r"^[A-Za-z][A-Za-z0-9_+\-]*(/[A-Za-z0-9_+\-]+)*$")
_NOT_ZONES = frozenset({"localtime", "posixrules", "Factory"})
"""Names the database directory may hold that are not zones one may choose."""


@cache
def _known_zones() -> frozenset[str]:
    return frozenset(zoneinfo.available_timezones()) - _NOT_ZONES


def known_time_zone(name: str) -> bool:
    """An IANA zone name ``zoneinfo`` can load: never a path, ``localtime`` or ``Factory``."""
    if not _ZONE_NAME.match(name) or name not in _known_zones():
        return False
    try:
        zoneinfo.ZoneInfo(name)
    except (zoneinfo.ZoneInfoNotFoundError, ValueError):
        return False
    return True


def validate(sessions: TradingSessions, *, field: str = "sessions") -> None:
    """Raise the first rule broken, as a domain error whose ``field`` is under ``field``."""
    if not known_time_zone(sessions.time_zone):
        raise errors.UnknownTimeZone(
            f"{sessions.time_zone!r} is not a time zone of the IANA database "
            "(for example Europe/London, America/New_York or UTC)",
            field=f"{field}.time_zone",
        )
    windows = sessions.windows
    if sessions.always_on:
        if windows:
            raise errors.WindowsWithAlwaysOn(
                f"always_on is set and {len(windows)} window(s) are given: "
                "clear always_on to trade only in the windows, or remove the windows",
                field=f"{field}.windows",
            )
        return
    if not windows:
        raise errors.NoWindows(
            "no trading window and always_on is not set: the bot could never trade",
            field=f"{field}.windows",
        )
    for i, window in enumerate(windows):
        start, end = clock(window.start), clock(window.end)
        if not window.overnight and end <= start:
            raise errors.WindowEndsBeforeStart(
                f"windows[{i}] ({describe(window)}) ends at or before it starts; "
                "set overnight to end on the next day",
                field=f"{field}.windows[{i}].end",
            )
        if window.overnight and end > start:
            raise errors.WindowNotOvernight(
                f"windows[{i}] ({window.start}-{window.end}) is marked overnight but ends after "
                "it starts: it would last more than a day; clear overnight",
                field=f"{field}.windows[{i}].overnight",
            )
    _no_overlap(sessions, field)


def _no_overlap(sessions: TradingSessions, field: str) -> None:
    intervals = expand(sessions.windows)
    # An interval past Sunday midnight also runs over the start of the week.
    intervals += [
        Interval(x.start - WEEK, x.end - WEEK, x.window) for x in intervals if x.end > WEEK
    ]
    intervals.sort()
    reach: Interval | None = None  # the interval reaching furthest so far
    for x in intervals:
        if reach is not None and x.start < reach.end:
            _overlap(sessions, field, reach, x)
        if reach is None or x.end > reach.end:
            reach = x


def _overlap(sessions: TradingSessions, field: str, a: Interval, b: Interval) -> NoReturn:
    start, end = max(a.start, b.start), min(a.end, b.end)
    span = f"from {at(start)} to {at(end)}"
    first, second = sorted((a.window, b.window))
    windows = sessions.windows
    if first == second:
        raise errors.WindowsOverlap(
            f"windows[{first}] ({describe(windows[first])}) lists {at(start)[:3]} twice",
            field=f"{field}.windows[{first}].days",
        )
    raise errors.WindowsOverlap(
        f"windows[{first}] ({describe(windows[first])}) and windows[{second}] "
        f"({describe(windows[second])}) overlap {span}",
        field=f"{field}.windows[{second}]",
    )
