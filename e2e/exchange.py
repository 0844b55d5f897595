"""An exchange gateway beside the platform (identity, support, bots and the API on real Kafka), for
the exchange API module's tests and the CLI's: the real handlers, store, sealing key and vault over
Kafka, with a plain paper desk (market orders fill at once at one price; limit orders rest until
cancelled, or fill when they cross it) and a venue table where every venue but Gemini has a
testnet."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from dataclasses import dataclass
from datetime import datetime, timedelta
from decimal import Decimal
from pathlib import Path

import pytest
from plutarc_access import AccessError, Authorizer, Memberships, engine_for
from plutarc_access.workspaces import Workspaces
from plutarc_contracts import default_registry
from plutarc_contracts import exchange as x
from plutarc_contracts.bots import BOTS, MarketRef
from plutarc_contracts.identity import IDENTITY
from plutarc_contracts.topics import events_topic
from plutarc_exchange.api.models import sealing_key
from plutarc_exchange.domain import STREAM_TYPES, Book
from plutarc_exchange.handlers import SERVICE, handlers
from plutarc_exchange.sealing import SealingKey
from plutarc_exchange.timers import Published, timers
from plutarc_exchange.vault import Vault, load_kek
from plutarc_exchange.views import Bots
from plutarc_runtime.clock import Clock
from plutarc_runtime.service import Replayed, Service, ServiceSpec
from plutarc_runtime.settings import RuntimeSettings
from plutarc_runtime.store import EventStore
from plutarc_testkit.waiting import until
from sqlalchemy import select

from .conftest import FAST_GROUPS, Platform, _started, fresh_identity_topics, running_platform

PRICE = Decimal(100)
FEE = Decimal("0.001")


class PlainPaper:
    def __init__(self) -> None:
        self.fills = 0

    def reference_price(self, venue: str, symbol: str, side: str) -> Decimal | None:
        return PRICE

    def submit(
        self, bot_id: str, market: MarketRef, order: x.OrderAccepted, book: Book, now: datetime
    ) -> list[x.VenueReport]:
        limit = Decimal(order.price) if order.price is not None else None
        crosses = limit is None or (limit >= PRICE if order.side == "buy" else limit <= PRICE)
        if not crosses:
            return []
        self.fills += 1
        quantity = Decimal(order.quantity)
        fill = x.Fill(
            fill_id=f"{order.order_id[:40]}-f1",
            quantity=order.quantity,
            price=str(PRICE),
            fee=str((quantity * PRICE * FEE).normalize()),
            fee_currency="USDT",
            liquidity="taker",
            at=now,
        )
        return [x.VenueReport(order_id=order.order_id, fills=[fill])]

    def cancel(
        self, bot_id: str, market: MarketRef, order_id: str, now: datetime
    ) -> list[x.VenueReport]:
        return []


class PlainVenues:
    def has_testnet(self, venue: str, kind: str = "spot") -> bool:
        return venue != "gemini"

    def client_order_id(self, venue: str, command_id: str) -> str:
        return "pl" + command_id.replace("-", "")[:30]


def gateway_spec(data_dir: Path, sealing: SealingKey) -> ServiceSpec:
    members = Memberships(engine_for(None))
    spaces, bots = Workspaces(), Bots()
    vault = Vault(f"sqlite:///{data_dir / 'vault.db'}", load_kek(None, data_dir / "kek"))
    balances = {"USDT": Decimal(10000), "BTC": Decimal(0)}

    def authorizer(store: EventStore, clock: Clock) -> Authorizer:
        return members.authorizer(clock.now)

    return ServiceSpec(
        name=SERVICE,
        context=x.EXCHANGE,
        registry=default_registry(),
        stream_types=STREAM_TYPES,
        handlers=handlers(bots, spaces, sealing, vault, PlainPaper(), PlainVenues(), balances),
        timers=timers(sealing, timedelta(milliseconds=200)),
        read_models=[Published],
        authorizer=authorizer,
        replayed=[
            Replayed("memberships", [events_topic(IDENTITY)], [members, spaces]),
            Replayed("bots", [events_topic(BOTS)], [bots]),
        ],
        transient_errors=(AccessError,),
    )


@dataclass
class Exchange:
    platform: Platform
    gateway: Service
    sealing: SealingKey


@pytest.fixture
async def exchange(kafka_bootstrap: str, tmp_path: Path) -> AsyncIterator[Exchange]:
    await fresh_identity_topics(kafka_bootstrap, ("exchange",))
    sealing = SealingKey.load_or_create(tmp_path / "exchange" / "sealing-key")
    async with running_platform(kafka_bootstrap, tmp_path) as platform:
        gateway = Service(
            gateway_spec(tmp_path / "exchange", sealing),
            RuntimeSettings(kafka_bootstrap=kafka_bootstrap, data_dir=tmp_path / "exchange"),
            consumer_overrides=FAST_GROUPS,
        )
        stop = asyncio.Event()
        task = asyncio.create_task(gateway.run(stop))
        try:
            await _started("exchange-gateway", gateway, task)
            await until(
                lambda: platform.api.reader.one(select(sealing_key)),
                what="the sealing key in the API's read model",
                timeout=30,
            )
            yield Exchange(platform, gateway, sealing)
        finally:
            stop.set()
            await asyncio.wait_for(task, 30)
