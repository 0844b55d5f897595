"""Trading windows for the compute service: published when a bot starts, when its window ends and
when its version changes; cleared when it stops; an archived workspace's bots stop."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from types import SimpleNamespace
from typing import Any

import msgspec
from plutarc_bots.sessions import Calendar
from plutarc_bots.views import Library
from plutarc_contracts import bots as b
from plutarc_contracts import identity as c
from plutarc_runtime.clock import FakeClock

from .conftest import ALICE, LONDON, Bots

FRIDAY_NOON = datetime(2026, 3, 27, 12, 0, tzinfo=UTC)
"""London is on GMT until Sunday 29 March 2026, 01:00 UTC."""
TICK = timedelta(seconds=5)
"""The timers' interval (BotsSettings.bots_timer_interval_seconds)."""


def utc(*args: int) -> datetime:
    return datetime(*args, tzinfo=UTC)  # type: ignore[misc]


def windows(bots: Bots, bot_id: str) -> list[Any]:
    return [
        (p.version, p.starts_at, p.ends_at)
        if isinstance(p, b.TradingWindowScheduled)
        else ("cleared", p.reason)
        for p in (e.payload for e in bots.of(bot_id, "bots.trading_window"))
    ]


def test_windows_follow_the_clock_across_a_dst_change(make_bots: Any) -> None:
    bots: Bots = make_bots(clock=FakeClock(FRIDAY_NOON))
    bot_id = bots.bot(sessions=LONDON)
    bots.advance(TICK)
    assert windows(bots, bot_id) == [], "a stopped bot has no window"
    bots.start(bot_id)
    bots.advance(TICK)
    # open now: Friday 08:00-16:30 London, which is GMT
    assert windows(bots, bot_id) == [(1, utc(2026, 3, 27, 8), utc(2026, 3, 27, 16, 30))]
    bots.advance(timedelta(hours=2))
    assert len(windows(bots, bot_id)) == 1, "nothing new while the window is open"
    bots.advance(timedelta(hours=2, minutes=30))  # 16:30 UTC: the window ended
    # Monday's window is on BST (UTC+1): 07:00-15:30 UTC
    assert windows(bots, bot_id)[-1] == (1, utc(2026, 3, 30, 7), utc(2026, 3, 30, 15, 30))
    again = len(windows(bots, bot_id))
    bots.advance(timedelta(minutes=5))
    assert len(windows(bots, bot_id)) == again, "a repeated pass publishes nothing twice"


def test_a_new_version_publishes_its_window_and_a_stop_clears_it(make_bots: Any) -> None:
    bots: Bots = make_bots(clock=FakeClock(FRIDAY_NOON))
    bot_id = bots.bot(sessions=LONDON)
    bots.start(bot_id)
    bots.advance(TICK)
    config = bots.events("bots.bot_created")[-1].payload.config
    tokyo = msgspec.structs.replace(LONDON, time_zone="Asia/Tokyo")
    bots.ok(
        ALICE,
        b.ReconfigureBot(
            workspace_id=bots.ws,
            bot_id=bot_id,
            config=msgspec.structs.replace(config, sessions=tokyo),
        ),
    )
    bots.advance(TICK)
    # Friday 12:00 UTC is 21:00 in Tokyo: the next window is Monday 08:00 JST = Sunday 23:00 UTC
    assert windows(bots, bot_id)[-1] == (2, utc(2026, 3, 29, 23), utc(2026, 3, 30, 7, 30))
    bots.ok(ALICE, b.StopBot(workspace_id=bots.ws, bot_id=bot_id))
    assert windows(bots, bot_id)[-1] == ("cleared", "stopped")
    bots.advance(timedelta(days=3))
    assert windows(bots, bot_id)[-1] == ("cleared", "stopped"), "a stopped bot stays cleared"


def test_an_always_on_bot_has_one_window_that_never_ends(make_bots: Any) -> None:
    bots: Bots = make_bots(clock=FakeClock(FRIDAY_NOON))
    bot_id = bots.bot()
    bots.start(bot_id)
    bots.advance(TICK)
    bots.advance(timedelta(days=30))
    (only,) = windows(bots, bot_id)
    assert only[0] == 1 and only[2] is None


def test_an_archived_workspaces_bots_stop(make_bots: Any) -> None:
    bots: Bots = make_bots(clock=FakeClock(FRIDAY_NOON))
    running, stopped = bots.bot(), bots.bot()
    bots.start(running)
    bots.identity(c.WorkspaceArchived(workspace_id=bots.ws))
    bots.advance(timedelta(seconds=5))
    stops = [e.payload for e in bots.events("bots.bot_stopped")]
    assert [(p.bot_id, p.reason) for p in stops] == [(running, "workspace_archived")]
    assert stopped not in {p.bot_id for p in stops}
    bots.advance(timedelta(seconds=5))
    assert len(bots.events("bots.bot_stopped")) == 1, "stopped once"
    start = b.StartBot(workspace_id=bots.ws, bot_id=running)
    bots.rejected(ALICE, start, "bots.workspace_archived")


def test_the_library_compiles_each_version_into_the_timers_calendar() -> None:
    """At start the read model catches up: each bot's schedule is compiled as its version is
    applied, so the timer's first pass only computes (docs/benchmarks.md, `sessions`)."""
    calendar = Calendar()
    library = Library(calendar)
    config = b.BotConfig(
        name="b",
        strategy=b.PinnedStrategy(strategy_id="s", version=1),
        market=b.MarketRef(venue="binance", symbol="BTC/USDT"),
        sessions=LONDON,
    )
    created = b.BotCreated(workspace_id="w", bot_id="b1", version=1, config=config, mode="paper")
    library.apply(SimpleNamespace(payload=created))
    assert calendar.cache_sizes()[0] == 1
    tokyo = msgspec.structs.replace(
        config, sessions=msgspec.structs.replace(LONDON, time_zone="Asia/Tokyo")
    )
    changed = b.BotReconfigured(
        workspace_id="w", bot_id="b1", version=2, config=tokyo, mode="paper", changed=["sessions"]
    )
    library.apply(SimpleNamespace(payload=changed))
    assert calendar.cache_sizes()[0] == 2
    window = calendar.next_window(tokyo.sessions, FRIDAY_NOON)
    assert window is not None and window.starts_at == utc(2026, 3, 29, 23)
