"""MemoryProvider: the provider contract in memory."""

from __future__ import annotations

import asyncio
import ipaddress
import random

import pytest
from plutarc_compute.providers.base import HostSpec, Provider, ProvisioningFailed, StackBusy
from plutarc_compute.providers.memory import MemoryProvider, fixed, lognormal, uniform
from plutarc_testkit.waiting import until


def spec(bot: str = "bot-1", size: str = "small") -> HostSpec:
    return HostSpec(bot_id=bot, workspace_id="ws-1", size=size)


class Gate:
    """A ``pause`` that blocks until the test opens it, recording the delays asked for."""

    def __init__(self) -> None:
        self.asked: list[float] = []
        self.open = asyncio.Event()

    async def __call__(self, seconds: float) -> None:
        self.asked.append(seconds)
        await self.open.wait()


async def test_the_address_is_kept_across_sleep_and_wake() -> None:
    provider: Provider = MemoryProvider()
    first = await provider.wake(spec())
    await provider.sleep("bot-1")
    asleep = await provider.observe("bot-1")
    assert (asleep.address, asleep.host_id, asleep.address_on_host) == (first.address, None, False)
    second = await provider.wake(spec())
    assert second.address == first.address and second.host_id != first.host_id
    assert isinstance(provider, MemoryProvider)
    assert provider.address_history["bot-1"] == [first.address, first.address]
    assert ipaddress.ip_address(first.address) in ipaddress.ip_network("198.18.0.0/15")


async def test_each_bot_has_its_own_address_and_release_frees_it() -> None:
    provider = MemoryProvider()
    a, b = await provider.wake(spec("a")), await provider.wake(spec("b"))
    assert a.address != b.address
    assert provider.live_hosts == 2
    await provider.release("a")
    released = await provider.observe("a")
    assert (released.address, released.host_id) == (None, None)
    assert provider.live_hosts == 1 and provider.releases == 1
    again = await provider.wake(spec("a"))
    assert again.address not in (a.address, b.address)


async def test_operations_are_idempotent() -> None:
    provider = MemoryProvider()
    first = await provider.wake(spec())
    assert await provider.wake(spec()) == first
    assert provider.wakes == 1 and provider.calls["wake"] == 2
    await provider.sleep("bot-1")
    await provider.sleep("bot-1")
    await provider.sleep("never-woken")
    assert provider.sleeps == 1 and provider.calls["sleep"] == 3
    await provider.release("never-woken")
    assert provider.releases == 0


async def test_a_wake_on_another_size_replaces_the_host_and_keeps_the_address() -> None:
    provider = MemoryProvider()
    small = await provider.wake(spec(size="small"))
    medium = await provider.wake(spec(size="medium"))
    assert (medium.address, medium.size) == (small.address, "medium")
    assert medium.host_id != small.host_id
    assert provider.replacements == 1 and provider.live_hosts == 1
    assert provider.wake_sizes["bot-1"] == ["small", "medium"]


async def test_failures_of_a_size_then_the_fallback() -> None:
    provider = MemoryProvider()
    provider.fail_next_wakes(size="small", count=2, retryable=False, message="no capacity")
    for _ in range(2):
        with pytest.raises(ProvisioningFailed, match="no capacity") as failed:
            await provider.wake(spec())
        assert failed.value.retryable is False
    before = await provider.observe("bot-1")
    assert before.address is not None and before.host_id is None
    fallback = await provider.wake(spec(size="medium"))
    assert fallback.address == before.address
    assert (await provider.wake(spec("bot-2"))).size == "small"
    assert provider.failures == 2 and provider.wakes == 2


async def test_failures_of_a_bot_leave_other_bots_alone() -> None:
    provider = MemoryProvider()
    provider.fail_next_wakes(bot_id="bot-1")
    await provider.wake(spec("bot-2"))
    with pytest.raises(ProvisioningFailed) as failed:
        await provider.wake(spec("bot-1"))
    assert failed.value.retryable is True
    await provider.wake(spec("bot-1"))
    assert provider.live_hosts == 2


async def test_unknown_size_and_bad_injection_are_refused() -> None:
    provider = MemoryProvider()
    with pytest.raises(ProvisioningFailed) as failed:
        await provider.wake(spec(size="huge"))
    assert failed.value.retryable is False
    with pytest.raises(ValueError):
        provider.fail_next_wakes(bot_id="a", size="small")
    with pytest.raises(ValueError):
        provider.fail_next_wakes(bot_id="a", count=0)


async def test_a_configured_delay_is_awaited_through_the_injected_pause() -> None:
    gate = Gate()
    provider = MemoryProvider(delay=fixed(42.0), pause=gate)
    waking = asyncio.create_task(provider.wake(spec()))
    await until(lambda: gate.asked, timeout=5, interval=0.001)
    assert gate.asked == [42.0]
    assert provider.in_flight == 1 and provider.live_hosts == 0 and not waking.done()
    gate.open.set()
    awake = await asyncio.wait_for(waking, 5)
    assert provider.in_flight == 0 and provider.awake("bot-1")
    assert provider.address_of("bot-1") == awake.address


async def test_delays_are_seeded_per_bot_whatever_the_order() -> None:
    async def delays(seed: int, bots: list[str]) -> dict[str, float]:
        asked: list[float] = []

        async def pause(seconds: float) -> None:
            asked.append(seconds)

        provider = MemoryProvider(delay=lognormal(40, 0.3), seed=seed, pause=pause)
        for bot in bots:
            await provider.wake(spec(bot))
        return dict(zip(bots, asked, strict=True))

    forward = await delays(7, ["a", "b", "c"])
    backward = await delays(7, ["c", "b", "a"])
    other = await delays(8, ["a", "b", "c"])
    assert forward == backward
    assert forward != other
    assert len(set(forward.values())) == 3
    assert all(10 < d < 160 for d in forward.values())


def test_uniform_stays_in_its_bounds() -> None:
    rng = random.Random(1)
    draw = uniform(2.0, 3.0)
    assert all(2.0 <= draw(rng) <= 3.0 for _ in range(1000))


async def test_concurrent_wakes_are_counted_and_a_busy_stack_can_raise() -> None:
    gate = Gate()
    provider = MemoryProvider(delay=fixed(1.0), pause=gate, when_busy="raise")
    tasks = [asyncio.create_task(provider.wake(spec(f"bot-{i}"))) for i in range(3)]
    await until(lambda: len(gate.asked) == 3, timeout=5, interval=0.001)
    assert provider.in_flight == 3
    with pytest.raises(StackBusy):
        await provider.sleep("bot-0")
    gate.open.set()
    await asyncio.wait_for(asyncio.gather(*tasks), 5)
    assert provider.peak_in_flight == 3 and provider.peak_live == 3


async def test_a_busy_stack_waits_its_turn_by_default() -> None:
    gate = Gate()
    provider = MemoryProvider(delay=fixed(1.0), pause=gate)
    waking = asyncio.create_task(provider.wake(spec()))
    await until(lambda: gate.asked, timeout=5, interval=0.001)
    sleeping = asyncio.create_task(provider.sleep("bot-1"))
    await asyncio.sleep(0)
    assert not sleeping.done()
    gate.open.set()
    await asyncio.wait_for(asyncio.gather(waking, sleeping), 5)
    assert not provider.awake("bot-1") and provider.sleeps == 1


async def test_the_address_range_can_run_out() -> None:
    provider = MemoryProvider(network="10.0.0.0/30")
    await provider.wake(spec("a"))
    await provider.wake(spec("b"))
    with pytest.raises(ProvisioningFailed, match="no address left"):
        await provider.wake(spec("c"))
