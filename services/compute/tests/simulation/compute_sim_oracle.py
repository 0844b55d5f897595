"""The simulation's oracle: the host lives it recorded, checked against the bots calendar's windows
and the exposures it generated, without trusting the scheduler's own reports."""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from .compute_sim import SimBot, Simulation


@dataclass
class SimResult:
    bots: int
    days: int
    windows: int
    checked_windows: int
    wakes: int
    retried: int
    misses_recorded: int
    misses_observed: int
    deferrals: int
    forced: int
    verifications: int
    address_changes: int
    repeated: int
    """Commands decided twice (a wake, a verification, a miss, a deferral, a plan, a release)."""
    violations: list[str]
    compute_hours: float
    always_on_hours: float
    window_hours: float
    lead_hours: float
    drain_hours: float
    max_release_delay: float
    lead_seconds: dict[str, float]
    passes: int
    commands: int
    max_pass_ms: float
    wall_seconds: float
    pass_ms: list[float] = field(default_factory=list)
    """Every pass's duration, in order."""

    def lines(self) -> list[str]:
        saved = 1 - self.compute_hours / self.always_on_hours
        return [
            f"simulation: {self.bots} bots, {self.windows} windows over {self.days} days with DST changes "
            f"({self.checked_windows} checked), {self.wakes} wakes ({self.retried} retried)",
            f"  misses: {self.misses_observed} observed, {self.misses_recorded} recorded; "
            f"violations: {len(self.violations)}; address changes: {self.address_changes}; "
            f"commands decided twice: {self.repeated}",
            f"  compute-hours {self.compute_hours:,.0f} vs always-on {self.always_on_hours:,.0f} "
            f"({saved:.1%} saved); inside windows {self.window_hours:,.0f}, lead "
            f"{self.lead_hours:,.1f}, drains past the end {self.drain_hours:,.1f}",
            f"  deferred {self.deferrals}, forced at the deadline {self.forced}, verified "
            f"{self.verifications}; slowest release after flat {self.max_release_delay:.1f} s",
            "  lead time now: "
            + ", ".join(f"{k} {v:.1f} s" for k, v in sorted(self.lead_seconds.items())),
            f"  {self.passes} passes, {self.commands} commands, slowest pass "
            f"{self.max_pass_ms:.2f} ms, wall {self.wall_seconds:.1f} s",
        ]


def allowed_release(sim: Simulation, bot: SimBot, start: float, stop: float) -> tuple[float, float]:
    """When the host woken for the window starting at ``start`` must be released at the
    latest, and the end it is measured from: the window's end, or when the bot became flat
    after it, or the deadline; or, if the host is still rightly alive when a next window's
    wake time comes (a short break, a deferral), that window's."""
    k = next(i for i, (s0, _) in enumerate(bot.windows) if s0 == start)
    early = {"local": 60.0, "aws": 300.0}[bot.provider]
    early += sim.cfg.linger_seconds + sim.cfg.bots_lag
    deadline = sim.cfg.drain_deadline_minutes * 60
    while True:
        end = bot.windows[k][1]
        assert end is not None
        limit = min(end, stop)
        flat = max([f for o, f in bot.exposures if o <= limit < f], default=limit)
        allowed = min(flat, end + deadline) if limit == end else flat
        if (
            k + 1 < len(bot.windows)
            and bot.windows[k + 1][0] < stop
            and bot.windows[k + 1][0] - early <= allowed + sim.cfg.tick
        ):
            k += 1
            continue
        return allowed, limit


def verdict(
    sim: Simulation, passes: int, commands: int, max_pass_ms: float, wall: float
) -> SimResult:
    """The host lives recorded, checked against the calendar's windows and the exposures."""
    tol = sim.cfg.tick + 0.001
    leads = {"local": 60.0, "aws": 300.0}
    violations: list[str] = []
    windows = checked = observed = 0
    compute = always_on = window_hours = lead_h = drain_h = 0.0
    max_delay = 0.0
    for bot in sim.bots.values():
        end_of_life = bot.gone_at if bot.deleted and bot.gone_at else sim.t_end
        always_on += end_of_life - sim.t0
        stop = bot.gone_at if bot.gone_at is not None else math.inf
        lives = bot.lives
        for start, end in bot.windows:
            if start >= sim.t_end:
                continue
            windows += 1
            if end is None:
                window_hours += end_of_life - sim.t0
                continue
            window_hours += max(0.0, min(end, sim.t_end, stop) - max(start, sim.t0))
            if start < sim.t0 + 600 or end > sim.t_end or start >= stop:
                continue
            checked += 1
            if not any(
                life.running is not None
                and life.running <= start
                and (life.released is None or life.released >= min(end, stop))
                for life in lives
            ):
                observed += 1
                violations.append(f"{bot.bot_id}: not running over [{start}, {end})")
        for life in lives:
            gone = life.asleep if life.asleep is not None else sim.t_end
            compute += gone - life.requested
            if life.window is None:
                continue
            start = life.window.timestamp()
            end = next((e for s0, e in bot.windows if s0 == start), None)
            if end is None:
                violations.append(f"{bot.bot_id}: woken for an unknown window {life.window}")
                continue
            lead_h += max(0.0, start - life.requested)
            if life.requested < start - leads[bot.provider] - tol:
                violations.append(f"{bot.bot_id}: woken {start - life.requested:.0f} s early")
            released = life.released if life.released is not None else sim.t_end
            allowed, limit = allowed_release(sim, bot, start, stop)
            if released > allowed + tol:
                violations.append(f"{bot.bot_id}: released {released - allowed:.0f} s late")
            if released >= limit:
                max_delay = max(max_delay, released - allowed)
                drain_h += gone - limit
    return SimResult(
        bots=len(sim.bots),
        days=sim.cfg.days,
        windows=windows,
        checked_windows=checked,
        wakes=sim.counts["wakes"],
        retried=sim.counts["retried"],
        misses_recorded=sim.counts["miss"],
        misses_observed=observed,
        deferrals=sim.counts["defer"],
        forced=sim.counts["force"],
        verifications=sim.counts["verify"],
        address_changes=sim.counts["address"],
        repeated=sim.counts["repeated"],
        violations=violations,
        compute_hours=compute / 3600,
        always_on_hours=always_on / 3600,
        window_hours=window_hours / 3600,
        lead_hours=lead_h / 3600,
        drain_hours=drain_h / 3600,
        max_release_delay=max_delay,
        lead_seconds=sim.lead.snapshot(),
        passes=passes,
        commands=commands,
        max_pass_ms=max_pass_ms,
        wall_seconds=wall,
    )
