"""One bot's journey through the modes, on the running platform: a grid strategy trades on paper,
is switched to testnet (a fake Binance over TLS, reached through the bot's own egress proxy from
the bot's own address), trades there, and comes back to paper. Its configuration stays
byte-identical throughout, and every order is accounted for: per mode, the orders accepted are
the ones filled, cancelled or still open, and the position is the sum of the fills.

Everything is real but the venue and the market data: identity, bots, the exchange gateway (its
paper engines and its venue desk with ccxt), the API, the bot runtime and tinyproxy; the test
publishes candles and trades on the real market topics, as a recorded file's player would."""

from __future__ import annotations

import asyncio
import random
from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest
from plutarc_bots.egress import Egress, EgressSettings
from plutarc_bots.runtime import BotRuntime, EgressSwitch
from plutarc_bots.runtime.runner import RuntimeSettings
from plutarc_contracts import default_registry
from plutarc_contracts import exchange as x
from plutarc_testkit.tls import make_test_ca
from plutarc_testkit.venues.binance import FakeBinance
from plutarc_testkit.waiting import until

from .conftest import Platform, running_platform
from .market_feed import MarketFeed
from .test_support_over_http import org_with

pytestmark = pytest.mark.kafka

GRID = {
    "timeframe": "1m",
    "components": [
        {
            "component": "grid",
            "params": {"levels": 3, "spacing_pct": 1, "reference": 100, "price_decimals": 2},
        },
        {"component": "fixed_fraction", "params": {"fraction": 0.05, "quantity_decimals": 3}},
    ],
}
KEYS = {"api_key": "journey-testnet-key", "secret": "journey-testnet-secret"}
D = Decimal


class Orders:
    """The bot's events on `exchange.orders.v1` and `exchange.events.v1` (its egress), read the
    way any consumer reads them."""

    def __init__(self, bootstrap: str, bot_id: str) -> None:
        from aiokafka import AIOKafkaConsumer

        self.bot_id = bot_id
        self.consumer = AIOKafkaConsumer(
            x.ORDERS_TOPIC,
            "exchange.events.v1",
            bootstrap_servers=bootstrap,
            auto_offset_reset="earliest",
            enable_auto_commit=False,
        )
        self.events: list[Any] = []
        self.task: asyncio.Task[None] | None = None

    async def __aenter__(self) -> Orders:
        await self.consumer.start()
        self.task = asyncio.create_task(self._read())
        return self

    async def __aexit__(self, *exc: object) -> None:
        assert self.task is not None
        self.task.cancel()
        await self.consumer.stop()

    async def _read(self) -> None:
        registry = default_registry()
        async for record in self.consumer:
            if record.key == self.bot_id.encode():
                self.events.append(registry.decode_event(record.value).payload)

    def of(self, cls: type) -> list[Any]:
        return [e for e in self.events if isinstance(e, cls)]

    def accepted(self, mode: str) -> list[x.OrderAccepted]:
        return [e for e in self.of(x.OrderAccepted) if e.mode == mode]

    def filled(self, order_id: str) -> bool:
        return any(f.order_id == order_id and f.status == "filled" for f in self.of(x.OrderFilled))


@pytest.fixture
async def venue(tmp_path: Path) -> AsyncIterator[tuple[FakeBinance, Path]]:
    ca = make_test_ca(tmp_path / "ca")
    async with FakeBinance(ssl_context=ca.server_context(), **_keys()) as fake:
        yield fake, ca.ca_file  # type: ignore[misc]


def _keys() -> dict[str, str]:
    return {"api_key": KEYS["api_key"], "secret": KEYS["secret"]}


async def test_a_grid_bot_from_paper_to_testnet_and_back(
    kafka_bootstrap: str, tmp_path: Path, venue: tuple[FakeBinance, Path]
) -> None:
    fake, ca_file = venue
    settings = {
        "exchange_venue_urls": f"binance={fake.base_url}",
        "exchange_ca_file": ca_file,
    }
    async with running_platform(kafka_bootstrap, tmp_path, exchange=settings) as platform:
        await _journey(platform, kafka_bootstrap, tmp_path, fake)


async def _journey(platform: Platform, bootstrap: str, tmp_path: Path, fake: FakeBinance) -> None:
    owner, _, _ = await platform.user("owner")
    ws = await org_with(platform, owner)
    base = f"/v1/workspaces/{ws}"
    async with platform.client(owner) as http:
        r = await http.post(
            f"{base}/connections",
            json={"venue": "binance", "label": "Testnet", "credentials": {"testnet": KEYS}},
        )
        assert r.status_code == 201, r.text
        connection = r.json()["connection_id"]
        r = await http.post(f"{base}/strategies", json={"name": "Grid", "spec": GRID})
        assert r.status_code == 201, r.text
        config = {
            "name": "ETH grid",
            "strategy": {"strategy_id": r.json()["strategy_id"], "version": 1},
            "market": {"venue": "binance", "symbol": "ETH/USDT"},
            "connection_id": connection,
        }
        r = await http.post(f"{base}/bots", json={"config": config})
        assert r.status_code == 201, r.text
        bot = r.json()
        bot_id = bot["bot_id"]
        assert (await http.post(f"{base}/bots/{bot_id}/start")).status_code == 200

        address = f"127.{random.randint(1, 250)}.{random.randint(1, 250)}.{random.randint(2, 250)}"
        egress = EgressSwitch(
            lambda: Egress(
                EgressSettings(
                    bind=address, runtime_dir=tmp_path / "egress", connect_ports=(fake.port,)
                )
            ),
            address=address,
        )
        runtime = BotRuntime(
            RuntimeSettings(kafka_bootstrap=bootstrap, data_dir=tmp_path / "runtime"),
            bot_id,
            egress=egress,
        )
        stop = asyncio.Event()
        running = asyncio.create_task(runtime.run(stop))
        try:
            await _trade(platform, bootstrap, fake, http, base, bot, address, stop, running)
        finally:
            stop.set()
            await asyncio.wait_for(asyncio.gather(running, return_exceptions=True), 30)


async def _trade(
    platform: Platform,
    bootstrap: str,
    fake: FakeBinance,
    http: Any,
    base: str,
    bot: dict[str, Any],
    address: str,
    stop: asyncio.Event,
    running: asyncio.Task[Any],
) -> None:
    bot_id = bot["bot_id"]
    opens = datetime.now(UTC).replace(second=0, microsecond=0) - timedelta(minutes=1)
    async with (
        MarketFeed(bootstrap, "binance", "ETH/USDT") as feed,
        Orders(bootstrap, bot_id) as orders,
    ):
        candles = iter(range(100))

        async def candle(o: str, h: str, low: str, c: str) -> None:
            at = opens + timedelta(minutes=next(candles))
            await feed.candle(at, "1m", D(o), D(h), D(low), D(c))

        async def cycle(mode: str, fill_buy: Any, fill_sell: Any) -> None:
            """Down through 99: the grid buys at 99; up through 100: its lot sells at 100."""
            before = len(orders.accepted(mode))
            await candle("99.5", "99.6", "98.8", "99.2")
            await until(lambda: len(orders.accepted(mode)) == before + 1, timeout=30)
            buy = orders.accepted(mode)[-1]
            assert (buy.side, buy.type, buy.price) == ("buy", "limit", "99")
            await fill_buy(buy)
            await until(lambda: orders.filled(buy.order_id), timeout=30)
            await candle("99.2", "100.3", "99.1", "99.5")
            await until(lambda: len(orders.accepted(mode)) == before + 2, timeout=30)
            sell = orders.accepted(mode)[-1]
            assert (sell.side, sell.price, sell.quantity) == ("sell", "100", buy.quantity)
            await fill_sell(sell)
            await until(lambda: orders.filled(sell.order_id), timeout=30)

        async def paper_buy(order: x.OrderAccepted) -> None:
            await feed.trade(datetime.now(UTC), D("98.9"), "1000", side="sell")

        async def paper_sell(order: x.OrderAccepted) -> None:
            await feed.trade(datetime.now(UTC), D("100.1"), "1000", side="buy")

        async def at_venue(order: x.OrderAccepted) -> None:
            await until(lambda: fake.order_by_client_id(order.client_order_id), timeout=30)
            found = fake.order_by_client_id(order.client_order_id)
            assert found is not None
            fake.fill(found.order_id)

        await candle("99.5", "99.8", "99.3", "99.5")  # the first: between two levels, none crossed
        await cycle("paper", paper_buy, paper_sell)

        r = await http.post(f"{base}/bots/{bot_id}/mode", json={"mode": "testnet"})
        assert r.status_code == 200, r.text
        await until(lambda: egress_up(orders), timeout=30)
        await cycle("testnet", at_venue, at_venue)

        r = await http.post(f"{base}/bots/{bot_id}/mode", json={"mode": "paper"})
        assert r.status_code == 200, r.text
        await until(lambda: not egress_up(orders), timeout=30)
        await cycle("paper", paper_buy, paper_sell)

        stop.set()
        await asyncio.wait_for(running, 30)

        # the venue saw the bot's address, never the gateway's
        placed = [q for q in fake.requests if q.tag == "place"]
        assert placed and {q.peer for q in placed} == {address}
        assert {q.api_key for q in placed} == {KEYS["api_key"]}
        # every order accounted for, and positions are the sums of fills
        for mode in ("paper", "testnet"):
            accepted = {o.order_id for o in orders.accepted(mode)}
            done = {f.order_id for f in orders.of(x.OrderFilled) if f.status == "filled"}
            cancelled = {c.order_id for c in orders.of(x.OrderCancelled)}
            assert not done & cancelled, "an order closes once: filled or cancelled"
            every = {o.order_id for o in orders.of(x.OrderAccepted)}
            assert (done | cancelled) <= every, "no outcome for an order never accepted"
            open_now = accepted - done - cancelled
            assert not open_now, f"{mode}: {open_now} still open"
            fills = [f for f in orders.of(x.OrderFilled) if f.order_id in accepted]
            sides = {o.order_id: o.side for o in orders.accepted(mode)}
            net = sum(
                (D(f.fill.quantity) * (1 if sides[f.order_id] == "buy" else -1) for f in fills),
                D(0),
            )
            last = [p for p in orders.of(x.PositionChanged) if p.mode == mode][-1]
            assert D(last.quantity) == net == 0
        assert len(orders.accepted("paper")) == 4 and len(orders.accepted("testnet")) == 2
        assert not orders.of(x.OrderRejected)

    versions = (await http.get(f"{base}/bots/{bot_id}/versions")).json()["items"]
    assert [v["mode"] for v in versions] == ["paper", "testnet", "paper"]
    assert all(v["config"] == bot["config"] for v in versions), "the toggle changed nothing"


def egress_up(orders: Orders) -> bool:
    """Whether the bot's host egress is attached, by the last egress event the bot published."""
    marks = [e for e in orders.events if isinstance(e, x.EgressAttached | x.EgressDetached)]
    return bool(marks) and isinstance(marks[-1], x.EgressAttached)
