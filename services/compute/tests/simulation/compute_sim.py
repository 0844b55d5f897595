"""A month of simulated time for the compute scheduler: many bots across time zones, their
windows computed by the bots service's own calendar (DST included), positions held past window
ends, and an in-memory provider with a seeded provisioning latency (a few wakes fail once and are
retried). Every host's life is recorded and checked against the calendar by an oracle that does
not trust the scheduler's own reports.

Run from the test suite (tests/simulation/test_simulation.py) and from bench (compute_scheduler).
"""

from __future__ import annotations

import heapq
import math
import random
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from decimal import Decimal

from plutarc_bots.sessions import Calendar
from plutarc_compute.leadtime import LeadTimes
from plutarc_compute.scheduler import Scheduler, Window
from plutarc_contracts import Payload
from plutarc_contracts import bots as b
from plutarc_contracts import compute as c

from .compute_sim_oracle import SimResult, verdict

ZONES = [
    "UTC",
    "Europe/London",
    "Europe/Paris",
    "America/New_York",
    "America/Chicago",
    "America/Sao_Paulo",
    "Asia/Tokyo",
    "Asia/Kolkata",
    "Asia/Singapore",
    "Australia/Sydney",
    "Pacific/Auckland",
]
WEEKDAYS = ["mon", "tue", "wed", "thu", "fri"]
START = datetime(2026, 10, 3, tzinfo=UTC)
"""Sydney springs forward on 4 October, Europe falls back on 25 October, the US on 1 November."""
WS = "ws-sim"


@dataclass
class SimConfig:
    bots: int = 1_000
    start: datetime = START
    days: int = 30
    seed: int = 12
    tick: float = 5.0
    """The compute service's timer (a pass at most this often)."""
    bots_lag: float = 5.0
    """The bots service's timer: the next window is published this long after an end."""
    exposed_share: float = 0.15
    """Windows whose bot is still exposed at the end."""
    forced_share: float = 0.15
    """Of those, the ones still exposed at the drain deadline."""
    drain_deadline_minutes: int = 60
    restart_at_day: float | None = None
    """The compute service restarts then: a new scheduler rebuilt from the events."""
    linger_seconds: float = 15.0
    """The scheduler's wait, after an end, for the next window to be published."""
    fail_share: float = 0.03
    always_on_share: float = 0.04
    aws_share: float = 0.10
    stopped_share: float = 0.02
    deleted_share: float = 0.01


@dataclass
class Life:
    """One wake of one host, from the request to the host being gone."""

    window: datetime | None
    requested: float
    running: float | None = None
    released: float | None = None
    asleep: float | None = None


@dataclass
class SimBot:
    bot_id: str
    provider: str
    sessions: b.TradingSessions
    windows: list[tuple[float, float | None]] = field(default_factory=list)
    exposures: list[tuple[float, float]] = field(default_factory=list)
    """(opened, flat) intervals, in simulated seconds."""
    lives: list[Life] = field(default_factory=list)
    state: str = "new"
    address: str | None = None
    gone_at: float | None = None
    """Stopped or deleted at."""
    deleted: bool = False
    facts: Facts = field(default_factory=lambda: Facts())


@dataclass
class Facts:
    """What the compute service's own events and the replayed topics say about a bot: what a
    restarted scheduler is rebuilt from (compute_sim_restart.py)."""

    published: tuple[datetime, datetime | None, datetime] | None = None
    """starts_at, ends_at, published at."""
    planned: tuple[datetime, datetime | None] | None = None
    woken_for: datetime | None = None
    verified: datetime | None = None
    missed: datetime | None = None
    deferred: tuple[datetime, datetime | None] | None = None
    positions: dict[str, Decimal] = field(default_factory=dict)
    orders: set[str] = field(default_factory=set)
    address_released: bool = False


def _sessions(rng: random.Random, zone: str) -> b.TradingSessions:
    shape = rng.random()
    if shape < 0.5:
        hour = rng.randint(0, 20)
        length = rng.randint(2, 9) * 60 + rng.choice([0, 30])
        windows = [_window(WEEKDAYS, hour * 60 + rng.choice([0, 30]), length)]
    elif shape < 0.7:
        days = ["mon", "tue", "wed", "thu", "fri", "sat", "sun"]
        windows = [_window(days, 7 * 60, 3 * 60), _window(days, 14 * 60, 4 * 60)]
    elif shape < 0.85:
        windows = [_window(WEEKDAYS, 22 * 60, 5 * 60)]  # overnight
    elif shape < 0.9:  # a break shorter than an aws wake: the host is kept across it
        gap = rng.choice([1, 2, 5])
        windows = [_window(WEEKDAYS, 9 * 60, 3 * 60), _window(WEEKDAYS, 12 * 60 + gap, 4 * 60)]
    else:
        windows = [_window(["sat", "sun"], rng.randint(6, 10) * 60, rng.randint(3, 10) * 60)]
    return b.TradingSessions(time_zone=zone, always_on=False, windows=windows, end_rule="flatten")


def _window(days: list[str], start: int, length: int) -> b.SessionWindow:
    end = (start + length) % (24 * 60)
    return b.SessionWindow(
        days=days,  # type: ignore[arg-type]
        start=f"{start // 60:02d}:{start % 60:02d}",
        end=f"{end // 60:02d}:{end % 60:02d}",
        overnight=start + length >= 24 * 60,
    )


class Simulation:
    def __init__(self, config: SimConfig | None = None) -> None:
        self.cfg = cfg = config or SimConfig()
        self.rng = random.Random(cfg.seed)
        self.t0 = cfg.start.timestamp()
        self.t_end = self.t0 + cfg.days * 86_400
        self.calendar = Calendar()
        self.lead = LeadTimes()
        self.scheduler = Scheduler(
            self.lead,
            default_drain_deadline_minutes=cfg.drain_deadline_minutes,
            linger=timedelta(seconds=cfg.linger_seconds),
        )
        self.events: list[tuple[float, int, Callable[[], None]]] = []
        self._seq = 0
        self.bots: dict[str, SimBot] = {}
        self.counts = dict.fromkeys(
            ["wakes", "retried", "miss", "defer", "force", "verify", "address", "repeated"], 0
        )
        self.issued: set[tuple[object, ...]] = set()
        self.took: list[tuple[str, int]] = []
        self.now = self.t0
        self._build()

    # --- the world -----------------------------------------------------------------------------
    def at(self, when: float, action: Callable[[], None]) -> None:
        self._seq += 1
        heapq.heappush(self.events, (when, self._seq, action))

    def _dt(self, ts: float) -> datetime:
        return datetime.fromtimestamp(ts, UTC)

    def _build(self) -> None:
        cfg, rng = self.cfg, self.rng
        start, end = cfg.start, cfg.start + timedelta(days=cfg.days + 1)
        for i in range(cfg.bots):
            zone = ZONES[i % len(ZONES)]
            always = rng.random() < cfg.always_on_share
            sessions = b.TradingSessions(time_zone=zone) if always else _sessions(rng, zone)
            provider = "aws" if rng.random() < cfg.aws_share else "local"
            bot = self.bots[f"bot-{i}"] = SimBot(f"bot-{i}", provider, sessions)
            self.scheduler.assign(WS, bot.bot_id, provider)
            for w in self.calendar.windows_between(sessions, start, end):
                bot.windows.append(
                    (w.starts_at.timestamp(), None if w.ends_at is None else w.ends_at.timestamp())
                )
            for k, (_, w_end) in enumerate(bot.windows):
                if w_end is not None and rng.random() < cfg.exposed_share:
                    self._expose(bot, k, w_end)
            gone = rng.random()
            if gone < cfg.stopped_share + cfg.deleted_share:
                bot.deleted = gone < cfg.deleted_share
                when = self.t0 + rng.uniform(5, cfg.days - 5) * 86_400
                self.at(when, lambda bot=bot: self._gone(bot))
            self.at(self.t0, lambda bot=bot: self._publish(bot))
        self.scheduler.policy(WS, cfg.drain_deadline_minutes)

    def _expose(self, bot: SimBot, k: int, w_end: float) -> None:
        rng, deadline = self.rng, self.cfg.drain_deadline_minutes * 60
        w_start = bot.windows[k][0]
        opened = w_end - min(rng.uniform(300, 3600), (w_end - w_start) / 2)
        if rng.random() < self.cfg.forced_share:
            flat = w_end + deadline + rng.uniform(600, 3600)
        else:
            flat = w_end + min(rng.expovariate(1 / 1200), deadline * 0.9)
        bot.exposures.append((opened, flat))
        symbol, order = f"M{k}", f"o-{bot.bot_id}-{k}"
        if rng.random() < 0.7:
            self.at(opened, lambda: self._position(bot, symbol, Decimal("0.25")))
            self.at(flat, lambda: self._position(bot, symbol, Decimal(0)))
        else:
            self.at(opened, lambda: self._order(bot, order, True))
            self.at(flat, lambda: self._order(bot, order, False))

    def _position(self, bot: SimBot, symbol: str, quantity: Decimal) -> None:
        if quantity:
            bot.facts.positions[symbol] = quantity
        else:
            bot.facts.positions.pop(symbol, None)
        self.scheduler.position(WS, bot.bot_id, symbol, quantity, mode="testnet")

    def _order(self, bot: SimBot, order: str, is_open: bool) -> None:
        if is_open:
            bot.facts.orders.add(order)
            self.scheduler.order_open(WS, bot.bot_id, order)
        else:
            bot.facts.orders.discard(order)
            self.scheduler.order_closed(WS, bot.bot_id, order)

    def _publish(self, bot: SimBot) -> None:
        """The bots service's timer: the bot's current or next window."""
        if bot.gone_at is not None:
            return
        found = self.calendar.next_window(bot.sessions, self._dt(self.now))
        if found is None:
            return
        bot.facts.published = (found.starts_at, found.ends_at, self._dt(self.now))
        self.scheduler.window_published(
            WS,
            bot.bot_id,
            found.starts_at,
            found.ends_at,
            bot.sessions.end_rule,
            bot.sessions.time_zone,
            at=self._dt(self.now),
        )
        if found.ends_at is not None:
            self.at(found.ends_at.timestamp() + self.cfg.bots_lag, lambda: self._publish(bot))

    def _gone(self, bot: SimBot) -> None:
        bot.gone_at = self.now
        if bot.deleted:
            self.scheduler.bot_deleted(WS, bot.bot_id)
        else:
            self.scheduler.window_cleared(WS, bot.bot_id)

    def _host(self, bot: SimBot, state: str) -> None:
        bot.state = state
        self.scheduler.host_state(WS, bot.bot_id, state, bot.address)

    def _latency(self, provider: str) -> float:
        """Bounded: a floor plus a log-normal part, capped (a wake that hangs longer is failed
        and retried by the provider adapter's timeout)."""
        if provider == "aws":
            return min(40 + self.rng.lognormvariate(math.log(45), 0.35), 150)
        return min(4 + self.rng.lognormvariate(math.log(6), 0.4), 25)

    # --- the compute service: commands carried out by the in-memory provider -------------------
    def execute(self, command: Payload) -> None:
        bot = self.bots[command.bot_id]  # type: ignore[attr-defined]
        key = self._key(bot, command)
        if key in self.issued:
            self.counts["repeated"] += 1
        self.issued.add(key)
        self._record(bot, command)
        if isinstance(command, c.WakeHost):
            if bot.state not in ("new", "asleep", "failed"):
                return
            life = Life(command.window_starts_at, self.now)
            bot.lives.append(life)
            self.counts["wakes"] += 1
            self._host(bot, "waking")
            self._attempt(bot, life, first=True)
        elif isinstance(command, c.ReleaseHost | c.ForceRelease) or (
            isinstance(command, c.ClearWindow) and command.deleted
        ):
            if isinstance(command, c.ForceRelease):
                self.counts["force"] += 1
            if bot.state in ("waking", "running"):
                bot.lives[-1].released = self.now
                self._host(bot, "draining")
                took = 30.0 if bot.provider == "aws" else 3.0
                self.at(self.now + took, lambda: self._asleep(bot))
        elif isinstance(command, c.DeferSleep):
            self.counts["defer"] += 1
        elif isinstance(command, c.RecordMiss):
            self.counts["miss"] += 1
        elif isinstance(command, c.VerifyAddress):
            self.counts["verify"] += 1

    @staticmethod
    def _key(bot: SimBot, command: Payload) -> tuple[object, ...]:
        """What makes a decision the same decision (its idempotency key, in effect)."""
        if isinstance(command, c.PlanWindow):
            return ("plan", bot.bot_id, command.starts_at, command.ends_at)
        if isinstance(command, c.WakeHost):
            return ("wake", bot.bot_id, command.window_starts_at)
        if isinstance(command, c.VerifyAddress | c.RecordMiss):
            return (type(command).__name__, bot.bot_id, command.window_starts_at)
        if isinstance(command, c.DeferSleep):
            return ("defer", bot.bot_id, command.window_ends_at)
        if isinstance(command, c.ReleaseHost | c.ForceRelease):
            return ("release", bot.bot_id, len(bot.lives))
        return (type(command).__name__, bot.bot_id)

    @staticmethod
    def _record(bot: SimBot, command: Payload) -> None:
        """The facts the compute service's events would hold after this command."""
        f = bot.facts
        if isinstance(command, c.PlanWindow):
            f.planned = (command.starts_at, command.ends_at)
        elif isinstance(command, c.ClearWindow):
            f.planned = None
            f.address_released = f.address_released or command.deleted
        elif isinstance(command, c.WakeHost) and bot.state in ("new", "asleep", "failed"):
            f.woken_for, f.deferred = command.window_starts_at, None
        elif isinstance(command, c.VerifyAddress):
            f.verified = command.window_starts_at
        elif isinstance(command, c.RecordMiss):
            f.missed = command.window_starts_at
        elif isinstance(command, c.DeferSleep):
            f.deferred = (command.window_ends_at, command.deadline)

    def _attempt(self, bot: SimBot, life: Life, *, first: bool) -> None:
        requested = self.now
        if first and self.rng.random() < self.cfg.fail_share:
            self.counts["retried"] += 1
            detect = self.rng.uniform(1, 3) if bot.provider == "local" else self.rng.uniform(5, 15)
            self.at(self.now + detect, lambda: self._attempt(bot, life, first=False))
            return
        latency = self._latency(bot.provider)

        def done() -> None:
            if life.released is not None:
                return
            address = f"127.0.{int(bot.bot_id[4:]) // 250}.{int(bot.bot_id[4:]) % 250 + 2}"
            if bot.address is not None and bot.address != address:
                self.counts["address"] += 1
            bot.address = address
            life.running = self.now
            self.took.append((bot.provider, round((self.now - requested) * 1000)))
            self.scheduler.provisioned(
                WS, bot.bot_id, round((self.now - requested) * 1000), address
            )
            self._host(bot, "running")

        self.at(self.now + latency, done)

    def _asleep(self, bot: SimBot) -> None:
        bot.lives[-1].asleep = self.now
        bot.facts.deferred = None
        self._host(bot, "asleep")

    def _restart(self) -> None:
        """The compute service restarts: a new scheduler, fed what it would replay (the bots
        and exchange topics, its own events), must decide nothing twice."""
        lead = LeadTimes()
        for provider, took_ms in self.took:
            lead.record(provider, took_ms)
        s = Scheduler(
            lead,
            default_drain_deadline_minutes=self.cfg.drain_deadline_minutes,
            linger=timedelta(seconds=self.cfg.linger_seconds),
        )
        s.policy(WS, self.cfg.drain_deadline_minutes)
        for bot in self.bots.values():
            f, bot_id = bot.facts, bot.bot_id
            s.assign(WS, bot_id, bot.provider)
            if f.published is not None:
                starts, ends, published_at = f.published
                zone = bot.sessions.time_zone
                s.window_published(WS, bot_id, starts, ends, "flatten", zone, at=published_at)
            if f.planned is not None:
                s.planned(WS, bot_id, Window(f.planned[0], f.planned[1], "flatten", zone))
            if f.address_released:
                s.address_released(WS, bot_id)
            elif bot.gone_at is not None:
                if bot.deleted:
                    s.bot_deleted(WS, bot_id)
                else:
                    s.window_cleared(WS, bot_id)
            if bot.lives:
                s.wake_requested(WS, bot_id, f.woken_for)
            if f.verified is not None:
                s.verified(WS, bot_id, f.verified)
            if f.missed is not None:
                s.missed(WS, bot_id, f.missed)
            s.host_state(WS, bot_id, bot.state, bot.address)
            if f.deferred is not None and bot.state in ("waking", "running"):
                s.deferred(WS, bot_id, *f.deferred)
            for symbol, quantity in f.positions.items():
                s.position(WS, bot_id, symbol, quantity, mode="testnet")
            for order in f.orders:
                s.order_open(WS, bot_id, order)
        self.scheduler = s

    # --- the loop ------------------------------------------------------------------------------
    def run(self) -> SimResult:
        if self.cfg.restart_at_day is not None:
            self.at(self.t0 + self.cfg.restart_at_day * 86_400, self._restart)
        tick = self.cfg.tick
        passes = commands = 0
        timings: list[float] = []
        wall = time.perf_counter()
        t = self.t0
        while t < self.t_end:
            self.now = t
            while self.events and self.events[0][0] <= t:
                when, _, action = heapq.heappop(self.events)
                self.now = when
                action()
            self.now = t
            started = time.perf_counter()
            s = self.scheduler
            decided = s.decide(self._dt(t))
            timings.append((time.perf_counter() - started) * 1000)
            passes += 1
            commands += len(decided)
            for command in decided:
                self.execute(command)
            nxt = self.t_end
            if self.events:
                nxt = min(nxt, self.events[0][0])
            due = s.next_due()
            if due is not None:
                nxt = min(nxt, due.timestamp())
            if s.pending:
                nxt = t + tick
            t = max(t + tick, self.t0 + math.ceil((nxt - self.t0) / tick) * tick)
        result = verdict(self, passes, commands, max(timings), time.perf_counter() - wall)
        result.pass_ms = timings
        return result


def simulate(config: SimConfig | None = None) -> SimResult:
    return Simulation(config).run()
