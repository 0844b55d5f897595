"""The `Provider` contract (providers/base.py), the same cases run against each provider that can
run here: memory, and aws over a stack seam that runs its program under Pulumi's mocks. Another
provider joins by adding a branch to the fixture."""

from __future__ import annotations

import pytest
from plutarc_compute.providers.aws import AwsProvider
from plutarc_compute.providers.base import HostSpec, Provider
from plutarc_compute.providers.memory import MemoryProvider

from .test_aws_provider import SETTINGS, FakeStacks

BOT, OTHER = "5d9a3c1e-0f4b-4e2a-9b7c-1a2b3c4d5e6f", "6e0b4d2f-1a5c-4f3b-8c8d-2b3c4d5e6f70"


@pytest.fixture(params=["memory", "aws"])
def provider(request: pytest.FixtureRequest) -> Provider:
    if request.param == "memory":
        return MemoryProvider()
    return AwsProvider(SETTINGS, FakeStacks())


def spec(provider: Provider, bot: str = BOT, size: int = 0) -> HostSpec:
    return HostSpec(bot_id=bot, workspace_id="ws-1", size=provider.sizes[size])


async def test_a_woken_host_holds_its_address(provider: Provider) -> None:
    awake = await provider.wake(spec(provider))
    observed = await provider.observe(BOT)
    assert (observed.address, observed.host_id, observed.address_on_host) == (
        awake.address,
        awake.host_id,
        True,
    )
    assert awake.size == provider.sizes[0]


async def test_sleep_keeps_the_address_and_a_wake_brings_it_back(provider: Provider) -> None:
    first = await provider.wake(spec(provider))
    await provider.sleep(BOT)
    asleep = await provider.observe(BOT)
    assert (asleep.address, asleep.host_id, asleep.address_on_host) == (first.address, None, False)
    second = await provider.wake(spec(provider, size=-1))
    assert second.address == first.address
    assert second.host_id != first.host_id


async def test_operations_repeat_without_effect(provider: Provider) -> None:
    first = await provider.wake(spec(provider))
    again = await provider.wake(spec(provider))
    assert (again.address, again.host_id) == (first.address, first.host_id)
    await provider.sleep(BOT)
    await provider.sleep(BOT)
    assert (await provider.observe(BOT)).address == first.address


async def test_a_bot_never_woken_has_nothing(provider: Provider) -> None:
    await provider.sleep(BOT)
    await provider.release(BOT)
    observed = await provider.observe(BOT)
    assert (observed.address, observed.host_id, observed.address_on_host) == (None, None, False)


async def test_bots_have_their_own_addresses_and_release_frees_one(provider: Provider) -> None:
    mine = await provider.wake(spec(provider))
    theirs = await provider.wake(spec(provider, OTHER))
    assert mine.address != theirs.address
    await provider.release(BOT)
    gone = await provider.observe(BOT)
    assert (gone.address, gone.host_id) == (None, None)
    kept = await provider.observe(OTHER)
    assert (kept.address, kept.host_id) == (theirs.address, theirs.host_id)
