"""The exchange gateway as the e2e platform runs it: the real handlers, store, sealing key and vault
over Kafka, with a plain paper desk (market orders fill at once at one price; limit orders rest
until cancelled, or fill when they cross it) instead of the paper engines, which need a market-data
feed to fill, and no venue adapter (testnet and live orders stay `sent`). The capability table is
the gateway's own."""

from __future__ import annotations

from datetime import datetime, timedelta
from decimal import Decimal
from pathlib import Path

from plutarc_access import AccessEngine, AccessError, Authorizer, Memberships, engine_for
from plutarc_access.workspaces import Workspaces
from plutarc_contracts import default_registry
from plutarc_contracts import exchange as x
from plutarc_contracts.bots import BOTS, MarketRef
from plutarc_contracts.identity import IDENTITY
from plutarc_contracts.topics import events_topic
from plutarc_exchange.domain import STREAM_TYPES, Book
from plutarc_exchange.handlers import SERVICE, handlers
from plutarc_exchange.sealing import SealingKey
from plutarc_exchange.timers import Published, timers
from plutarc_exchange.vault import Vault, load_kek
from plutarc_exchange.venue_table import VenueTable
from plutarc_exchange.views import Bots
from plutarc_runtime.clock import Clock
from plutarc_runtime.service import Replayed, ServiceSpec
from plutarc_runtime.store import EventStore

PRICE = Decimal(100)
FEE = Decimal("0.001")


class PlainPaper:
    def __init__(self) -> None:
        self._owners: dict[str, tuple[str, str]] = {}

    def owner(self, order_id: str) -> tuple[str, str] | None:
        return self._owners.get(order_id)

    def reference_price(self, venue: str, symbol: str, side: str) -> Decimal | None:
        return PRICE

    def submit(
        self, bot_id: str, market: MarketRef, order: x.OrderAccepted, book: Book, now: datetime
    ) -> list[x.VenueReport]:
        self._owners[order.order_id] = (order.workspace_id, order.bot_id)
        limit = Decimal(order.price) if order.price is not None else None
        crosses = limit is None or (limit >= PRICE if order.side == "buy" else limit <= PRICE)
        if not crosses:
            return []
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
        return [x.VenueReport(order_id=order_id, cancelled=True)]


def sealing_key(data_dir: Path) -> SealingKey:
    return SealingKey.load_or_create(data_dir / "sealing-key")


def gateway_spec(data_dir: Path, policy: AccessEngine | None = None) -> ServiceSpec:
    members = Memberships(policy or engine_for(None))
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
        handlers=handlers(
            bots, spaces, sealing_key(data_dir), vault, PlainPaper(), VenueTable(), balances
        ),
        timers=timers(sealing_key(data_dir), timedelta(milliseconds=200)),
        read_models=[Published],
        authorizer=authorizer,
        replayed=[
            Replayed("memberships", [events_topic(IDENTITY)], [members, spaces]),
            Replayed("bots", [events_topic(BOTS)], [bots]),
        ],
        transient_errors=(AccessError,),
    )
