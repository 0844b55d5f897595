"""The adapters that carry out the compute service's intents on its provider.

- `provider.wake`: `Provider.wake` with the intent's size. A refusal no retry of that size can
  change (`ProvisioningFailed(retryable=False)`) fails the intent at once, and the outcome handler
  falls back to the next size; other failures are retried a few times (each attempt recorded, and
  folded into the host as `compute.provisioning_failed`); a locked stack waits (`RetryLater`).
- `provider.sleep`: `sleep` (the address kept) or `release` (the bot was deleted); retried until it
  succeeds, since a host left running costs money and holds the bot's address.
- `provider.observe`: what the provider's state holds for the bot, before a window opens.
"""

from __future__ import annotations

import asyncio
from collections.abc import Mapping
from datetime import timedelta
from typing import Any

from plutarc_contracts.system import IntentRecorded
from plutarc_runtime.intents import Adapter, PermanentFailure, RetryLater, RetryPolicy

from .handlers import OBSERVE, SLEEP, WAKE
from .providers.base import HostSpec, Provider, ProvisioningFailed, StackBusy

BUSY_RETRY_SECONDS = 2.0
BUSY_BUDGET_SECONDS = 900.0
"""How long a wake waits out a stack another live update holds before the attempt counts as
failed (the stacks already retry a lock for a minute before saying so)."""


class WakeAdapter:
    def __init__(
        self,
        provider: Provider,
        env: Mapping[str, str],
        attempts: int = 3,
        busy_budget: float = BUSY_BUDGET_SECONDS,
        busy_retry: float = BUSY_RETRY_SECONDS,
    ) -> None:
        self.provider, self.env = provider, dict(env)
        self.busy_budget, self.busy_retry = busy_budget, busy_retry
        self.retry = RetryPolicy(max_attempts=attempts, backoff_max=30.0)

    async def __call__(self, intent: IntentRecorded) -> dict[str, Any]:
        body = intent.body
        spec = HostSpec(
            bot_id=body["bot_id"],
            workspace_id=body["workspace_id"],
            size=body["size"],
            env=self.env,
        )
        waited = 0.0
        while True:
            try:
                awake = await self.provider.wake(spec)
                break
            except ProvisioningFailed as exc:
                if not exc.retryable:
                    raise PermanentFailure(str(exc)) from exc
                raise
            except StackBusy as exc:
                # A locked stack is waited out, not counted as a failed wake.
                if waited >= self.busy_budget:
                    raise RetryLater(str(exc), BUSY_RETRY_SECONDS) from exc
                await asyncio.sleep(self.busy_retry)
                waited += self.busy_retry
        return {"address": awake.address, "host_id": awake.host_id, "size": awake.size}


class SleepAdapter:
    def __init__(self, provider: Provider) -> None:
        self.provider = provider
        self.retry = RetryPolicy(max_attempts=None, backoff_max=60.0)

    async def __call__(self, intent: IntentRecorded) -> dict[str, Any]:
        bot_id = intent.body["bot_id"]
        try:
            if intent.body["op"] == "release":
                await self.provider.release(bot_id)
            else:
                await self.provider.sleep(bot_id)
        except StackBusy as exc:
            raise RetryLater(str(exc), BUSY_RETRY_SECONDS) from exc
        return {"op": intent.body["op"]}


class ObserveAdapter:
    def __init__(self, provider: Provider) -> None:
        self.provider = provider
        self.retry = RetryPolicy(max_attempts=5, give_up_after=timedelta(minutes=5))

    async def __call__(self, intent: IntentRecorded) -> dict[str, Any]:
        seen = await self.provider.observe(intent.body["bot_id"])
        return {
            "address": seen.address,
            "host_id": seen.host_id,
            "address_on_host": seen.address_on_host,
        }


def provider_adapters(
    provider: Provider, env: Mapping[str, str], *, wake_attempts: int = 3
) -> dict[str, Adapter]:
    return {
        WAKE: WakeAdapter(provider, env, wake_attempts),
        SLEEP: SleepAdapter(provider),
        OBSERVE: ObserveAdapter(provider),
    }
