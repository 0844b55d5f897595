"""The scheduler's rules on simulated time: one bot (or a few), a London window on a Monday."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from decimal import Decimal

from plutarc_compute.leadtime import LeadTimes, LeadTimeSettings
from plutarc_contracts import Payload
from plutarc_contracts import compute as c

from .scheduler_plain import Scheduler

WS = "ws-1"
BOT = "bot-1"
START = datetime(2026, 12, 7, 8, 0, tzinfo=UTC)
END = datetime(2026, 12, 7, 16, 30, tzinfo=UTC)
LEAD = timedelta(seconds=30)
S = timedelta(seconds=1)


class Harness:
    """``linger`` 0 unless given: most rules are simpler to read with a release at the end."""

    def __init__(self, **options: object) -> None:
        options.setdefault("linger", timedelta(0))
        self.s = Scheduler(LeadTimes(), **options)  # type: ignore[arg-type]
        self.now = START - timedelta(hours=2)

    def at(self, when: datetime) -> list[Payload]:
        self.now = when
        return self.s.decide(when)

    def publish(self, start: datetime = START, end: datetime | None = END, bot: str = BOT) -> None:
        self.s.window_published(WS, bot, start, end, "flatten", "Europe/London", at=self.now)

    def state(self, state: str, bot: str = BOT) -> None:
        self.s.host_state(WS, bot, state, "127.0.0.5" if state == "running" else None)

    def awake_in_window(self) -> None:
        """Published, planned, woken, running and verified: inside the window."""
        self.publish()
        self.at(START - LEAD)
        self.state("waking")
        self.state("running")
        assert kinds(self.at(START - 5 * S)) == ["VerifyAddress"]
        assert self.at(START) == []


def kinds(commands: list[Payload]) -> list[str]:
    return [type(command).__name__ for command in commands]


def test_a_published_window_is_planned_once() -> None:
    h = Harness()
    h.publish()
    assert h.at(h.now) == [
        c.PlanWindow(
            workspace_id=WS,
            bot_id=BOT,
            starts_at=START,
            ends_at=END,
            end_rule="flatten",
            time_zone="Europe/London",
        )
    ]
    assert h.at(h.now) == []
    h.publish()  # the same window again (a replay): nothing new
    assert h.at(h.now) == []


def test_woken_a_lead_time_before_the_start_and_only_once() -> None:
    h = Harness()
    h.publish()
    h.at(h.now)
    assert h.s.next_due() == START - LEAD
    assert h.s.next_wake(BOT, h.now) == START - LEAD
    assert h.s.next_wake(BOT, END) is None  # that window is over
    assert h.s.next_wake("bot-unknown", h.now) is None
    assert h.at(START - LEAD - S) == []
    assert h.at(START - LEAD) == [
        c.WakeHost(workspace_id=WS, bot_id=BOT, reason="window", window_starts_at=START)
    ]
    assert h.at(START - LEAD) == []
    h.state("waking")
    assert h.at(START - LEAD + S) == []
    assert h.s.next_wake(BOT, h.now) is None  # woken already


def test_a_longer_measured_lead_time_wakes_earlier() -> None:
    lead = LeadTimes(LeadTimeSettings(min_samples=1, factor=1, margin_seconds=0))
    s = Scheduler(lead)
    s.window_published(WS, BOT, START, END)
    assert s.decide(START - timedelta(hours=1)) != []
    s.provisioned(WS, "other", 120_000, "127.0.0.9")  # a measured wake of the local provider
    assert s.decide(START - timedelta(seconds=121)) == []
    assert kinds(s.decide(START - timedelta(seconds=120))) == ["WakeHost"]


def test_a_lead_time_that_shrinks_after_the_wake_does_not_release_the_host() -> None:
    lead = LeadTimes(LeadTimeSettings(min_samples=1, factor=1, margin_seconds=0))
    lead.record("local", 60_000)
    s = Scheduler(lead)
    s.window_published(WS, BOT, START, END)
    assert kinds(s.decide(START - timedelta(seconds=60))) == ["PlanWindow", "WakeHost"]
    s.provisioned(WS, BOT, 12_000, "127.0.0.5")  # the 60 s measurement is now the p95 of two
    for _ in range(40):
        s.provisioned(WS, "other", 12_000, "127.0.0.6")  # ... and now 12 s
    s.host_state(WS, BOT, "running", "127.0.0.5")
    assert kinds(s.decide(START - timedelta(seconds=40))) == ["VerifyAddress"]  # not released
    assert s.decide(START - timedelta(seconds=30)) == []
    assert s.decide(START) == []


def test_the_address_is_verified_once_shortly_before_the_start() -> None:
    lead = LeadTimes(LeadTimeSettings(min_samples=1, factor=1, margin_seconds=0))
    lead.record("local", 300_000)  # a 5 min lead: the host runs well before the check
    s = Scheduler(lead)
    s.window_published(WS, BOT, START, END)
    s.decide(START - timedelta(minutes=5))
    s.host_state(WS, BOT, "running", "127.0.0.5")
    assert s.decide(START - timedelta(minutes=2)) == []
    assert s.next_due() == START - timedelta(seconds=60)
    assert s.decide(START - timedelta(seconds=60)) == [
        c.VerifyAddress(workspace_id=WS, bot_id=BOT, window_starts_at=START)
    ]
    assert s.decide(START) == []


def test_a_host_not_running_at_the_start_is_one_recorded_miss() -> None:
    h = Harness()
    h.publish()
    h.at(START - LEAD)
    h.state("waking")
    assert h.at(START - S) == []
    assert h.at(START) == [c.RecordMiss(workspace_id=WS, bot_id=BOT, window_starts_at=START)]
    assert h.at(START + S) == []
    h.state("running")
    assert kinds(h.at(START + 2 * S)) == ["VerifyAddress"]  # late, but checked
    assert h.at(START + 3 * S) == []


def test_no_miss_when_running_or_when_the_window_was_published_after_its_start() -> None:
    h = Harness()
    h.awake_in_window()
    late = Harness()
    late.now = START + timedelta(minutes=10)  # the bot was started mid-window
    late.publish()
    assert kinds(late.at(late.now)) == ["PlanWindow", "WakeHost"]
    assert late.at(late.now + S) == []


def test_released_at_the_end_when_flat() -> None:
    h = Harness()
    h.awake_in_window()
    assert h.s.next_due() == END
    assert h.at(END - S) == []
    assert h.at(END) == [c.ReleaseHost(workspace_id=WS, bot_id=BOT, reason="flat")]
    assert h.at(END + S) == []
    h.state("draining")
    h.state("asleep")
    assert h.at(END + 10 * S) == []


def test_a_host_lingers_for_a_next_window_that_starts_within_the_lead_time() -> None:
    h = Harness(linger=timedelta(seconds=15))
    h.awake_in_window()
    assert h.at(END) == []  # the next window is not published yet
    nxt = END + timedelta(seconds=40)  # its wake time (END + 10 s) is within the linger
    h.publish(nxt, nxt + timedelta(hours=2))
    assert kinds(h.at(END + 5 * S)) == ["PlanWindow", "VerifyAddress"]  # kept, no release
    assert h.at(nxt) == []  # running at its start: no miss


def test_a_lingering_host_is_released_when_the_next_window_is_far_or_not_published() -> None:
    h = Harness(linger=timedelta(seconds=15))
    h.awake_in_window()
    assert h.at(END) == []
    h.publish(END + timedelta(hours=3), END + timedelta(hours=5))
    assert kinds(h.at(END + 5 * S)) == ["PlanWindow", "ReleaseHost"]
    late = Harness(linger=timedelta(seconds=15))
    late.awake_in_window()
    assert late.at(END) == []
    assert late.s.next_due() == END + 15 * S
    assert late.at(END + 14 * S) == []
    assert late.at(END + 15 * S) == [c.ReleaseHost(workspace_id=WS, bot_id=BOT, reason="flat")]


def test_a_position_at_the_end_defers_until_flat() -> None:
    h = Harness()
    h.s.policy(WS, 30)
    h.awake_in_window()
    h.s.position(WS, BOT, "BTC/USDT", Decimal("0.5"), mode="testnet")
    h.s.position(WS, BOT, "ETH/USDT", Decimal("-2.00"), mode="testnet")
    assert h.at(END) == [
        c.DeferSleep(
            workspace_id=WS,
            bot_id=BOT,
            reason="open_position",
            window_ends_at=END,
            positions=[
                c.Exposure(symbol="BTC/USDT", quantity="0.5"),
                c.Exposure(symbol="ETH/USDT", quantity="-2.00"),
            ],
            open_orders=0,
            deadline=END + timedelta(minutes=30),
        )
    ]
    assert h.at(END + timedelta(minutes=5)) == []
    h.s.position(WS, BOT, "BTC/USDT", Decimal(0), mode="testnet")
    assert h.at(END + timedelta(minutes=6)) == []  # still short ETH
    h.s.position(WS, BOT, "ETH/USDT", Decimal("0.000"), mode="testnet")
    assert h.at(END + timedelta(minutes=7)) == [
        c.ReleaseHost(workspace_id=WS, bot_id=BOT, reason="flat")
    ]
    assert h.at(END + timedelta(minutes=31)) == []  # released: no deadline left


def test_the_deadline_forces_the_release_once() -> None:
    h = Harness()
    h.s.policy(WS, 30)
    h.awake_in_window()
    h.s.position(WS, BOT, "BTC/USDT", Decimal(1))
    assert kinds(h.at(END)) == ["DeferSleep"]
    deadline = END + timedelta(minutes=30)
    assert h.s.next_due() == deadline
    assert h.at(deadline - S) == []
    assert h.at(deadline) == [
        c.ForceRelease(
            workspace_id=WS,
            bot_id=BOT,
            positions=[c.Exposure(symbol="BTC/USDT", quantity="1")],
            open_orders=0,
        )
    ]
    assert h.at(deadline + S) == []
    h.s.position(WS, BOT, "BTC/USDT", Decimal(0))
    assert h.at(deadline + 2 * S) == []


def test_no_deadline_without_a_policy_and_open_orders_defer_too() -> None:
    h = Harness()
    h.awake_in_window()
    h.s.order_open(WS, BOT, "o-1")
    h.s.order_open(WS, BOT, "o-2")
    commands = h.at(END)
    assert commands == [
        c.DeferSleep(
            workspace_id=WS,
            bot_id=BOT,
            reason="open_orders",
            window_ends_at=END,
            open_orders=2,
            deadline=None,
        )
    ]
    assert h.s.next_due() is None
    assert h.at(END + timedelta(days=2)) == []
    h.s.order_closed(WS, BOT, "o-1")
    assert h.at(END + timedelta(days=2, seconds=1)) == []
    h.s.order_closed(WS, BOT, "o-2")
    assert kinds(h.at(END + timedelta(days=2, seconds=2))) == ["ReleaseHost"]


def test_a_window_published_while_deferred() -> None:
    h = Harness()
    h.s.policy(WS, 60)
    h.awake_in_window()
    h.s.position(WS, BOT, "BTC/USDT", Decimal(1))
    assert kinds(h.at(END)) == ["DeferSleep"]
    nxt, nxt_end = END + timedelta(minutes=40), END + timedelta(hours=3)
    h.publish(nxt, nxt_end)  # the next window starts before the deadline
    assert kinds(h.at(END + timedelta(minutes=1))) == ["PlanWindow"]
    h.s.position(WS, BOT, "BTC/USDT", Decimal(0))  # flat before the next window: released
    assert h.at(END + timedelta(minutes=2)) == [
        c.ReleaseHost(workspace_id=WS, bot_id=BOT, reason="flat")
    ]


def test_a_window_published_while_deferred_keeps_a_host_whose_next_window_is_near() -> None:
    h = Harness()
    h.s.policy(WS, 60)
    h.awake_in_window()
    h.s.position(WS, BOT, "BTC/USDT", Decimal(1))
    assert kinds(h.at(END)) == ["DeferSleep"]
    nxt, nxt_end = END + timedelta(minutes=10), END + timedelta(hours=3)
    h.publish(nxt, nxt_end)
    # its wake time: the host stays (no wake, no release), its address is checked for it
    assert kinds(h.at(nxt - LEAD)) == ["PlanWindow", "VerifyAddress"]
    h.s.position(WS, BOT, "BTC/USDT", Decimal(0))
    assert h.at(nxt - LEAD + S) == []  # flat inside the (lead of the) window: not released
    assert h.at(nxt) == []  # running at the start: no miss
    assert h.at(END + timedelta(minutes=60)) == []  # the deadline fell inside the window
    assert h.at(nxt_end) == [c.ReleaseHost(workspace_id=WS, bot_id=BOT, reason="flat")]


def test_a_bot_deleted_while_running() -> None:
    h = Harness()
    h.awake_in_window()
    h.s.position(WS, BOT, "BTC/USDT", Decimal(1))
    h.s.bot_deleted(WS, BOT)
    assert h.at(START + timedelta(hours=1)) == [
        c.ClearWindow(workspace_id=WS, bot_id=BOT, deleted=True)
    ]
    assert h.at(END) == []
    h.publish(END + timedelta(days=1), END + timedelta(days=1, hours=1))
    assert h.at(END + timedelta(days=1)) == []


def test_a_deletion_carried_out_before_a_restart_is_not_repeated() -> None:
    h = Harness()
    h.publish()
    h.s.bot_deleted(WS, BOT)
    h.s.address_released(WS, BOT)
    assert h.at(START) == []


def test_a_window_cleared_while_running() -> None:
    h = Harness()
    h.awake_in_window()
    h.s.window_cleared(WS, BOT)
    assert h.at(START + timedelta(hours=1)) == [
        c.ClearWindow(workspace_id=WS, bot_id=BOT),
        c.ReleaseHost(workspace_id=WS, bot_id=BOT, reason="window_cleared"),
    ]
    assert h.at(START + timedelta(hours=2)) == []
    assert h.at(END) == []


def test_a_window_cleared_while_exposed_defers_from_the_clearing() -> None:
    h = Harness()
    h.s.policy(WS, 15)
    h.awake_in_window()
    h.s.order_open(WS, BOT, "o-1")
    cleared = START + timedelta(hours=1)
    h.s.window_cleared(WS, BOT)
    assert kinds(h.at(cleared)) == ["ClearWindow", "DeferSleep"]
    h.s.order_closed(WS, BOT, "o-1")
    assert h.at(cleared + S) == [
        c.ReleaseHost(workspace_id=WS, bot_id=BOT, reason="window_cleared")
    ]


def test_a_cleared_window_of_a_sleeping_bot_is_only_unplanned() -> None:
    h = Harness()
    h.publish()
    h.at(h.now)
    h.s.window_cleared(WS, BOT)
    assert h.at(h.now + S) == [c.ClearWindow(workspace_id=WS, bot_id=BOT)]
    assert h.at(START) == []


def test_always_on_wakes_at_once_never_misses_never_sleeps() -> None:
    h = Harness()
    epoch = datetime(1970, 1, 1, tzinfo=UTC)
    h.publish(epoch, None)
    assert kinds(h.at(h.now)) == ["PlanWindow", "WakeHost"]
    h.state("running")
    assert h.at(h.now + S) == [c.VerifyAddress(workspace_id=WS, bot_id=BOT, window_starts_at=epoch)]
    assert h.at(h.now + timedelta(days=30)) == []
    assert h.s.next_due() is None


def test_never_woken_for_a_window_that_has_ended() -> None:
    h = Harness()
    h.publish()
    h.at(h.now)
    assert h.at(END) == []
    assert h.at(END + timedelta(hours=1)) == []


def test_a_host_lost_inside_its_window_is_woken_again_a_failed_one_is_not() -> None:
    h = Harness()
    h.awake_in_window()
    h.state("asleep")
    assert h.at(START + timedelta(minutes=1)) == [
        c.WakeHost(workspace_id=WS, bot_id=BOT, reason="window", window_starts_at=START)
    ]
    h.state("waking")
    h.state("failed")
    assert h.at(START + timedelta(minutes=2)) == []
    nxt = START + timedelta(days=1)
    h.publish(nxt, END + timedelta(days=1))
    assert kinds(h.at(nxt - LEAD)) == ["PlanWindow", "WakeHost"]


def test_replayed_decisions_are_not_repeated() -> None:
    h = Harness()
    h.s.planned(WS, BOT, None)
    h.publish()
    h.s.wake_requested(WS, BOT, START)
    h.s.missed(WS, BOT, START)
    h.s.verified(WS, BOT, START)
    h.s.host_state(WS, BOT, "waking")
    assert kinds(h.at(START + S)) == ["PlanWindow"]
    h.state("running")
    h.s.position(WS, BOT, "BTC/USDT", Decimal(1))
    h.s.deferred(WS, BOT, END, END + timedelta(minutes=5))
    assert h.at(END) == []
    assert kinds(h.at(END + timedelta(minutes=5))) == ["ForceRelease"]


def test_a_provider_change_uses_the_new_lead_time() -> None:
    h = Harness()
    h.publish()
    h.at(h.now)
    h.s.assign(WS, BOT, "aws")
    assert h.at(h.now + S) == []
    assert h.at(START - timedelta(minutes=5)) == [
        c.WakeHost(workspace_id=WS, bot_id=BOT, reason="window", window_starts_at=START)
    ]


def test_a_pass_looks_only_at_due_and_dirty_bots() -> None:
    s = Scheduler(LeadTimes())
    looked: list[str] = []
    look = s._look

    def counting(b, now, t, lead, out):  # type: ignore[no-untyped-def]
        looked.append(b.bot_id)
        look(b, now, t, lead, out)

    s._look = counting  # type: ignore[method-assign]
    for i in range(1_000):
        start = START + timedelta(minutes=i)
        s.window_published(WS, f"bot-{i}", start, start + timedelta(hours=1))
    assert len(s.decide(START - timedelta(hours=1))) == 1_000
    looked.clear()
    assert s.decide(START - timedelta(minutes=30)) == []
    assert looked == []
    commands = s.decide(START + timedelta(minutes=3) - LEAD)
    woken = [w.bot_id for w in commands if isinstance(w, c.WakeHost)]
    assert woken == ["bot-0", "bot-1", "bot-2", "bot-3"]  # their starts are within the lead
    assert looked == woken
    looked.clear()
    s.host_state(WS, "bot-500", "running")
    s.decide(START + timedelta(minutes=3) - LEAD)
    assert looked == ["bot-500"]


def test_each_window_s_commands_are_commands_of_their_own() -> None:
    """A timer's command id derives from the command's content: a bot's second always-on period
    (or second release after a window) must not look like its first, or it would be taken for a
    repeat and dropped. Each window published counts, and every command names the count."""
    from plutarc_compute.scheduler import Scheduler as Real

    s = Real(LeadTimes(), linger=timedelta(0))
    epoch = datetime(1970, 1, 1, tzinfo=UTC)
    now = START - timedelta(hours=2)
    s.window_published(WS, BOT, epoch, None, at=now)
    first = [p for p in s.decide(now) if isinstance(p, c.WakeHost)]
    s.host_state(WS, BOT, "running")
    s.window_published(WS, BOT, START, END, at=now)
    released = [p for p in s.decide(now) if isinstance(p, c.ReleaseHost)]
    s.host_state(WS, BOT, "asleep")
    s.window_published(WS, BOT, epoch, None, at=now)
    second = [p for p in s.decide(now) if isinstance(p, c.WakeHost)]
    assert len(first) == len(second) == len(released) == 1
    assert first[0] != second[0], "the second always-on wake is a command of its own"
    assert (first[0].generation, released[0].generation, second[0].generation) == (1, 2, 3)
