"""Windows across DST changes, computed by the bots service's own calendar (a test may import the
bots service; the compute package does not)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from plutarc_bots.sessions import Calendar
from plutarc_compute.leadtime import LeadTimes
from plutarc_contracts import bots as b
from plutarc_contracts import compute as c

from .scheduler_plain import Scheduler

WS, BOT = "ws-1", "bot-1"
LEAD = timedelta(seconds=30)


def sessions(zone: str) -> b.TradingSessions:
    return b.TradingSessions(
        time_zone=zone,
        always_on=False,
        windows=[
            b.SessionWindow(days=["mon", "tue", "wed", "thu", "fri"], start="08:00", end="16:30")
        ],
        end_rule="flatten",
    )


def drive(zone: str, since: datetime, days: int) -> list[tuple[datetime, datetime]]:
    """The bots service publishes each next window after the previous one ends; the host wakes
    and runs. Returns (window start, instant of its WakeHost) for each window starting after
    ``since`` (one open at ``since`` is woken at once)."""
    calendar, s = Calendar(), Scheduler(LeadTimes())
    now, until = since, since + timedelta(days=days)
    wakes: list[tuple[datetime, datetime]] = []
    while now < until:
        window = calendar.next_window(sessions(zone), now)
        assert window is not None and window.ends_at is not None
        s.window_published(WS, BOT, window.starts_at, window.ends_at, at=now)
        for instant in (now, window.starts_at - LEAD, window.starts_at, window.ends_at):
            for command in s.decide(instant):
                if isinstance(command, c.WakeHost) and window.starts_at > since:
                    wakes.append((window.starts_at, instant))
                    s.host_state(WS, BOT, "running", "127.0.0.2")
                elif isinstance(command, c.ReleaseHost):
                    s.host_state(WS, BOT, "asleep")
                else:
                    assert not isinstance(command, c.RecordMiss)
        now = window.ends_at + timedelta(seconds=5)
    return wakes


def test_london_falls_back_the_wake_follows_the_local_clock() -> None:
    wakes = drive("Europe/London", datetime(2026, 10, 22, tzinfo=UTC), 5)
    starts = [start for start, _ in wakes]
    assert starts == [
        datetime(2026, 10, 22, 7, 0, tzinfo=UTC),  # 08:00 BST
        datetime(2026, 10, 23, 7, 0, tzinfo=UTC),
        datetime(2026, 10, 26, 8, 0, tzinfo=UTC),  # 08:00 GMT, after 25 October
        datetime(2026, 10, 27, 8, 0, tzinfo=UTC),
    ]
    assert all(woken == start - LEAD for start, woken in wakes)


def test_sydney_springs_forward() -> None:
    wakes = drive("Australia/Sydney", datetime(2026, 9, 30, tzinfo=UTC), 7)
    starts = [start for start, _ in wakes]
    assert datetime(2026, 10, 1, 22, 0, tzinfo=UTC) in starts  # Fri 2 Oct 08:00 AEST (+10)
    assert datetime(2026, 10, 4, 21, 0, tzinfo=UTC) in starts  # Mon 5 Oct 08:00 AEDT (+11)
    assert all(woken == start - LEAD for start, woken in wakes)
