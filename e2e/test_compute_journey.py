"""A testnet bot's host sleeps and wakes through the real Pulumi engine and the local provider, on
the running platform, and the venue sees one origin throughout.

Everything is real but the venue: identity, bots, the exchange gateway with its venue desk and
ccxt, the API, the compute service with its scheduler on the real clock, Pulumi's engine with the
local dynamic provider, the bot runtime (`plutarc bot run`) that Pulumi starts on the bot's
loopback address, and its tinyproxy. The bot's sessions move it in and out of a window: always on
(its host wakes), then a window next week (its host is released: no process of the bot is left
and the stack holds the address alone), then always on again (woken on the same address). Each
time it is up, an order placed for the bot reaches the fake Binance from that address, never the
gateway's."""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from plutarc_compute.bootstrap import build as build_compute
from plutarc_compute.leadtime import LeadTimes
from plutarc_compute.providers.local import LocalProvider
from plutarc_compute.providers.stacks import PulumiSettings
from plutarc_compute.scheduler import Scheduler
from plutarc_compute.settings import ComputeSettings
from plutarc_compute.views import Fleet
from plutarc_runtime.service import Service
from plutarc_testkit.tls import make_test_ca
from plutarc_testkit.venues.binance import FakeBinance
from plutarc_testkit.waiting import until

from .conftest import FAST_GROUPS, Platform, running_platform
from .test_support_over_http import org_with

pytestmark = pytest.mark.kafka

KEYS = {"api_key": "compute-testnet-key", "secret": "compute-testnet-secret"}
SPEC = {
    "timeframe": "1h",
    "components": [
        {"component": "ma_crossover", "params": {"fast": 9, "slow": 21}},
        {"component": "fixed_fraction", "params": {"fraction": 0.02}},
    ],
}
RESTING = {"side": "buy", "type": "limit", "quantity": "0.01", "price": "90"}


@pytest.fixture
async def venue(tmp_path: Path) -> AsyncIterator[tuple[FakeBinance, Path]]:
    ca = make_test_ca(tmp_path / "ca")
    keys = {"api_key": KEYS["api_key"], "secret": KEYS["secret"]}
    async with FakeBinance(ssl_context=ca.server_context(), **keys) as fake:
        yield fake, ca.ca_file  # type: ignore[misc]


@contextlib.asynccontextmanager
async def compute_service(
    bootstrap: str, data_dir: Path, workspace_id: str, venue_port: int
) -> AsyncIterator[tuple[Service, LocalProvider]]:
    """The compute service hosting this test's workspace only, with the local provider."""
    settings = ComputeSettings(
        kafka_bootstrap=bootstrap,
        data_dir=data_dir,
        compute_workspaces=workspace_id,
        compute_timer_interval_seconds=0.2,
        compute_egress_connect_ports=str(venue_port),
    )
    provider = LocalProvider(
        PulumiSettings(data_dir=data_dir, passphrase="e2e"), ready_timeout=90, stop_grace=10
    )
    provider.stacks.check()
    # A window's end is acted on after 1 s rather than the scheduler's 15 s wait for the next.
    scheduler = Scheduler(LeadTimes(), default_provider="local", linger=timedelta(seconds=1))
    fleet = Fleet("local", scheduler=scheduler, workspaces=frozenset({workspace_id}))
    service = Service(
        build_compute(settings, provider=provider, fleet=fleet),
        settings,
        consumer_overrides=FAST_GROUPS,
    )
    stop = asyncio.Event()
    task = asyncio.create_task(service.run(stop))
    try:
        await until(lambda: service.started.is_set() or task.done(), what="compute started")
        assert not task.done(), task
        yield service, provider
    finally:
        stop.set()
        await asyncio.wait_for(task, 60)
        provider.stacks.close()


def bot_processes(bot_id: str) -> list[int]:
    """Live processes whose command line names the bot (its runtime; its tinyproxy is its child
    and is counted by its configuration file under the bot's egress directory)."""
    found = []
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            stat = (entry / "stat").read_text()
            cmdline = (entry / "cmdline").read_bytes()
        except OSError:
            continue
        if stat[stat.rindex(")") + 2] in "ZX":
            continue
        if bot_id.encode() in cmdline:
            found.append(int(entry.name))
    return found


async def _is(field: Any, status: str) -> bool:
    return bool(await field("status") == status)


def custom_resources(resources: list[dict[str, Any]] | None) -> list[str]:
    return [
        r["type"].rsplit(":", 1)[-1]
        for r in resources or []
        if not r["type"].startswith(("pulumi:pulumi:", "pulumi:providers:"))
    ]


async def test_a_testnet_bot_sleeps_and_wakes_on_the_same_address(
    kafka_bootstrap: str, tmp_path: Path, venue: tuple[FakeBinance, Path]
) -> None:
    fake, ca_file = venue
    exchange = {"exchange_venue_urls": f"binance={fake.base_url}", "exchange_ca_file": ca_file}
    async with running_platform(kafka_bootstrap, tmp_path, exchange=exchange) as platform:
        owner, _, _ = await platform.user("owner")
        ws = await org_with(platform, owner)
        async with compute_service(kafka_bootstrap, tmp_path / "compute", ws, fake.port) as (
            _service,
            provider,
        ):
            await _journey(platform, owner, ws, fake, provider)


async def _journey(
    platform: Platform, owner: Any, ws: str, fake: FakeBinance, provider: LocalProvider
) -> None:
    base = f"/v1/workspaces/{ws}"
    async with platform.client(owner) as http:
        r = await http.post(
            f"{base}/connections",
            json={"venue": "binance", "label": "Testnet", "credentials": {"testnet": KEYS}},
        )
        assert r.status_code == 201, r.text
        connection = r.json()["connection_id"]
        r = await http.post(f"{base}/strategies", json={"name": "Trend", "spec": SPEC})
        assert r.status_code == 201, r.text
        config: dict[str, Any] = {
            "name": "Sleeper",
            "strategy": {"strategy_id": r.json()["strategy_id"], "version": 1},
            "market": {"venue": "binance", "symbol": "ETH/USDT"},
            "connection_id": connection,
        }
        r = await http.post(f"{base}/bots", json={"config": config})
        assert r.status_code == 201, r.text
        bot_id = r.json()["bot_id"]
        bot = f"{base}/bots/{bot_id}"
        assert (await http.post(f"{bot}/mode", json={"mode": "testnet"})).status_code == 200
        assert (await http.post(f"{bot}/start")).status_code == 200

        async def host() -> dict[str, Any]:
            r = await http.get(f"{bot}/host")
            return r.json() if r.status_code == 200 else {"state": None}

        async def state_is(state: str) -> bool:
            return (await host())["state"] == state

        async def origin_of_an_order() -> str:
            """Place a resting order for the bot (retried while its egress is not attached yet),
            cancel it, and say where the venue saw it come from."""
            before = len(fake.requests)
            order: dict[str, Any] = {}

            async def placed() -> bool:
                r = await http.post(f"{bot}/orders", json=RESTING)
                assert r.status_code in (201, 409, 422), r.text
                if r.status_code == 201 and r.json()["status"] != "rejected":
                    order.update(r.json())
                    return True
                return False

            await until(placed, timeout=60, what="an order accepted through the bot's egress")
            url = f"{bot}/orders/{order['order_id']}"

            async def field(name: str) -> Any:
                return (await http.get(url)).json().get(name)

            await until(
                lambda: fake.order_by_client_id(order["client_order_id"]) is not None,
                timeout=30,
                what="the order at the venue",
            )
            r = await http.delete(url)
            assert r.status_code == 200, r.text
            await until(
                lambda: _is(field, "cancelled"),
                timeout=30,
                what="the order cancelled at the venue",
            )
            peers = {q.peer for q in fake.requests[before:]}
            assert len(peers) == 1, peers
            return str(peers.pop())

        # Always on: woken at once.
        await until(lambda: state_is("running"), timeout=90, what="the host running")
        address = (await host())["address"]
        assert address.startswith("127.") and address != "127.0.0.1"
        assert await origin_of_an_order() == address
        assert bot_processes(bot_id), "the bot runs on its host"

        # A window next week: outside it, flat and with no open order, the host is released.
        later = (datetime.now(UTC) + timedelta(days=3)).strftime("%a").lower()
        asleep = {
            **config,
            "sessions": {
                "time_zone": "UTC",
                "always_on": False,
                "windows": [{"days": [later], "start": "08:00", "end": "09:00"}],
            },
        }
        r = await http.put(f"{bot}/config", json={"config": asleep})
        assert r.status_code == 200, r.text
        await until(lambda: state_is("asleep"), timeout=60, what="the host released")
        slept = await host()
        assert slept["address"] == address, "the address is kept while the bot sleeps"
        assert slept["next_wake_at"] is not None
        await until(lambda: not bot_processes(bot_id), timeout=30, what="no process of the bot")
        resources = await provider.stacks.resources(bot_id)
        assert custom_resources(resources) == ["Address"], resources

        # Always on again: woken on the same address, and the venue sees the same origin.
        r = await http.put(f"{bot}/config", json={"config": config})
        assert r.status_code == 200, r.text
        await until(lambda: state_is("running"), timeout=90, what="the host woken again")
        assert (await host())["address"] == address
        assert await origin_of_an_order() == address
        assert fake.peers() == {address}, "every venue request came from the bot's address"

        # Stopped: no window to come, so the host goes.
        assert (await http.post(f"{bot}/stop")).status_code == 200
        await until(lambda: state_is("asleep"), timeout=60, what="the stopped bot's host released")
        await until(lambda: not bot_processes(bot_id), timeout=30, what="no process left")
