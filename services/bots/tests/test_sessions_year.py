"""A simulated year (2026) in four zones, DST changes included: the calendar's windows against an
independent oracle (sessions_oracle.py) that reads zoneinfo's wall clock every 15 minutes."""

from __future__ import annotations

import itertools
from bisect import bisect_right
from datetime import UTC, datetime, timedelta
from functools import cache

import pytest
from plutarc_bots.sessions import Calendar, Window, next_window, validate, windows_between
from plutarc_contracts.bots import SessionWindow, TradingSessions

from .sessions_oracle import oracle_windows, wall_clocks

ZONES = ["Europe/London", "America/New_York", "Asia/Tokyo", "Australia/Sydney"]
YEAR_START = datetime(2026, 1, 1, tzinfo=UTC)
YEAR_END = datetime(2027, 1, 1, tzinfo=UTC)
STEP = timedelta(minutes=15)
WEEKDAYS = ["mon", "tue", "wed", "thu", "fri"]
ALL_DAYS = [*WEEKDAYS, "sat", "sun"]


def w(days: list[str], start: str, end: str, overnight: bool = False) -> SessionWindow:
    return SessionWindow(days=days, start=start, end=end, overnight=overnight)  # type: ignore[arg-type]


SCHEDULES = {
    # Friday night into Saturday, beside ordinary weekday hours.
    "overnight": [w(["fri"], "22:00", "02:00", True), w(WEEKDAYS, "09:00", "17:00")],
    # On Sunday nights, where London (01:00-02:00), New York (02:00-03:00) and Sydney (02:00-03:00)
    # skip or repeat an hour: windows starting, ending, or wholly inside a skipped hour (empty
    # that day), ending in a repeated hour, and windows that touch in UTC only across the gap.
    "dst_edges": [
        w(["sat"], "23:00", "01:15", True),
        w(["sun"], "01:30", "02:15"),
        w(["sun"], "02:30", "02:45"),
        w(["sun"], "03:00", "03:30"),
    ],
    "weekend": [w(["sat", "sun"], "10:00", "18:00")],
    "every_day": [w(ALL_DAYS, "08:00", "16:30")],
    # Touching windows are one window: adjacent on Monday, and Sunday night running into Monday.
    "adjacent": [
        w(["mon"], "08:00", "12:00"),
        w(["mon"], "12:00", "16:00"),
        w(["sun"], "23:00", "01:00", True),
        w(["mon"], "01:00", "03:00"),
    ],
    # Every Sunday in the early hours: each zone's DST Sunday (London, New York, Sydney) lands
    # on the edges.
    "sunday_night": [w(["sat"], "23:00", "02:30", True), w(["sun"], "02:45", "03:15")],
}


def sessions_for(zone: str, name: str) -> TradingSessions:
    return TradingSessions(time_zone=zone, always_on=False, windows=SCHEDULES[name])


@cache
def clocks(zone: str) -> list[tuple[datetime, datetime]]:
    return wall_clocks(zone, YEAR_START - timedelta(days=10), YEAR_END + timedelta(days=10), STEP)


@cache
def expected(zone: str, name: str) -> list[tuple[datetime, datetime]]:
    runs = oracle_windows(sessions_for(zone, name), clocks(zone))
    return [(s, e) for s, e in runs if e > YEAR_START and s < YEAR_END]


def pair(window: Window) -> tuple[datetime, datetime | None]:
    return (window.starts_at, window.ends_at)


@pytest.mark.parametrize("zone", ZONES)
@pytest.mark.parametrize("name", sorted(SCHEDULES))
def test_a_year_of_windows_matches_the_oracle(zone: str, name: str) -> None:
    sessions = sessions_for(zone, name)
    validate(sessions)
    want = expected(zone, name)
    assert len(want) > 40
    got = [pair(x) for x in windows_between(sessions, YEAR_START, YEAR_END)]
    assert got == want

    calendar = Calendar()
    second = timedelta(seconds=1)
    for before, (start, end) in zip([None, *want], want, strict=False):
        probes = [start - second, start, start + second, start + (end - start) / 2, end - second]
        if before is not None:
            probes.append(before[1])  # the previous window's end: this one is next
        for probe in probes:
            assert pair(calendar.next_window(sessions, probe)) == (start, end), probe  # type: ignore[arg-type]
    # A fresh calendar, going backwards in time: the same answers.
    for start, end in reversed(want[::7]):
        assert pair(next_window(sessions, start)) == (start, end)  # type: ignore[arg-type]
        assert pair(calendar.next_window(sessions, end - second)) == (start, end)  # type: ignore[arg-type]


def transitions(zone: str) -> list[datetime]:
    """The instants of the grid where the zone's offset changes (from the oracle's clocks)."""
    grid = clocks(zone)
    return [t for (t0, wall0), (t, wall) in itertools.pairwise(grid) if wall - wall0 != t - t0]


@pytest.mark.parametrize("zone", ZONES)
@pytest.mark.parametrize("name", sorted(SCHEDULES))
def test_every_instant_around_the_dst_changes(zone: str, name: str) -> None:
    """Each 15 minutes for a day on either side of each change (the second pass of a repeated
    hour included): the first window of the oracle that ends after."""
    sessions = sessions_for(zone, name)
    want = expected(zone, name)
    probes = {
        change + STEP * k + timedelta(seconds=s)
        for change in transitions(zone)
        for k in range(-96, 96)
        for s in (0, 1)
    }
    assert len(probes) >= (0 if zone == "Asia/Tokyo" else 700)
    ends = [end for _, end in want]
    calendar = Calendar()
    for probe in sorted(probes, reverse=True):  # backwards: no answer is reused
        first = want[bisect_right(ends, probe)]
        assert pair(calendar.next_window(sessions, probe)) == first, probe  # type: ignore[arg-type]


def utc(year: int, month: int, day: int, hour: int = 0, minute: int = 0) -> datetime:
    return datetime(year, month, day, hour, minute, tzinfo=UTC)


@pytest.mark.parametrize(
    ("zone", "window"),
    [
        # London, 29 March: 01:15 and 01:30 are both skipped; the windows touch at 01:00Z.
        ("Europe/London", (utc(2026, 3, 28, 23, 0), utc(2026, 3, 29, 1, 15))),
        # London, 25 October: 01:15 and 01:30 BST, their first occurrences; 02:15 GMT.
        ("Europe/London", (utc(2026, 10, 24, 22, 0), utc(2026, 10, 25, 0, 15))),
        ("Europe/London", (utc(2026, 10, 25, 0, 30), utc(2026, 10, 25, 2, 15))),
        # New York, 8 March: 02:15 skipped (03:00 EDT), 02:30-02:45 empty, 03:00 EDT touches.
        ("America/New_York", (utc(2026, 3, 8, 6, 30), utc(2026, 3, 8, 7, 30))),
        # Sydney, 4 October (spring forward 02:00 AEST to 03:00 AEDT at 16:00Z).
        ("Australia/Sydney", (utc(2026, 10, 3, 15, 30), utc(2026, 10, 3, 16, 30))),
        # Sydney, 5 April (03:00 AEDT back to 02:00 AEST at 16:00Z): first occurrences.
        ("Australia/Sydney", (utc(2026, 4, 4, 14, 30), utc(2026, 4, 4, 15, 15))),
        ("Australia/Sydney", (utc(2026, 4, 4, 15, 30), utc(2026, 4, 4, 15, 45))),
        ("Australia/Sydney", (utc(2026, 4, 4, 17, 0), utc(2026, 4, 4, 17, 30))),
    ],
)
def test_the_oracle_and_the_calendar_agree_with_a_hand_reading(
    zone: str, window: tuple[datetime, datetime]
) -> None:
    """Written out by hand from the rules, so the oracle itself is checked at the DST edges."""
    assert window in expected(zone, "dst_edges")
    got = windows_between(sessions_for(zone, "dst_edges"), window[0], window[1])
    assert [pair(x) for x in got] == [window]


def test_a_window_inside_a_skipped_hour_is_empty_that_day() -> None:
    sessions = sessions_for("America/New_York", "dst_edges")
    sunday = windows_between(sessions, utc(2026, 3, 8), utc(2026, 3, 9))
    assert [pair(x) for x in sunday] == [
        (utc(2026, 3, 8, 4, 0), utc(2026, 3, 8, 6, 15)),  # Saturday 23:00 EST to 01:15 EST
        (utc(2026, 3, 8, 6, 30), utc(2026, 3, 8, 7, 30)),  # 01:30 EST to 03:30 EDT
    ]
    week_before = windows_between(sessions, utc(2026, 3, 1), utc(2026, 3, 2))
    assert (utc(2026, 3, 1, 7, 30), utc(2026, 3, 1, 7, 45)) in [pair(x) for x in week_before]
