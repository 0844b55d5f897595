"""Exchange contracts: venue connections, orders, fills, positions, balances and PnL per bot.

The exchange gateway owns venue **connections** (a workspace's API keys for one venue). Keys reach
it sealed with the gateway's public key (`SealingKeyPublished`): the API and the CLI seal them, so
no topic, log or store outside the gateway ever holds them in clear. Events name a connection by
its id only; removing one destroys its data key (crypto-shredding).

An **order** command names a bot; the gateway routes it by the bot's current mode (followed from
``bots.events.v1``) to the venue's live endpoint, its testnet, or the paper engine. Every outcome is
an event on ``exchange.orders.v1`` keyed by the bot (the bot's account is one stream), so a
consumer reads one bot's orders, fills and positions in order. Amounts are decimal strings.
See docs/exchange.md.
"""

from __future__ import annotations

from typing import Annotated, Literal

import msgspec

from plutarc_contracts.bots import Id, Mode, Symbol, Venue
from plutarc_contracts.envelope import Payload, UtcDateTime
from plutarc_contracts.registry import Registry
from plutarc_contracts.topics import FOREVER, ContextTopics, Topic, declare_context

EXCHANGE = "exchange"
ORDERS_TOPIC = "exchange.orders.v1"

Label = Annotated[str, msgspec.Meta(min_length=1, max_length=100)]
Amount = Annotated[str, msgspec.Meta(pattern=r"^\d{1,18}(\.\d{1,18})?$", max_length=40)]
"""A non-negative decimal, as a string (quantities in the base currency, prices in the quote)."""
Signed = Annotated[str, msgspec.Meta(pattern=r"^-?\d{1,18}(\.\d{1,18})?$", max_length=41)]
"""A decimal that may be negative (a short position, a loss)."""
Sealed = Annotated[str, msgspec.Meta(pattern=r"^[A-Za-z0-9_-]+={0,2}$", max_length=8192)]
"""URL-safe base64 of a libsodium sealed box addressed to the gateway's public key."""
PublicKey = Annotated[str, msgspec.Meta(pattern=r"^[A-Za-z0-9_-]{43}=$")]
Environment = Literal["live", "testnet"]
Side = Literal["buy", "sell"]
OrderType = Literal["market", "limit"]
OrderStatus = Literal["open", "partially_filled", "filled", "cancelled", "rejected"]
Liquidity = Literal["maker", "taker"]
Reason = Annotated[str, msgspec.Meta(max_length=500)]
Code = Annotated[str, msgspec.Meta(pattern=r"^[a-z][a-z0-9_]*(\.[a-z][a-z0-9_]*)+$", max_length=80)]


class _Shape(msgspec.Struct, frozen=True, kw_only=True, forbid_unknown_fields=True):
    pass


class Fill(_Shape, frozen=True, kw_only=True, forbid_unknown_fields=True):
    """One execution of an order: ``fee`` in ``fee_currency`` (the quote currency on paper)."""

    fill_id: Id
    quantity: Amount
    price: Amount
    fee: Signed
    fee_currency: Annotated[str, msgspec.Meta(min_length=1, max_length=20)]
    liquidity: Liquidity
    at: UtcDateTime

    @classmethod
    def example(cls) -> Fill:
        from datetime import UTC, datetime

        return cls(
            fill_id="f-1",
            quantity="0.01",
            price="64000.5",
            fee="0.64",
            fee_currency="USDT",
            liquidity="taker",
            at=datetime(2026, 12, 3, 9, 0, tzinfo=UTC),
        )


class Balance(_Shape, frozen=True, kw_only=True, forbid_unknown_fields=True):
    currency: Annotated[str, msgspec.Meta(min_length=1, max_length=20)]
    free: Signed
    reserved: Amount

    @classmethod
    def example(cls) -> Balance:
        return cls(currency="USDT", free="9000", reserved="1000")


# --- events on exchange.events.v1 -----------------------------------------------------------------
class SealingKeyPublished(Payload, frozen=True, kw_only=True):
    """The gateway's public key: credentials are sealed to it before they leave the caller."""

    key_id: Id
    public_key: PublicKey

    @classmethod
    def example(cls) -> SealingKeyPublished:
        return cls(key_id="k-2026-12", public_key="A" * 43 + "=")


class ConnectionAdded(Payload, frozen=True, kw_only=True):
    """A venue connection; ``environments`` says for which of live and testnet it holds keys.
    ``fingerprint`` is a short hash of the API key (never the key) so a person can tell two apart."""

    workspace_id: Id
    connection_id: Id
    venue: Venue
    label: Label
    environments: list[Environment]
    fingerprint: Annotated[str, msgspec.Meta(pattern=r"^[0-9a-f]{8}$")]
    added_by: str

    @classmethod
    def example(cls) -> ConnectionAdded:
        return cls(
            workspace_id="ws-example",
            connection_id="conn-1",
            venue="binance",
            label="Main account",
            environments=["testnet"],
            fingerprint="0a1b2c3d",
            added_by="user:example",
        )


class ConnectionRemoved(Payload, frozen=True, kw_only=True):
    """The connection is gone and its data key destroyed: its sealed keys can never be read again."""

    workspace_id: Id
    connection_id: Id
    removed_by: str


class EntriesHalted(Payload, frozen=True, kw_only=True):
    """A risk alert: the bot's daily loss limit was breached, so orders that would open or grow a
    position are refused until ``until`` (the next UTC day); exits still go through."""

    workspace_id: Id
    bot_id: Id
    mode: Mode
    limit: Literal["daily_loss_limit"]
    loss: Amount
    threshold: Amount
    until: UtcDateTime


class EgressAttached(Payload, frozen=True, kw_only=True):
    """The bot's host is up: its venue traffic (live and testnet) goes through ``proxy_url``, the
    forward proxy bound to the bot's own address. Holds no credential."""

    workspace_id: Id
    bot_id: Id
    proxy_url: Annotated[str, msgspec.Meta(pattern=r"^(http|socks5)://[^\s/@]+$", max_length=200)]
    address: Annotated[str, msgspec.Meta(min_length=1, max_length=64)]

    @classmethod
    def example(cls) -> EgressAttached:
        return cls(
            workspace_id="ws-example",
            bot_id="bot-1",
            proxy_url="http://127.0.0.1:8899",
            address="127.0.0.42",
        )


class EgressDetached(Payload, frozen=True, kw_only=True):
    """The bot's host is gone (asleep): live and testnet orders of the bot are refused until a
    host attaches again; paper needs none."""

    workspace_id: Id
    bot_id: Id


# --- events on exchange.orders.v1 (stream = the bot) ----------------------------------------------
class AccountOpened(Payload, frozen=True, kw_only=True):
    """The bot's book in ``mode`` for ``symbol``, opened before its first order there (again when
    the bot's market changes). Paper starts with the gateway's paper balances; testnet and live
    books start empty and follow the bot's own fills."""

    workspace_id: Id
    bot_id: Id
    mode: Mode
    symbol: Symbol
    balances: list[Balance]

    @classmethod
    def example(cls) -> AccountOpened:
        return cls(
            workspace_id="ws-example",
            bot_id="bot-1",
            mode="paper",
            symbol="BTC/USDT",
            balances=[Balance(currency="USDT", free="10000", reserved="0")],
        )


class OrderAccepted(Payload, frozen=True, kw_only=True):
    """The risk gate passed and the order went to ``mode``'s venue (or the paper engine)."""

    workspace_id: Id
    bot_id: Id
    order_id: Id
    client_order_id: Annotated[str, msgspec.Meta(min_length=1, max_length=64)]
    mode: Mode
    venue: Venue
    symbol: Symbol
    side: Side
    type: OrderType
    quantity: Amount
    price: Amount | None = None
    post_only: bool = False
    reduce_only: bool = False
    venue_order_id: str | None = None

    @classmethod
    def example(cls) -> OrderAccepted:
        return cls(
            workspace_id="ws-example",
            bot_id="bot-1",
            order_id="0194a0c0-5e00-7000-8000-000000000001",
            client_order_id="pl0194a0c05e0070008000000000000001",
            mode="paper",
            venue="binance",
            symbol="BTC/USDT",
            side="buy",
            type="limit",
            quantity="0.01",
            price="64000",
        )


class OrderRejected(Payload, frozen=True, kw_only=True):
    """Refused by the risk gate, the market's rules or the venue: nothing is open."""

    workspace_id: Id
    bot_id: Id
    order_id: Id
    code: Code
    reason: Reason

    @classmethod
    def example(cls) -> OrderRejected:
        return cls(
            workspace_id="ws-example",
            bot_id="bot-1",
            order_id="0194a0c0-5e00-7000-8000-000000000001",
            code="risk.max_order_notional",
            reason="the order's notional 1500 is above the bot's limit 1000",
        )


class OrderFilled(Payload, frozen=True, kw_only=True):
    """Part or all of an order executed; ``remaining`` is what is still open."""

    workspace_id: Id
    bot_id: Id
    order_id: Id
    fill: Fill
    remaining: Amount
    status: Literal["partially_filled", "filled"]


class OrderCancelled(Payload, frozen=True, kw_only=True):
    workspace_id: Id
    bot_id: Id
    order_id: Id
    remaining: Amount
    reason: Literal["requested", "expired", "venue", "flatten", "ioc"] = "requested"


class PositionChanged(Payload, frozen=True, kw_only=True):
    """The bot's position, balances and PnL after a fill (kept by the gateway from fills alone).
    ``quantity`` is signed (negative: short); PnL in the quote currency, fees included."""

    workspace_id: Id
    bot_id: Id
    mode: Mode
    symbol: Symbol
    quantity: Signed
    average_price: Amount
    realised_pnl: Signed
    fees_paid: Amount
    balances: list[Balance]

    @classmethod
    def example(cls) -> PositionChanged:
        return cls(
            workspace_id="ws-example",
            bot_id="bot-1",
            mode="paper",
            symbol="BTC/USDT",
            quantity="0.01",
            average_price="64000.5",
            realised_pnl="-0.64",
            fees_paid="0.64",
            balances=[Balance.example()],
        )


# --- commands (exchange.commands.v1) ---------------------------------------------------------------
class AddConnection(Payload, frozen=True, kw_only=True):
    """``credentials``: per environment, the JSON of the venue's keys (``api_key``, ``secret``,
    optionally ``password``) sealed to the gateway's key ``key_id``."""

    workspace_id: Id
    connection_id: Id
    venue: Venue
    label: Label
    key_id: Id
    credentials: dict[Environment, Sealed]

    @classmethod
    def example(cls) -> AddConnection:
        return cls(
            workspace_id="ws-example",
            connection_id="conn-1",
            venue="binance",
            label="Main account",
            key_id="k-2026-12",
            credentials={"testnet": "c2VhbGVk"},
        )


class PublishSealingKey(Payload, frozen=True, kw_only=True):
    """Issued by the gateway itself at start (actor ``system:exchange-gateway``) when the key it
    holds is not the one last published."""

    key_id: Id
    public_key: PublicKey

    @classmethod
    def example(cls) -> PublishSealingKey:
        return cls(key_id="k-2026-12", public_key="A" * 43 + "=")


class RemoveConnection(Payload, frozen=True, kw_only=True):
    workspace_id: Id
    connection_id: Id


class PlaceOrder(Payload, frozen=True, kw_only=True):
    """An order of a bot, on the bot's market, routed by the bot's mode. The command id is the
    idempotency key and the client order id is derived from it."""

    workspace_id: Id
    bot_id: Id
    side: Side
    type: OrderType
    quantity: Amount
    price: Amount | None = None
    post_only: bool = False
    reduce_only: bool = False


class CancelOrder(Payload, frozen=True, kw_only=True):
    workspace_id: Id
    bot_id: Id
    order_id: Id


class CancelAllOrders(Payload, frozen=True, kw_only=True):
    workspace_id: Id
    bot_id: Id


class AttachEgress(Payload, frozen=True, kw_only=True):
    """Sent by the bot's host (actor ``bot:<bot_id>``, or the compute service) when its egress
    proxy is up."""

    workspace_id: Id
    bot_id: Id
    proxy_url: Annotated[str, msgspec.Meta(pattern=r"^(http|socks5)://[^\s/@]+$", max_length=200)]
    address: Annotated[str, msgspec.Meta(min_length=1, max_length=64)]

    @classmethod
    def example(cls) -> AttachEgress:
        return cls(
            workspace_id="ws-example",
            bot_id="bot-1",
            proxy_url="http://127.0.0.1:8899",
            address="127.0.0.42",
        )


class DetachEgress(Payload, frozen=True, kw_only=True):
    workspace_id: Id
    bot_id: Id


class VenueReport(_Shape, frozen=True, kw_only=True, forbid_unknown_fields=True):
    """What a venue (or the paper engine) said about one order: fills, a cancel, a rejection."""

    order_id: Id
    fills: list[Fill] = []
    cancelled: bool = False
    rejected_code: Code | None = None
    rejected_reason: Reason = ""
    venue_order_id: str | None = None

    @classmethod
    def example(cls) -> VenueReport:
        return cls(order_id="0194a0c0-5e00-7000-8000-000000000001", fills=[Fill.example()])


class RecordVenueReports(Payload, frozen=True, kw_only=True):
    """Issued by the gateway itself (actor ``system:exchange-gateway``): what venues and the paper
    engine reported for a bot's orders, turned into order events. Idempotent per fill id."""

    workspace_id: Id
    bot_id: Id
    reports: Annotated[list[VenueReport], msgspec.Meta(min_length=1, max_length=1000)]


class ResumePaperOrders(Payload, frozen=True, kw_only=True):
    """Issued by the gateway itself (actor ``system:exchange-gateway``) when it starts: the paper
    engines live in memory, so a bot's open paper orders are put back into them (their queue
    position estimated again from the book as it is then). Changes nothing for an order the
    engine already holds; what the orders do on arrival (a fill) is recorded."""

    workspace_id: Id
    bot_id: Id


EVENTS: dict[str, type[msgspec.Struct]] = {
    "exchange.sealing_key_published": SealingKeyPublished,
    "exchange.connection_added": ConnectionAdded,
    "exchange.connection_removed": ConnectionRemoved,
    "exchange.entries_halted": EntriesHalted,
    "exchange.egress_attached": EgressAttached,
    "exchange.egress_detached": EgressDetached,
    "exchange.account_opened": AccountOpened,
    "exchange.order_accepted": OrderAccepted,
    "exchange.order_rejected": OrderRejected,
    "exchange.order_filled": OrderFilled,
    "exchange.order_cancelled": OrderCancelled,
    "exchange.position_changed": PositionChanged,
}
ORDER_EVENTS = (
    "exchange.account_opened",
    "exchange.order_accepted",
    "exchange.order_rejected",
    "exchange.order_filled",
    "exchange.order_cancelled",
    "exchange.position_changed",
    "exchange.entries_halted",
)

COMMANDS: dict[str, type[msgspec.Struct]] = {
    "exchange.publish_sealing_key": PublishSealingKey,
    "exchange.add_connection": AddConnection,
    "exchange.remove_connection": RemoveConnection,
    "exchange.place_order": PlaceOrder,
    "exchange.cancel_order": CancelOrder,
    "exchange.cancel_all_orders": CancelAllOrders,
    "exchange.attach_egress": AttachEgress,
    "exchange.detach_egress": DetachEgress,
    "exchange.record_venue_reports": RecordVenueReports,
    "exchange.resume_paper_orders": ResumePaperOrders,
}


def register_exchange_types(registry: Registry) -> Registry:
    for name, cls in EVENTS.items():
        registry.register_event(name, {1: cls})
    for name, cls in COMMANDS.items():
        registry.register_command(name, {1: cls})
    return registry


def exchange_topics() -> ContextTopics:
    """The exchange context's topics: the one place they are declared."""
    return declare_context(
        EXCHANGE,
        description="venue connections (by id), the gateway's sealing key",
        streams=[
            Topic(
                name=ORDERS_TOPIC,
                retention_ms=FOREVER,
                description="orders, fills, positions, balances and PnL, keyed by bot",
            )
        ],
        routes={ORDERS_TOPIC: ORDER_EVENTS},
    )
