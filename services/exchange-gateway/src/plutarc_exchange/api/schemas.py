"""The exchange context's request and response bodies. Requests reject unknown fields and are
bounded as the contract is (plutarc_contracts.exchange). A venue's keys sent in clear are
`SecretStr`: no repr, log line or validation error ever shows them, and the route seals them to
the gateway's public key before anything else happens."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Literal

from plutarc_api.schemas import In, Name
from pydantic import BaseModel, Field, SecretStr, StringConstraints, model_validator

Id = Annotated[str, StringConstraints(min_length=1, max_length=64)]
Amount = Annotated[str, StringConstraints(pattern=r"^\d{1,18}(\.\d{1,18})?$", max_length=40)]
Sealed = Annotated[str, StringConstraints(pattern=r"^[A-Za-z0-9_-]+={0,2}$", max_length=8192)]
Secret = Annotated[SecretStr, Field(min_length=1, max_length=1024)]
Venue = Literal[
    "binance",
    "bybit",
    "okx",
    "kucoin",
    "deribit",
    "gemini",
    "phemex",
    "bitmex",
    "kraken",
    "coinbase",
]
Environment = Literal["live", "testnet"]
Mode = Literal["paper", "testnet", "live"]
OrderStatus = Literal["open", "partially_filled", "filled", "cancelled", "rejected"]


# -- requests ------------------------------------------------------------------------------------
class VenueKeys(In):
    """A venue's API keys as ccxt names them; `password` is OKX's and KuCoin's passphrase."""

    api_key: Secret
    secret: Secret
    password: Secret | None = None
    uid: Secret | None = None

    def reveal(self) -> dict[str, str]:
        found = {
            "api_key": self.api_key.get_secret_value(),
            "secret": self.secret.get_secret_value(),
        }
        if self.password is not None:
            found["password"] = self.password.get_secret_value()
        if self.uid is not None:
            found["uid"] = self.uid.get_secret_value()
        return found


class AddConnectionIn(In):
    """Either `credentials` (the keys in clear, sealed by the API at once) or `sealed` (sealed by
    the client to the key `key_id` of `GET .../exchange/sealing-key`), per environment."""

    venue: Venue
    label: Name
    credentials: Annotated[dict[Environment, VenueKeys], Field(max_length=2)] | None = None
    key_id: Id | None = None
    sealed: Annotated[dict[Environment, Sealed], Field(max_length=2)] | None = None

    @model_validator(mode="after")
    def _one_form(self) -> AddConnectionIn:
        if (self.credentials is None) == (self.sealed is None):
            raise ValueError("give either `credentials` (in clear) or `sealed`, not both")
        if self.sealed is not None and self.key_id is None:
            raise ValueError("`sealed` credentials need the `key_id` they were sealed to")
        if not (self.credentials or self.sealed):
            raise ValueError("give keys for live, testnet or both")
        return self


class PlaceOrderIn(In):
    side: Literal["buy", "sell"]
    type: Literal["market", "limit"]
    quantity: Amount
    price: Amount | None = None
    post_only: bool = False
    reduce_only: bool = False


# -- responses -----------------------------------------------------------------------------------
class SealingKeyOut(BaseModel):
    key_id: str
    public_key: str
    """URL-safe base64 of the gateway's X25519 public key: seal with a libsodium sealed box."""
    published_at: datetime


class ConnectionOut(BaseModel):
    connection_id: str
    workspace_id: str
    venue: str
    label: str
    environments: list[Environment]
    fingerprint: str
    """8 hex digits of the API key's SHA-256: tells two keys apart, reveals neither."""
    added_by: str
    added_at: datetime


class ConnectionPage(BaseModel):
    items: list[ConnectionOut]
    next_cursor: str | None


class ConnectionRemovedOut(BaseModel):
    connection_id: str
    removed: bool = True
    key_destroyed: bool
    """The connection's data key is destroyed: its keys can never be read again."""


class OrderOut(BaseModel):
    order_id: str
    bot_id: str
    status: OrderStatus
    mode: Mode | None
    venue: str | None
    symbol: str | None
    side: Literal["buy", "sell"] | None
    type: Literal["market", "limit"] | None
    quantity: str | None
    price: str | None
    post_only: bool
    reduce_only: bool
    filled: str
    remaining: str | None
    client_order_id: str | None
    venue_order_id: str | None
    code: str | None
    """Why it was rejected (a stable code such as `risk.max_order_notional`)."""
    reason: str | None
    created_at: datetime
    updated_at: datetime


class FillOut(BaseModel):
    fill_id: str
    order_id: str
    side: Literal["buy", "sell"] | None
    quantity: str
    price: str
    fee: str
    fee_currency: str
    liquidity: Literal["maker", "taker"]
    at: datetime


class OrderDetailOut(OrderOut):
    fills: list[FillOut]
    """The order's first fills (at most 200, oldest first); `GET .../fills?order_id=` pages on."""
    more_fills: bool


class OrderPage(BaseModel):
    items: list[OrderOut]
    next_cursor: str | None


class FillPage(BaseModel):
    items: list[FillOut]
    next_cursor: str | None


class CancelAllOut(BaseModel):
    requested: list[str]
    """Every open order of the bot: a cancel was asked for each."""
    cancelled: list[str]
    """Those cancelled already; the others' outcome (cancelled, or filled first) follows as
    events once the venue or the paper engine confirms."""


class BalanceOut(BaseModel):
    currency: str
    free: str
    reserved: str


class HaltOut(BaseModel):
    until: datetime
    loss: str
    threshold: str


class PositionOut(BaseModel):
    mode: Mode
    symbol: str
    quantity: str
    """Signed: negative is short."""
    average_price: str
    realised_pnl: str
    """In the quote currency, fees included."""
    fees_paid: str
    balances: list[BalanceOut]
    entries_halted: HaltOut | None
    """The daily loss limit was breached: new entries are refused until `until`."""
    updated_at: datetime


class PositionsOut(BaseModel):
    bot_id: str
    mode: Mode
    """The bot's mode now."""
    items: list[PositionOut]


Interval = Literal["1s", "1m", "5m", "15m", "1h", "4h", "1d"]


class CandleOut(BaseModel):
    opens_at: datetime
    """The window's start (UTC); it closes where the next window of the interval opens."""
    open: str
    high: str
    low: str
    close: str
    volume: str
    trades: int


class CandlesOut(BaseModel):
    bot_id: str
    venue: str
    symbol: str
    interval: Interval
    items: list[CandleOut]
    """Closed candles, oldest first: the newest `limit` (before `before`, when given)."""


class PnlPointOut(BaseModel):
    at: datetime
    """When the position changed (the gateway's time of the fill's event)."""
    realised_pnl: str
    """Realised so far, fees included, in the quote currency."""
    quantity: str
    """The position after it: signed, negative is short."""
    average_price: str
    fees_paid: str


class PnlOut(BaseModel):
    bot_id: str
    mode: Mode
    symbol: str
    items: list[PnlPointOut]
    """A point per position change, oldest first: the newest `limit` (before `before`)."""
