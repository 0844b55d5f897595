"""Trading sessions: validation codes and fields, DST examples written out by hand, always-on,
the calendar's caches, and properties of random schedules."""

from __future__ import annotations

import itertools
from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
from hypothesis import assume, given, settings
from hypothesis import strategies as st
from plutarc_bots.domain import errors
from plutarc_bots.sessions import (
    ALWAYS_ON_SINCE,
    Calendar,
    Window,
    next_window,
    validate,
    windows_between,
)
from plutarc_contracts.bots import WEEKDAYS, SessionWindow, TradingSessions
from plutarc_runtime.domain import Invalid

from .sessions_oracle import member, wall_clock


def utc(year: int, month: int, day: int, hour: int = 0, minute: int = 0) -> datetime:
    return datetime(year, month, day, hour, minute, tzinfo=UTC)


def window(days: str, start: str, end: str, overnight: bool = False) -> SessionWindow:
    return SessionWindow(days=days.split(), start=start, end=end, overnight=overnight)  # type: ignore[arg-type]


def sessions(zone: str, *windows: SessionWindow) -> TradingSessions:
    return TradingSessions(time_zone=zone, always_on=False, windows=list(windows))


def between(s: TradingSessions, start: datetime, end: datetime) -> list[tuple[datetime, datetime]]:
    out = []
    for w in windows_between(s, start, end):
        assert w.ends_at is not None
        out.append((w.starts_at, w.ends_at))
    return out


# --- validation -----------------------------------------------------------------------------------
def rejected(s: TradingSessions, **kwargs: str) -> Invalid:
    with pytest.raises(Invalid) as caught:
        validate(s, **kwargs)
    return caught.value


@pytest.mark.parametrize(
    "zone",
    [
        "Mars/Olympus_Mons",
        "localtime",
        "Factory",
        "posixrules",
        "/etc/localtime",
        "/usr/share/zoneinfo/Europe/London",
        "../zoneinfo/Europe/London",
        "Europe/../Europe/London",
        "posix/Europe/London",
        "europe/london",
        "",
    ],
)
def test_an_unknown_time_zone_is_refused(zone: str) -> None:
    error = rejected(TradingSessions(time_zone=zone))
    assert isinstance(error, errors.UnknownTimeZone)
    assert (error.code, error.field) == ("bots.unknown_time_zone", "sessions.time_zone")
    assert "IANA" in error.detail


@pytest.mark.parametrize("zone", ["UTC", "Europe/London", "America/Argentina/Buenos_Aires"])
def test_known_time_zones_pass(zone: str) -> None:
    validate(TradingSessions(time_zone=zone))


def test_an_end_at_or_before_the_start_needs_overnight() -> None:
    s = sessions("UTC", window("mon", "08:00", "12:00"), window("tue wed", "09:00", "08:30"))
    error = rejected(s)
    assert (error.code, error.field) == ("bots.window_ends_before_start", "sessions.windows[1].end")
    assert "windows[1] (tue, wed 09:00-08:30)" in error.detail
    error = rejected(sessions("UTC", window("mon", "08:00", "08:00")))
    assert (error.code, error.field) == ("bots.window_ends_before_start", "sessions.windows[0].end")


def test_overnight_with_an_end_after_the_start_is_ambiguous() -> None:
    error = rejected(sessions("UTC", window("fri", "08:00", "09:00", overnight=True)))
    assert (error.code, error.field) == (
        "bots.window_not_overnight",
        "sessions.windows[0].overnight",
    )
    assert "08:00-09:00" in error.detail


@pytest.mark.parametrize(
    ("windows", "field", "words"),
    [
        (
            [window("mon tue", "08:00", "12:00"), window("tue", "11:00", "14:00")],
            "sessions.windows[1]",
            "overlap from tue 11:00 to tue 12:00",
        ),
        (  # an overnight window spilling into the next day's window
            [window("sat", "01:00", "05:00"), window("fri", "22:00", "02:00", overnight=True)],
            "sessions.windows[1]",
            "overlap from sat 01:00 to sat 02:00",
        ),
        (  # Sunday night into Monday, across the end of the week
            [window("mon", "01:30", "09:00"), window("sun", "22:00", "02:00", overnight=True)],
            "sessions.windows[1]",
            "overlap from mon 01:30 to mon 02:00",
        ),
        (  # a day listed twice in one window
            [window("mon", "20:00", "21:00"), window("wed mon wed", "08:00", "09:00")],
            "sessions.windows[1].days",
            "windows[1] (wed, mon, wed 08:00-09:00) lists wed twice",
        ),
        (  # 24 hours overnight, twice on the same day
            [window("thu", "06:00", "06:00", True), window("thu", "12:00", "12:00", True)],
            "sessions.windows[1]",
            "overlap from thu 12:00 to fri 06:00",
        ),
    ],
)
def test_overlapping_windows_are_refused(
    windows: list[SessionWindow], field: str, words: str
) -> None:
    error = rejected(sessions("Europe/Paris", *windows))
    assert (error.code, error.field) == ("bots.windows_overlap", field)
    assert words in error.detail


def test_touching_windows_are_not_overlapping() -> None:
    validate(
        sessions(
            "UTC",
            window("mon", "08:00", "12:00"),
            window("mon", "12:00", "16:00"),
            window("sun", "22:00", "08:00", overnight=True),
        )
    )


def test_always_on_and_windows_are_exclusive() -> None:
    error = rejected(TradingSessions(always_on=False))
    assert (error.code, error.field) == ("bots.no_windows", "sessions.windows")
    error = rejected(TradingSessions(always_on=True, windows=[SessionWindow.example()]))
    assert (error.code, error.field) == ("bots.windows_with_always_on", "sessions.windows")
    validate(TradingSessions())
    validate(TradingSessions.example())


def test_the_field_path_starts_where_the_caller_says() -> None:
    error = rejected(TradingSessions(time_zone="Nowhere"), field="config.sessions")
    assert error.field == "config.sessions.time_zone"


# --- DST, by hand ------------------------------------------------------------------------------------
def test_london_spring_forward() -> None:
    """29 March 2026: at 01:00 GMT (01:00Z) the clocks go to 02:00 BST."""
    s = sessions("Europe/London", window("sun", "01:30", "03:00"))
    assert between(s, utc(2026, 3, 22), utc(2026, 4, 6)) == [
        (utc(2026, 3, 22, 1, 30), utc(2026, 3, 22, 3, 0)),  # GMT
        (utc(2026, 3, 29, 1, 0), utc(2026, 3, 29, 2, 0)),  # 01:30 skipped: from the jump, 1 h
        (utc(2026, 4, 5, 0, 30), utc(2026, 4, 5, 2, 0)),  # BST
    ]
    s = sessions("Europe/London", window("sun", "08:00", "16:00"))
    assert between(s, utc(2026, 3, 29), utc(2026, 3, 30)) == [
        (utc(2026, 3, 29, 7, 0), utc(2026, 3, 29, 15, 0))
    ]
    # Both ends in the skipped hour: no window that day.
    s = sessions("Europe/London", window("sun", "01:15", "01:45"))
    assert next_window(s, utc(2026, 3, 29)) == Window(
        utc(2026, 4, 5, 0, 15), utc(2026, 4, 5, 0, 45)
    )


def test_london_fall_back() -> None:
    """25 October 2026: at 02:00 BST (01:00Z) the clocks go back to 01:00 GMT."""
    s = sessions("Europe/London", window("sun", "00:00", "01:30"))
    assert between(s, utc(2026, 10, 24), utc(2026, 10, 26)) == [
        (utc(2026, 10, 24, 23, 0), utc(2026, 10, 25, 0, 30))  # ends at the first 01:30
    ]
    # During the second 01:00-02:00 the window has ended: the next is a week later.
    assert next_window(s, utc(2026, 10, 25, 1, 10)) == Window(
        utc(2026, 11, 1, 0, 0), utc(2026, 11, 1, 1, 30)
    )
    s = sessions("Europe/London", window("sun", "01:30", "03:00"))
    assert between(s, utc(2026, 10, 25), utc(2026, 10, 26)) == [
        (utc(2026, 10, 25, 0, 30), utc(2026, 10, 25, 3, 0))  # 2 h 30: both 01:30s are in
    ]
    s = sessions("Europe/London", window("sun", "01:00", "02:00"))
    assert between(s, utc(2026, 10, 25), utc(2026, 10, 26)) == [
        (utc(2026, 10, 25, 0, 0), utc(2026, 10, 25, 2, 0))  # the repeated hour, twice
    ]


def test_sydney_is_the_other_way_round() -> None:
    """Sydney leaves DST on 5 April 2026 (03:00 AEDT back to 02:00 AEST, at 16:00Z the day
    before) and enters it on 4 October 2026 (02:00 AEST to 03:00 AEDT, at 16:00Z)."""
    weekdays = sessions("Australia/Sydney", window("mon tue wed thu fri", "10:00", "16:00"))
    assert next_window(weekdays, utc(2026, 1, 4, 12)) == Window(
        utc(2026, 1, 4, 23, 0),
        utc(2026, 1, 5, 5, 0),  # AEDT, UTC+11: Monday starts on Sunday
    )
    assert next_window(weekdays, utc(2026, 7, 5, 12)) == Window(
        utc(2026, 7, 6, 0, 0),
        utc(2026, 7, 6, 6, 0),  # AEST, UTC+10
    )
    s = sessions("Australia/Sydney", window("sun", "02:30", "03:30"))
    assert between(s, utc(2026, 4, 4), utc(2026, 4, 5)) == [
        (utc(2026, 4, 4, 15, 30), utc(2026, 4, 4, 17, 30))  # first 02:30 (AEDT) to 03:30 AEST
    ]
    s = sessions("Australia/Sydney", window("sun", "01:00", "02:30"))
    assert between(s, utc(2026, 4, 4), utc(2026, 4, 5)) == [
        (utc(2026, 4, 4, 14, 0), utc(2026, 4, 4, 15, 30))  # ends at the first 02:30
    ]
    s = sessions("Australia/Sydney", window("sun", "02:30", "04:00"))
    assert between(s, utc(2026, 10, 3), utc(2026, 10, 4)) == [
        (utc(2026, 10, 3, 16, 0), utc(2026, 10, 3, 17, 0))  # 02:30 skipped: from the jump
    ]


# --- the calendar ------------------------------------------------------------------------------------
def test_always_on_is_the_same_window_at_every_call() -> None:
    calendar = Calendar()
    first = calendar.next_window(TradingSessions(), utc(2026, 1, 1))
    assert first == Window(ALWAYS_ON_SINCE, None)
    assert first.starts_at == datetime(1970, 1, 1, tzinfo=UTC)
    assert calendar.next_window(TradingSessions(), utc(2031, 5, 6, 7, 8)) == first
    assert windows_between(TradingSessions(), utc(2026, 1, 1), utc(2026, 2, 1)) == [first]


def test_a_schedule_covering_the_whole_week_is_always_on() -> None:
    s = sessions("Europe/London", window(" ".join(WEEKDAYS), "06:00", "06:00", overnight=True))
    validate(s)
    assert next_window(s, utc(2026, 3, 29, 1)) == Window(ALWAYS_ON_SINCE, None)


def test_no_window_at_all_is_none() -> None:
    assert next_window(TradingSessions(always_on=False), utc(2026, 1, 1)) is None
    assert windows_between(TradingSessions(always_on=False), utc(2026, 1, 1), utc(2027, 1, 1)) == []


def test_touching_windows_are_one_window() -> None:
    s = sessions(
        "America/New_York",
        window("mon", "12:00", "16:00"),
        window("mon", "08:00", "12:00"),
        window("sun", "22:00", "08:00", overnight=True),
    )
    assert between(s, utc(2026, 6, 1), utc(2026, 6, 9)) == [
        (utc(2026, 6, 1, 2, 0), utc(2026, 6, 1, 20, 0)),  # Sunday 22:00 EDT to Monday 16:00
        (utc(2026, 6, 8, 2, 0), utc(2026, 6, 8, 20, 0)),
    ]


def test_the_window_containing_now_and_the_next_one() -> None:
    s = sessions("Asia/Tokyo", window("mon tue wed thu fri", "09:00", "15:00"))
    inside = Window(utc(2026, 12, 3, 0, 0), utc(2026, 12, 3, 6, 0))  # Thursday, JST = UTC+9
    calendar = Calendar()
    for now in (utc(2026, 12, 3, 0, 0), utc(2026, 12, 3, 3, 0), utc(2026, 12, 3, 5, 59)):
        assert calendar.next_window(s, now) == inside
    # Friday's, then Monday's (past the weekend), asked of fresh calendars and of this one.
    friday = Window(utc(2026, 12, 4, 0, 0), utc(2026, 12, 4, 6, 0))
    monday = Window(utc(2026, 12, 7, 0, 0), utc(2026, 12, 7, 6, 0))
    assert next_window(s, utc(2026, 12, 3, 6, 0)) == friday
    assert calendar.next_window(s, utc(2026, 12, 3, 6, 0)) == friday
    assert next_window(s, utc(2026, 12, 4, 6, 0)) == monday
    assert calendar.next_window(s, utc(2026, 12, 5, 12, 0)) == monday
    assert calendar.next_window(s, utc(2026, 12, 3, 1, 0)) == inside  # back in time


def test_now_must_be_aware_and_zones_known() -> None:
    with pytest.raises(ValueError, match="aware"):
        next_window(sessions("UTC", window("mon", "08:00", "09:00")), datetime(2026, 1, 1))
    with pytest.raises(errors.UnknownTimeZone):
        next_window(sessions("Nowhere/Special", window("mon", "08:00", "09:00")), utc(2026, 1, 1))


def test_the_caches_are_bounded() -> None:
    calendar = Calendar(max_schedules=3, max_timelines=4)
    now = utc(2026, 1, 1)
    for i in range(10):
        s = sessions(["Europe/London", "Asia/Tokyo"][i % 2], window("mon", f"0{i}:00", "10:00"))
        assert calendar.next_window(s, now + timedelta(days=30 * i)) is not None
    schedules, timelines = calendar.cache_sizes()
    assert schedules <= 3
    assert timelines <= 4


# --- properties of random schedules ------------------------------------------------------------------
PROPERTY_ZONES = [
    "Europe/London",
    "America/New_York",
    "Australia/Sydney",
    "Australia/Lord_Howe",  # DST of 30 minutes
    "America/St_Johns",  # UTC-03:30 / -02:30
    "Asia/Kathmandu",  # UTC+05:45
    "Pacific/Chatham",  # UTC+12:45 / +13:45
    "America/Santiago",
    "UTC",
]


@st.composite
def schedules(draw: st.DrawFn) -> TradingSessions:
    windows = []
    for _ in range(draw(st.integers(1, 4))):
        days = draw(st.lists(st.sampled_from(WEEKDAYS), min_size=1, max_size=7, unique=True))
        start = draw(st.integers(0, 24 * 4 - 1)) * 15
        length = draw(st.integers(1, 24 * 4)) * 15
        end = (start + length) % 1440
        windows.append(
            SessionWindow(
                days=days,  # type: ignore[arg-type]
                start=f"{start // 60:02d}:{start % 60:02d}",
                end=f"{end // 60:02d}:{end % 60:02d}",
                overnight=end <= start,
            )
        )
    s = TradingSessions(
        time_zone=draw(st.sampled_from(PROPERTY_ZONES)), always_on=False, windows=windows
    )
    try:
        validate(s)
    except Invalid:
        assume(False)
    return s


instants = st.datetimes(
    min_value=datetime(2024, 1, 1), max_value=datetime(2032, 12, 31), timezones=st.just(UTC)
)


@settings(max_examples=200, deadline=None)
@given(schedules(), instants)
def test_the_next_window_contains_now_or_starts_after_it(s: TradingSessions, now: datetime) -> None:
    w = next_window(s, now)
    assert w is not None
    if w.ends_at is None:
        return  # the whole week is covered
    assert w.starts_at < w.ends_at
    assert now < w.ends_at
    contains = w.starts_at <= now
    assert contains == member(s, wall_clock(now, ZoneInfo(s.time_zone)))


@settings(max_examples=100, deadline=None)
@given(schedules(), instants)
def test_windows_between_are_ordered_apart_and_not_empty(
    s: TradingSessions, start: datetime
) -> None:
    found = windows_between(s, start, start + timedelta(days=15))
    assert found
    assert found[0] == next_window(s, start)
    for before, after in itertools.pairwise(found):
        assert before.ends_at is not None
        assert before.starts_at < before.ends_at < after.starts_at
