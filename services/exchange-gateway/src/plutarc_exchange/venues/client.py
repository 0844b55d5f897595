"""``VenueClient``: one venue connection (venue, environment, market kind, credentials) through
ccxt's async client, with our errors, retries and idempotent placing.

Every client owns its ccxt instance, its aiohttp session and its throttle: nothing is shared
between clients, so one venue failing or being slow never blocks another. What differs between
venues comes from the capability table (capabilities.json), never from a branch on the venue.
"""

from __future__ import annotations

import asyncio
import copy
import random
import time
from collections.abc import Awaitable, Callable, Mapping
from decimal import Decimal
from typing import Any, Literal, TypeVar
from urllib.parse import urlsplit, urlunsplit

import ccxt
import ccxt.async_support as ccxt_async
import msgspec
from msgspec.structs import replace
from plutarc_contracts.bots import MarketKind

from plutarc_exchange.venues.capabilities import (
    CapabilityTable,
    Endpoint,
    Environment,
    Lookup,
    capability_table,
)
from plutarc_exchange.venues.client_ids import derive_client_order_id
from plutarc_exchange.venues.errors import (
    NoTestnet,
    Unsupported,
    VenueClosed,
    VenueError,
    from_ccxt,
)
from plutarc_exchange.venues.markets import MarketRules, rules_of, snapshot_markets
from plutarc_exchange.venues.retry import Backoff, Clock, RetryPolicy, Sleep

T = TypeVar("T")
CREDENTIAL_FIELDS = ("apiKey", "secret", "password", "uid", "privateKey", "walletAddress")
# ccxt's per-instance proxy settings for a proxy URL's scheme: (REST, websocket).
PROXY_SETTINGS = {
    "http": ("httpsProxy", "wssProxy"),
    "https": ("httpsProxy", "wssProxy"),
    "socks5": ("socksProxy", "wsSocksProxy"),
    "socks5h": ("socksProxy", "wsSocksProxy"),
}
STATUSES = {
    "open": "open",
    "closed": "filled",
    "canceled": "cancelled",
    "expired": "cancelled",
    "rejected": "rejected",
}


class OrderRequest(msgspec.Struct, frozen=True, kw_only=True):
    command_id: str
    symbol: str
    side: Literal["buy", "sell"]
    type: Literal["market", "limit"]
    amount: str
    price: str | None = None
    post_only: bool = False
    reduce_only: bool = False


class VenueOrder(msgspec.Struct, frozen=True, kw_only=True):
    """An order as the venue reports it. ``status`` uses the contracts' words (open,
    partially_filled, filled, cancelled, rejected)."""

    id: str
    client_order_id: str | None
    symbol: str
    side: str | None
    type: str | None
    status: str
    amount: str | None
    filled: str | None
    price: str | None
    average: str | None


class BalanceLine(msgspec.Struct, frozen=True):
    free: str
    used: str
    total: str


def _decimal(value: Any) -> str | None:
    if value is None:
        return None
    return format(Decimal(str(value)).normalize(), "f")


def client_id_of(raw: Mapping[str, Any], path: list[str]) -> str | None:
    value: Any = raw
    for key in path:
        value = value.get(key) if isinstance(value, Mapping) else None
    return value if isinstance(value, str) else None


def to_venue_order(
    raw: Mapping[str, Any], unset: str = "open", client_id_path: list[str] | None = None
) -> VenueOrder:
    """``unset`` is the status of an answer that carries ids only (Bybit and OKX answer a new
    order or a cancel so): what the request did, as far as the venue said."""
    status = STATUSES.get(str(raw.get("status")), unset)
    filled = raw.get("filled") or 0
    if status == "open" and filled:
        status = "partially_filled"
    return VenueOrder(
        id=str(raw.get("id")),
        client_order_id=client_id_of(raw, client_id_path or ["clientOrderId"]),
        symbol=str(raw.get("symbol")),
        side=raw.get("side"),
        type=raw.get("type"),
        status=status,
        amount=_decimal(raw.get("amount")),
        filled=_decimal(raw.get("filled")),
        price=_decimal(raw.get("price")),
        average=_decimal(raw.get("average")),
    )


def rewrite_urls(api: Any, base_url: str) -> Any:
    """``api`` (a URL or nested dict of URLs) with every scheme and host replaced by
    ``base_url``'s, paths kept: ccxt pointed at a local fake venue."""
    if isinstance(api, dict):
        return {key: rewrite_urls(value, base_url) for key, value in api.items()}
    if not isinstance(api, str):
        return api
    target = urlsplit(base_url)
    parts = urlsplit(api)
    return urlunsplit((target.scheme, target.netloc, parts.path, parts.query, parts.fragment))


class VenueClient:
    def __init__(
        self,
        venue: str,
        environment: Environment,
        kind: MarketKind,
        credentials: Mapping[str, str],
        *,
        proxy_url: str | None = None,
        url_override: str | None = None,
        timeout_ms: int = 10_000,
        throttle: bool = True,
        ca_file: str | None = None,
        retry: RetryPolicy | None = None,
        sleep: Sleep = asyncio.sleep,
        clock: Clock = time.monotonic,
        rng: random.Random | None = None,
        table: CapabilityTable | None = None,
    ) -> None:
        table = table or capability_table()
        try:
            self.capabilities = table.venue(venue)
        except KeyError:
            raise Unsupported(f"{venue!r} is not a plutarc venue", venue=venue) from None
        if kind not in self.capabilities.kinds:
            raise Unsupported(f"{venue} does not trade {kind} markets", venue=venue)
        if self.capabilities.closed is not None:
            raise VenueClosed(
                f"{self.capabilities.name} closed on {self.capabilities.closed}: its markets "
                "trade on paper only",
                venue=venue,
            )
        endpoint = self.capabilities.endpoint(kind, environment)
        if endpoint is None:
            raise NoTestnet(
                f"{venue} has no testnet for {kind} markets: use paper mode, which trades "
                "every venue against its market data",
                venue=venue,
            )
        self.venue = venue
        self.environment = environment
        self.kind = kind
        self.endpoint = endpoint
        self.markets_source: Literal["venue", "snapshot"] | None = None
        self.markets_error: VenueError | None = None
        self._retry = retry or RetryPolicy()
        self._sleep = sleep
        self._clock = clock
        self._rng = rng or random.Random()
        self.exchange = self._build(endpoint, credentials, timeout_ms, proxy_url, url_override)
        self.exchange.enableRateLimit = throttle
        if ca_file is not None:
            self.exchange.cafile = ca_file

    def _build(
        self,
        endpoint: Endpoint,
        credentials: Mapping[str, str],
        timeout_ms: int,
        proxy_url: str | None,
        url_override: str | None,
    ) -> Any:
        config: dict[str, Any] = {
            "timeout": timeout_ms,
            "options": copy.deepcopy(endpoint.options),
        }
        config.update({k: v for k, v in credentials.items() if k in CREDENTIAL_FIELDS})
        if proxy_url is not None:
            scheme = urlsplit(proxy_url).scheme
            if scheme not in PROXY_SETTINGS:
                raise Unsupported(f"proxy scheme {scheme!r} is not supported", venue=self.venue)
            rest, websocket = PROXY_SETTINGS[scheme]
            config[rest] = proxy_url
            config[websocket] = proxy_url
        exchange = getattr(ccxt_async, endpoint.ccxt_id)(config)
        if endpoint.sandbox:
            exchange.set_sandbox_mode(True)
        if url_override is not None:
            exchange.urls["api"] = rewrite_urls(exchange.urls["api"], url_override)
        return exchange

    async def close(self) -> None:
        await self.exchange.close()

    async def __aenter__(self) -> VenueClient:
        return self

    async def __aexit__(self, *exc: object) -> None:
        await self.close()

    # --- calls ----------------------------------------------------------------------------
    def _backoff(self) -> Backoff:
        backoff = Backoff(self._retry, self._sleep, self._clock, self._rng)
        backoff.start()
        return backoff

    async def _once(self, call: Callable[[], Awaitable[T]]) -> T:
        try:
            return await call()
        except ccxt.BaseError as exc:
            raise from_ccxt(exc, venue=self.venue) from exc

    async def _retried(self, call: Callable[[], Awaitable[T]]) -> T:
        """A call safe to repeat (a read, a cancel): retried on rate limits, 5xx and network
        failures within the budget."""
        backoff = self._backoff()
        while True:
            try:
                return await self._once(call)
            except VenueError as error:
                if not error.retry_safe or not await backoff.wait():
                    raise

    def _order(self, raw: Mapping[str, Any], unset: str = "open") -> VenueOrder:
        return to_venue_order(raw, unset, self.capabilities.client_order_id.client_id_path)

    # --- markets --------------------------------------------------------------------------
    async def load_markets(self) -> Literal["venue", "snapshot"]:
        """The venue's markets when it answers, else (unreachable, failing, rate-limiting past
        the budget) the snapshot's; ``markets_error`` says why. Other errors (a refused key)
        propagate."""
        try:
            await self._retried(lambda: self.exchange.load_markets(reload=True))
            self.markets_source = "venue"
        except VenueError as error:
            if not error.retry_safe:
                raise
            self.markets_error = error
            self.exchange.set_markets(snapshot_markets(self.venue, self.kind))
            self.markets_source = "snapshot"
        return self.markets_source

    def rules(self, symbol: str) -> MarketRules:
        return rules_of(self.exchange.market(symbol))

    async def _ensure_markets(self) -> None:
        if self.markets_source is None:
            await self.load_markets()

    # --- account --------------------------------------------------------------------------
    async def fetch_balance(self) -> dict[str, BalanceLine]:
        await self._ensure_markets()
        raw = await self._retried(lambda: self.exchange.fetch_balance())
        lines: dict[str, BalanceLine] = {}
        for currency, total in (raw.get("total") or {}).items():
            lines[currency] = BalanceLine(
                free=_decimal(raw["free"].get(currency)) or "0",
                used=_decimal(raw["used"].get(currency)) or "0",
                total=_decimal(total) or "0",
            )
        return lines

    # --- orders ---------------------------------------------------------------------------
    def client_order_id(self, command_id: str) -> str:
        return derive_client_order_id(command_id, self.capabilities.client_order_id)

    async def place_order(self, order: OrderRequest) -> VenueOrder:
        """Place ``order`` once. After a timeout or another unknown outcome the order is looked
        up by its client id before anything is sent again, so a retry never places a second
        order; an error whose outcome stays unknown when the budget ends says so
        (``outcome_unknown``)."""
        await self._ensure_markets()
        client_id = self.client_order_id(order.command_id)
        params: dict[str, Any] = {self.capabilities.client_order_id.param: client_id}
        if order.post_only:
            params["postOnly"] = True
        if order.reduce_only:
            params["reduceOnly"] = True
        price = float(order.price) if order.price is not None else None

        async def create() -> VenueOrder:
            raw = await self.exchange.create_order(
                order.symbol, order.type, order.side, float(order.amount), price, dict(params)
            )
            return replace(self._order(raw), client_order_id=client_id)

        backoff = self._backoff()
        must_look_up = False
        while True:
            try:
                if must_look_up:
                    found = await self.find_order(client_id, order.symbol)
                    if found is not None:
                        return found
                    must_look_up = False
                return await self._once(create)
            except VenueError as error:
                if not error.retry_safe:
                    raise
                must_look_up = must_look_up or error.outcome_unknown
                if not await backoff.wait():
                    error.outcome_unknown = must_look_up
                    raise

    async def find_order(self, client_order_id: str, symbol: str) -> VenueOrder | None:
        """The order with this client id, by the venue's lookups in the capability table; None
        when none of them finds it. Errors propagate: "could not ask" is not "not there"."""
        await self._ensure_markets()
        for lookup in self.capabilities.client_order_id.lookup:
            found = await self._look_up(lookup, client_order_id, symbol)
            if found is not None:
                return found
        return None

    async def _look_up(self, lookup: Lookup, client_id: str, symbol: str) -> VenueOrder | None:
        params = _substitute(lookup.params, client_id)
        method = getattr(self.exchange, lookup.method)
        if lookup.method == "fetch_order":
            try:
                raw = await self._once(lambda: method(None, symbol, params))
            except VenueError as error:
                if error.code == "venue.order_not_found":
                    return None
                raise
            candidates = [raw]
        else:
            candidates = await self._once(lambda: method(symbol, None, None, params))
        path = self.capabilities.client_order_id.client_id_path
        for raw in candidates:
            if client_id_of(raw, path) == client_id:
                return self._order(raw)
        return None

    async def fetch_order(self, order_id: str, symbol: str) -> VenueOrder:
        await self._ensure_markets()
        params = dict(self.capabilities.fetch_order_params)
        raw = await self._retried(lambda: self.exchange.fetch_order(order_id, symbol, params))
        return self._order(raw)

    async def cancel_order(self, order_id: str, symbol: str) -> VenueOrder:
        await self._ensure_markets()
        raw = await self._retried(lambda: self.exchange.cancel_order(order_id, symbol))
        return self._order(raw, unset="cancelled")

    async def fetch_open_orders(self, symbol: str | None = None) -> list[VenueOrder]:
        await self._ensure_markets()
        raws = await self._retried(lambda: self.exchange.fetch_open_orders(symbol))
        return [self._order(raw) for raw in raws]

    async def cancel_all_orders(self, symbol: str) -> list[str]:
        """Cancel every open order on ``symbol``; the ids cancelled. Where ccxt has no
        cancel-all for the venue, each open order is cancelled in turn."""
        await self._ensure_markets()
        if self.exchange.has.get("cancelAllOrders"):
            open_ids = [o.id for o in await self.fetch_open_orders(symbol)]
            await self._retried(lambda: self.exchange.cancel_all_orders(symbol))
            return open_ids
        cancelled = []
        for order in await self.fetch_open_orders(symbol):
            await self.cancel_order(order.id, symbol)
            cancelled.append(order.id)
        return cancelled


def _substitute(value: Any, client_id: str) -> Any:
    if isinstance(value, dict):
        return {k: _substitute(v, client_id) for k, v in value.items()}
    if isinstance(value, str):
        return value.replace("{client_order_id}", client_id)
    return value
