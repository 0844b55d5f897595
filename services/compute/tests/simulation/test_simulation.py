"""Issue 12's simulation: 1,000 bots for 30 days across time zones and three DST changes."""

from __future__ import annotations

import pytest

from .compute_sim import SimConfig, simulate


@pytest.mark.slow
def test_a_month_of_1000_bots_misses_no_window_and_sleeps_outside_them() -> None:
    result = simulate(SimConfig())
    print("\n".join(result.lines()))
    assert result.checked_windows > 20_000
    assert result.retried > 0  # some wakes failed once
    assert result.deferrals > 0 and result.forced > 0  # positions held past ends and deadlines
    assert result.misses_observed == 0
    assert result.misses_recorded == 0
    assert result.violations == []  # woken early, released late or for an unknown window
    assert result.address_changes == 0
    assert result.repeated == 0
    assert result.max_release_delay <= SimConfig().tick
    assert result.compute_hours < 0.3 * result.always_on_hours


def test_the_oracle_sees_misses_when_the_lead_time_is_too_short() -> None:
    """The oracle is not the scheduler's own report: with aws hosts that take minutes and a lead
    time floor of seconds, windows are missed and both the oracle and the scheduler say so."""
    from plutarc_compute.leadtime import LeadTimeSettings, ProviderLead

    from . import compute_sim

    short = LeadTimeSettings(
        providers={"aws": ProviderLead(default=20, floor=20), "local": ProviderLead(30, 10)},
        factor=1.0,
        margin_seconds=0,
        min_samples=10_000,
    )
    sim = compute_sim.Simulation(SimConfig(bots=60, days=7, aws_share=0.5, seed=3))
    sim.lead.settings = short
    result = sim.run()
    assert result.misses_observed > 0
    assert result.misses_recorded >= result.misses_observed  # also windows the oracle skips


def test_without_lingering_a_break_shorter_than_a_wake_is_missed() -> None:
    """Breaks of 1 to 5 minutes between two windows, aws wakes of minutes: the host is kept
    across the break only because it lingers after the end until the next window is published."""
    config = SimConfig(bots=300, days=10, seed=5, aws_share=0.5)
    kept = simulate(config)
    assert kept.misses_observed == 0 and kept.violations == []
    config.linger_seconds = 0
    released = simulate(config)
    assert released.misses_observed > 0
    assert released.misses_recorded >= released.misses_observed


def test_a_restart_rebuilds_the_scheduler_from_events_and_decides_nothing_twice() -> None:
    """Mid-month, the scheduler is replaced by one fed only what the service replays: windows,
    positions and orders, and its own events (plans, wakes, verifications, misses, deferrals,
    released addresses, host states, measured wakes)."""
    result = simulate(SimConfig(bots=300, days=20, seed=9, restart_at_day=9.37))
    assert result.repeated == 0
    assert result.misses_observed == 0 and result.misses_recorded == 0
    assert result.violations == []
