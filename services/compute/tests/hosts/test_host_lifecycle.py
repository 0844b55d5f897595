"""A bot's host through the service: woken a lead time before its window with the address it
keeps, held up past the window while the bot is exposed (the operator told), released when flat
or at the deadline, a failed wake retried then moved to the fallback size, a deleted bot's
address given back; each a chain of events on the injectable clock."""

from __future__ import annotations

from datetime import timedelta
from uuid import uuid4

from plutarc_compute.providers.base import ProvisioningFailed
from plutarc_contracts import compute as c

from .conftest import T0, Compute

START, END = T0 + timedelta(hours=1), T0 + timedelta(hours=2)
LINGER = timedelta(seconds=16)
"""The scheduler waits a moment after a window's end for the next one to be published."""


async def wake_for_window(h: Compute, bot: str) -> None:
    h.window(bot, START, END)
    await h.run_until_quiet()
    assert h.types(bot) == ["compute.window_planned"], "nothing wakes an hour early"
    h.clock.advance(START - h.clock.now() - h.fleet.lead())
    await h.run_until_quiet()


async def test_a_host_wakes_before_its_window_and_sleeps_after_it_with_its_address_kept(
    compute: Compute,
) -> None:
    h, bot = compute, str(uuid4())
    await wake_for_window(h, bot)
    assert h.types(bot) == [
        "compute.window_planned",
        "compute.provisioning_requested",
        "compute.host_provisioned",
        "compute.bot_started_on_host",
    ]
    planned = h.payloads("compute.window_planned", bot)[0]
    assert planned.wake_at == START - h.fleet.lead() and planned.provider == "memory"
    address = h.payloads("compute.host_provisioned", bot)[0].address
    h.clock.advance(START - h.clock.now())
    await h.run_until_quiet()
    assert not h.payloads("compute.window_missed", bot)
    h.clock.advance(END - h.clock.now())
    await h.run_until_quiet(LINGER)
    assert [t for t in h.types(bot) if t != "compute.address_verified"][-3:] == [
        "compute.host_drained",
        "compute.bot_stopped_on_host",
        "compute.host_deprovisioned",
    ]
    gone = h.payloads("compute.host_deprovisioned", bot)[0]
    assert gone.address == address and gone.address_kept
    assert bot not in h.provider.hosts and h.provider.addresses[bot] == address
    # The next window: the same address.
    nxt = START + timedelta(days=1)
    h.window(bot, nxt, END + timedelta(days=1))
    h.clock.advance(nxt - h.clock.now() - h.fleet.lead())
    await h.run_until_quiet()
    again = h.payloads("compute.host_provisioned", bot)
    assert len(again) == 2 and again[1].address == address
    # Its end: released again (the timer's second release of the bot is a command of its own).
    h.clock.advance(END + timedelta(days=1) - h.clock.now())
    await h.run_until_quiet(LINGER)
    assert len(h.payloads("compute.host_deprovisioned", bot)) == 2
    assert bot not in h.provider.hosts


async def test_always_on_twice_wakes_twice(compute: Compute) -> None:
    """Always on, a window next week, always on again: the second always-on period is a window of
    its own (published again), so its wake is not taken for the first one's."""
    h, bot = compute, str(uuid4())
    epoch = T0.replace(year=1970, month=1, day=1, hour=0)
    h.window(bot, epoch, None)
    await h.run_until_quiet()
    h.window(bot, START + timedelta(days=7), END + timedelta(days=7))
    await h.run_until_quiet(LINGER)
    assert len(h.payloads("compute.host_deprovisioned", bot)) == 1
    h.window(bot, epoch, None)
    await h.run_until_quiet()
    assert len(h.payloads("compute.host_provisioned", bot)) == 2
    assert bot in h.provider.hosts


async def test_an_exposed_bot_keeps_its_host_until_flat_and_the_operator_hears_of_it(
    compute: Compute,
) -> None:
    h, bot = compute, str(uuid4())
    await wake_for_window(h, bot)
    h.position(bot, "0.5")
    h.clock.advance(END - h.clock.now())
    await h.run_until_quiet(LINGER)
    deferred = h.payloads("compute.sleep_deferred", bot)
    assert len(deferred) == 1 and deferred[0].reason == "open_position"
    assert deferred[0].positions == [c.Exposure(symbol="BTC/USDT", quantity="0.5")]
    assert deferred[0].deadline == END + timedelta(minutes=240)
    assert not h.payloads("compute.host_drained", bot) and bot in h.provider.hosts
    await h.run_until_quiet(timedelta(minutes=30))
    assert len(h.payloads("compute.sleep_deferred", bot)) == 1, "told once"
    scraped = h.metrics.render().decode()
    assert 'plutarc_compute_hosts{provider="memory",state="deferred"} 1.0' in scraped
    assert 'plutarc_compute_sleeps_deferred_total{provider="memory"} 1.0' in scraped
    h.position(bot, "0")
    await h.run_until_quiet()
    assert [p.reason for p in h.payloads("compute.host_drained", bot)] == ["flat"]
    assert bot not in h.provider.hosts


async def test_at_the_workspace_deadline_the_host_is_released_anyway(compute: Compute) -> None:
    h, bot = compute, str(uuid4())
    h.ok("user:alice", c.SetSleepPolicy(workspace_id=h.ws, drain_deadline_minutes=30))
    await wake_for_window(h, bot)
    h.position(bot, "-2")
    h.clock.advance(END - h.clock.now())
    await h.run_until_quiet(LINGER)
    assert h.payloads("compute.sleep_deferred", bot)[0].deadline == END + timedelta(minutes=30)
    await h.run_until_quiet(timedelta(minutes=29))
    assert not h.payloads("compute.drain_deadline_reached", bot)
    await h.run_until_quiet(timedelta(minutes=1))
    reached = h.payloads("compute.drain_deadline_reached", bot)
    assert len(reached) == 1 and reached[0].positions[0].quantity == "-2"
    assert [p.reason for p in h.payloads("compute.host_drained", bot)] == ["deadline"]
    assert bot not in h.provider.hosts


async def test_a_failed_wake_is_retried_and_a_size_that_is_not_offered_falls_back(
    compute: Compute,
) -> None:
    h, bot = compute, str(uuid4())
    h.provider.fail["small"] = [
        ProvisioningFailed("timeout", retryable=True),
        ProvisioningFailed("InsufficientInstanceCapacity", retryable=False),
    ]
    await wake_for_window(h, bot)
    failed = h.payloads("compute.provisioning_failed", bot)
    assert [(f.size, f.next_size) for f in failed] == [("small", "small"), ("small", "large")]
    assert "InsufficientInstanceCapacity" in failed[1].error
    up = h.payloads("compute.host_provisioned", bot)
    assert len(up) == 1 and up[0].size == "large"
    assert [call[2] for call in h.provider.calls] == ["small", "small", "large"]


async def test_a_wake_that_gives_up_leaves_the_host_failed_and_the_window_missed(
    compute: Compute,
) -> None:
    h, bot = compute, str(uuid4())
    for size in h.provider.sizes:
        h.provider.fail[size] = [ProvisioningFailed("quota", retryable=False)]
    await wake_for_window(h, bot)
    assert h.payloads("compute.provisioning_failed", bot)[-1].next_size is None
    h.clock.advance(START - h.clock.now())
    await h.run_until_quiet()
    missed = h.payloads("compute.window_missed", bot)
    assert len(missed) == 1 and missed[0].window_starts_at == START
    # ... and visible in the service's metrics.
    scraped = h.metrics.render().decode()
    assert 'plutarc_compute_window_misses_total{provider="memory"} 1.0' in scraped
    assert 'plutarc_compute_provisioning_failures_total{provider="memory"} 2.0' in scraped
    assert 'plutarc_compute_hosts{provider="memory",state="failed"} 1.0' in scraped
    assert 'plutarc_compute_hosts{provider="memory",state="running"} 0.0' in scraped


async def test_an_address_found_off_its_host_is_put_back_before_the_window(
    compute: Compute,
) -> None:
    h, bot = compute, str(uuid4())
    await wake_for_window(h, bot)
    h.provider.moved.add(bot)
    await h.run_until_quiet()  # within a minute of the window: the address is checked
    await h.drain_intents()
    checks = h.payloads("compute.address_verified", bot)
    assert len(checks) == 1 and not checks[0].ok and not checks[0].on_host
    assert [p.reason for p in h.payloads("compute.provisioning_requested", bot)][-1] == "repair"
    assert bot not in h.provider.moved, "the repair wake converged the host"


async def test_a_deleted_bot_gives_its_address_back(compute: Compute) -> None:
    h, bot = compute, str(uuid4())
    await wake_for_window(h, bot)
    h.deleted(bot)
    await h.run_until_quiet()
    assert h.payloads("compute.host_drained", bot)[-1].reason == "bot_deleted"
    assert h.payloads("compute.address_released", bot)
    assert bot not in h.provider.addresses


async def test_bad_input_and_callers_without_the_permission_change_nothing(
    compute: Compute,
) -> None:
    h = compute
    before = len(h.events("compute."))
    h.rejected(
        "user:bob",
        c.SetSleepPolicy(workspace_id=h.ws, drain_deadline_minutes=5),
        "access.forbidden",
    )
    h.rejected(
        "user:alice", c.WakeHost(workspace_id=h.ws, bot_id="not-a-uuid"), "compute.invalid_id"
    )
    h.rejected(
        "user:alice",
        c.PlanWindow(workspace_id=h.ws, bot_id=str(uuid4()), starts_at=START, ends_at=END),
        "access.system_only",
    )
    h.rejected(
        "user:alice",
        c.SetSleepPolicy(workspace_id=h.ws, drain_deadline_minutes=-1),
        "contract.invalid",
    )
    assert len(h.events("compute.")) == before
