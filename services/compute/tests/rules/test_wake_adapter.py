"""A wake that meets a stack locked by another live update waits it out: the attempt does not
count as failed (no `compute.provisioning_failed` for a busy stack), up to a budget."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest
from plutarc_compute.adapters import WakeAdapter
from plutarc_compute.providers.base import Awake, HostSpec, Observed, StackBusy
from plutarc_contracts.system import IntentRecorded
from plutarc_runtime.intents import RetryLater

BODY = {"op": "wake", "bot_id": "b-1", "workspace_id": "ws-1", "size": "small", "attempt": 1}
INTENT = IntentRecorded(adapter="provider.wake", key="b-1:wake:1:small", body=BODY)
T = datetime(2026, 12, 7, tzinfo=UTC)


class Busy:
    name, sizes = "memory", ("small",)

    def __init__(self, times: int) -> None:
        self.times, self.calls = times, 0

    async def wake(self, spec: HostSpec) -> Awake:
        self.calls += 1
        if self.calls <= self.times:
            raise StackBusy("locked by pulumi 4242")
        return Awake(address="198.18.0.7", host_id="h-1", size=spec.size)

    async def sleep(self, bot_id: str) -> None: ...

    async def release(self, bot_id: str) -> None: ...

    async def observe(self, bot_id: str) -> Observed:
        return Observed(None, None, False)


async def test_a_busy_stack_is_waited_out_within_one_attempt() -> None:
    provider = Busy(times=3)
    adapter = WakeAdapter(provider, {}, busy_retry=0.001)
    assert await adapter(INTENT) == {"address": "198.18.0.7", "host_id": "h-1", "size": "small"}
    assert provider.calls == 4


async def test_past_the_budget_the_attempt_asks_to_be_retried_later() -> None:
    adapter = WakeAdapter(Busy(times=1_000), {}, busy_budget=0.005, busy_retry=0.001)
    with pytest.raises(RetryLater):
        await adapter(INTENT)
