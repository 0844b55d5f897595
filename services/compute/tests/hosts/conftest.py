"""The compute service from its bootstrap on a real store (the harness), with a provider in
memory that the tests steer, and events of the bots service and the gateway handed to its fleet
as its replay consumers would."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any
from uuid import uuid4

import msgspec
import pytest
from plutarc_access import Memberships, RegoEngine
from plutarc_compute.bootstrap import build
from plutarc_compute.providers.base import Awake, HostSpec, Observed, ProvisioningFailed
from plutarc_compute.settings import ComputeSettings
from plutarc_compute.views import Fleet
from plutarc_contracts import Envelope, default_registry
from plutarc_contracts import bots as b
from plutarc_contracts import exchange as x
from plutarc_runtime.clock import FakeClock
from plutarc_testkit.harness import Harness
from plutarc_testkit.identity_events import workspace_events

T0 = datetime(2026, 12, 7, 7, 0, tzinfo=UTC)  # a Monday


class SteeredProvider:
    """Addresses kept per bot, hosts that come and go, failures on demand."""

    name = "memory"
    sizes = ("small", "large")

    def __init__(self) -> None:
        self.addresses: dict[str, str] = {}
        self.hosts: dict[str, str] = {}
        self.fail: dict[str, list[ProvisioningFailed]] = {}
        self.calls: list[tuple[str, str, str]] = []
        self.moved: set[str] = set()

    async def wake(self, spec: HostSpec) -> Awake:
        self.calls.append(("wake", spec.bot_id, spec.size))
        queue = self.fail.get(spec.size)
        if queue:
            raise queue.pop(0)
        address = self.addresses.setdefault(spec.bot_id, f"127.9.0.{len(self.addresses) + 2}")
        self.hosts[spec.bot_id] = f"host-{spec.bot_id[:8]}-{len(self.calls)}"
        self.moved.discard(spec.bot_id)
        return Awake(address=address, host_id=self.hosts[spec.bot_id], size=spec.size)

    async def sleep(self, bot_id: str) -> None:
        self.calls.append(("sleep", bot_id, ""))
        self.hosts.pop(bot_id, None)

    async def release(self, bot_id: str) -> None:
        self.calls.append(("release", bot_id, ""))
        self.hosts.pop(bot_id, None)
        self.addresses.pop(bot_id, None)

    async def observe(self, bot_id: str) -> Observed:
        on = bot_id in self.hosts and bot_id not in self.moved
        return Observed(self.addresses.get(bot_id), self.hosts.get(bot_id), on)


class Compute(Harness):
    ws: str
    provider: SteeredProvider
    fleet: Fleet
    positions: dict[str, int]

    def foreign(self, payload: msgspec.Struct, stream: str) -> Envelope:
        name, version = default_registry().type_name_of(type(payload))
        self.positions[stream] = self.positions.get(stream, 0) + 1
        return Envelope(
            event_id=str(uuid4()),
            type=name,
            schema_version=version,
            occurred_at=self.clock.now(),
            producer=name.split(".")[0],
            stream_id=stream,
            stream_position=self.positions[stream],
            workspace_id=self.ws,
            actor="system:bots",
            correlation_id=str(uuid4()),
            causation_id=None,
            payload=payload,
        )

    def window(self, bot: str, starts: datetime, ends: datetime | None) -> None:
        p = b.TradingWindowScheduled(
            workspace_id=self.ws,
            bot_id=bot,
            version=1,
            starts_at=starts,
            ends_at=ends,
            end_rule="flatten",
            time_zone="Europe/London",
        )
        self.fleet.bots_follower().apply(self.foreign(p, bot))

    def deleted(self, bot: str) -> None:
        p = b.BotDeleted(workspace_id=self.ws, bot_id=bot)
        self.fleet.bots_follower().apply(self.foreign(p, bot))

    def position(self, bot: str, quantity: str) -> None:
        p = x.PositionChanged(
            workspace_id=self.ws,
            bot_id=bot,
            mode="testnet",
            symbol="BTC/USDT",
            quantity=quantity,
            average_price="100",
            realised_pnl="0",
            fees_paid="0",
            balances=[],
        )
        self.fleet.orders_follower().apply(self.foreign(p, bot))

    async def run_until_quiet(self, step: timedelta = timedelta(seconds=1)) -> None:
        """One timer pass at the clock's instant, then carry out every intent it led to."""
        self.advance(step)
        await self.drain_intents()
        self.advance(timedelta(0))

    def types(self, bot: str) -> list[str]:
        return [
            e.type for e in self.events("compute.") if getattr(e.payload, "bot_id", None) == bot
        ]

    def payloads(self, type_name: str, bot: str) -> list[Any]:
        return [
            e.payload for e in self.events(type_name) if getattr(e.payload, "bot_id", None) == bot
        ]


@pytest.fixture(scope="session")
def policy() -> RegoEngine:
    return RegoEngine()


@pytest.fixture
def compute(tmp_path: Path, policy: RegoEngine) -> Iterator[Compute]:
    memberships, ws = Memberships(policy), str(uuid4())
    for env in workspace_events(ws, {"alice": "owner", "bob": "viewer"}):
        memberships.apply(env)
    provider = SteeredProvider()
    fleet = Fleet(provider.name)
    settings = ComputeSettings(compute_timer_interval_seconds=1, data_dir=tmp_path)
    spec = build(settings, provider=provider, memberships=memberships, fleet=fleet)
    h = Compute(spec, sqlite_path=tmp_path / "compute.sqlite", clock=FakeClock(T0))
    h.ws, h.provider, h.fleet, h.positions = ws, provider, fleet, {}
    try:
        yield h
    finally:
        h.close()
