"""What every fake venue shares: an aiohttp server on 127.0.0.1, a book of orders and balances,
a record of requests (with the peer address each came from) and failure injection.

A fake venue speaks one real venue's HTTP API closely enough that the real, unchanged ccxt client
works against it once ccxt's ``urls['api']`` point at ``fake.base_url``. Each subclass declares
its routes (``routes()``), how the venue authenticates and how it shapes errors; orders, fills
and balances live here, in one venue-neutral form.

Fills are simple and deterministic: a market order fills at once at the symbol's ``price``; a
limit order rests until the test calls ``fill()``. Failure injection (``inject``) answers the
next matching requests as the venue does when it rate-limits (429), fails (5xx) or finds the
funds short, or accepts an order and then answers too late (``timeout``: the order is stored and
the response waits until the client has given up).
"""

from __future__ import annotations

import asyncio
import itertools
import json
import ssl
import threading
import time
from collections.abc import Awaitable, Callable, Iterable, Iterator
from contextlib import contextmanager, suppress
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any, Literal
from urllib.parse import parse_qsl

from aiohttp import web

Failure = Literal["insufficient_funds", "rate_limit", "server_error", "timeout"]
Tag = Literal["markets", "balance", "place", "fetch", "cancel", "open", "account", "time"]
Handler = Callable[["Call"], Awaitable[web.StreamResponse]]


@dataclass
class FakeOrder:
    order_id: str
    client_order_id: str
    symbol: str
    side: Literal["buy", "sell"]
    type: Literal["market", "limit"]
    amount: Decimal
    price: Decimal | None
    post_only: bool = False
    reduce_only: bool = False
    filled: Decimal = Decimal(0)
    average: Decimal | None = None
    status: Literal["open", "filled", "canceled"] = "open"
    created_ms: int = 0
    updated_ms: int = 0

    @property
    def remaining(self) -> Decimal:
        return self.amount - self.filled


@dataclass(frozen=True)
class RequestRecord:
    method: str
    path: str
    tag: str
    peer: str | None
    api_key: str | None
    at: float


@dataclass
class _Injection:
    failure: Failure
    times: int
    only: str | None


@dataclass
class Call:
    """One request, with its parameters from the query and the body (form or JSON)."""

    request: web.Request
    params: dict[str, Any]
    body_text: str
    tag: str
    failure: Failure | None = None


@dataclass(frozen=True)
class Route:
    method: str
    path: str
    handler: Handler
    tag: Tag
    private: bool = True


@dataclass
class Market:
    """A fake market: the venue-native id, ccxt-facing base and quote, a price to fill market
    orders at, the venue-native instrument description served to ccxt's fetch_markets, and the
    size of one unit of the venue's raw quantity (BitMEX counts spot in satoshis)."""

    native_id: str
    base: str
    quote: str
    price: Decimal
    raw: dict[str, Any] = field(default_factory=dict)
    contract: bool = False
    qty_unit: Decimal = Decimal(1)


class FakeVenue:
    """Subclasses set ``name`` and implement ``routes``, ``authenticate``, ``auth_error``,
    ``rate_limit_response``, ``server_error_response`` and ``insufficient_funds_response``."""

    name = "fake"

    def __init__(
        self,
        *,
        api_key: str = "test-key",
        secret: str = "test-secret",
        balances: dict[str, Decimal] | None = None,
        ssl_context: ssl.SSLContext | None = None,
        hang_s: float = 30.0,
    ) -> None:
        self.api_key = api_key
        self.secret = secret
        self.balances: dict[str, Decimal] = dict(
            balances or {"USDT": Decimal(100_000), "BTC": Decimal(2), "ETH": Decimal(20)}
        )
        self.orders: dict[str, FakeOrder] = {}
        self.requests: list[RequestRecord] = []
        self.markets: dict[str, Market] = {m.native_id: m for m in self.default_markets()}
        self._ssl = ssl_context
        self._hang_s = hang_s
        self._injections: list[_Injection] = []
        self._ids = itertools.count(1)
        self._released = asyncio.Event()
        self._runner: web.AppRunner | None = None
        self.port = 0

    # --- what a subclass provides ---------------------------------------------------------
    def default_markets(self) -> Iterable[Market]:
        return ()

    def routes(self) -> list[Route]:
        raise NotImplementedError

    def authenticate(self, call: Call) -> str | None:
        """The API key the request presents, or raise ``Unauthorized`` with the venue's body."""
        raise NotImplementedError

    def auth_error(self, reason: str) -> web.Response:
        raise NotImplementedError

    def rate_limit_response(self) -> web.Response:
        return web.json_response({"error": "too many requests"}, status=429)

    def server_error_response(self) -> web.Response:
        return web.Response(status=503, text="Service Unavailable")

    def insufficient_funds_response(self) -> web.Response:
        raise NotImplementedError

    # --- lifecycle --------------------------------------------------------------------------
    @property
    def base_url(self) -> str:
        scheme = "https" if self._ssl is not None else "http"
        return f"{scheme}://127.0.0.1:{self.port}"

    async def start(self) -> FakeVenue:
        app = web.Application()
        for route in self.routes():
            app.router.add_route(route.method, route.path, self._wrap(route))
        self._runner = web.AppRunner(app, access_log=None, shutdown_timeout=1.0)
        await self._runner.setup()
        site = web.TCPSite(self._runner, "127.0.0.1", 0, ssl_context=self._ssl)
        await site.start()
        server = site._server
        assert server is not None
        self.port = int(server.sockets[0].getsockname()[1])  # type: ignore[attr-defined]
        return self

    async def stop(self) -> None:
        self._released.set()
        if self._runner is not None:
            await self._runner.cleanup()
            self._runner = None

    @contextmanager
    def serving_in_thread(self, timeout: float = 10.0) -> Iterator[FakeVenue]:
        """Serve from a thread with its own event loop, for sync tests and other processes'
        clients; ``orders`` and ``requests`` are read from the calling thread."""
        loop = asyncio.new_event_loop()
        started = threading.Event()

        def serve() -> None:
            asyncio.set_event_loop(loop)
            loop.run_until_complete(self.start())
            started.set()
            loop.run_forever()

        thread = threading.Thread(target=serve, name=f"fake-{self.name}", daemon=True)
        thread.start()
        if not started.wait(timeout):
            raise RuntimeError(f"fake {self.name} did not start within {timeout}s")
        try:
            yield self
        finally:
            asyncio.run_coroutine_threadsafe(self.stop(), loop).result(timeout)
            loop.call_soon_threadsafe(loop.stop)
            thread.join(timeout)
            loop.close()

    async def __aenter__(self) -> FakeVenue:
        return await self.start()

    async def __aexit__(self, *exc: object) -> None:
        await self.stop()

    # --- test controls ----------------------------------------------------------------------
    def inject(self, failure: Failure, *, times: int = 1, only: Tag | None = None) -> None:
        """Answer the next ``times`` requests (of endpoint ``only``, or any) with ``failure``."""
        self._injections.append(_Injection(failure, times, only))

    def fill(self, order_id: str, amount: Decimal | None = None) -> FakeOrder:
        order = self.orders[order_id]
        self._execute(order, order.remaining if amount is None else amount, order.price)
        return order

    def order_by_client_id(self, client_order_id: str) -> FakeOrder | None:
        return next((o for o in self.orders.values() if o.client_order_id == client_order_id), None)

    def peers(self, tag: str | None = None) -> set[str | None]:
        return {r.peer for r in self.requests if tag is None or r.tag == tag}

    # --- the book ---------------------------------------------------------------------------
    def now_ms(self) -> int:
        return int(time.time() * 1000)

    def next_id(self) -> str:
        return str(next(self._ids))

    def market(self, native_id: str) -> Market | None:
        return self.markets.get(native_id)

    def place(
        self,
        *,
        symbol: str,
        side: Literal["buy", "sell"],
        type: Literal["market", "limit"],
        amount: Decimal,
        price: Decimal | None,
        client_order_id: str,
        post_only: bool = False,
        reduce_only: bool = False,
        order_id: str | None = None,
    ) -> FakeOrder | None:
        """Book an order; None when the funds are short (the caller answers as the venue does)."""
        market = self.markets[symbol]
        cost_price = price if price is not None else market.price
        if not market.contract:
            need, currency = (
                (amount * cost_price, market.quote) if side == "buy" else (amount, market.base)
            )
            if need > self.balances.get(currency, Decimal(0)):
                return None
        now = self.now_ms()
        order = FakeOrder(
            order_id=order_id or self.next_id(),
            client_order_id=client_order_id or f"fake-{len(self.orders) + 1}",
            symbol=symbol,
            side=side,
            type=type,
            amount=amount,
            price=price,
            post_only=post_only,
            reduce_only=reduce_only,
            created_ms=now,
            updated_ms=now,
        )
        self.orders[order.order_id] = order
        if type == "market":
            self._execute(order, amount, market.price)
        return order

    def cancel(self, order: FakeOrder) -> None:
        order.status = "canceled"
        order.updated_ms = self.now_ms()

    def open_orders(self, symbol: str | None = None) -> list[FakeOrder]:
        return [
            o
            for o in self.orders.values()
            if o.status == "open" and (symbol is None or o.symbol == symbol)
        ]

    def _execute(self, order: FakeOrder, amount: Decimal, price: Decimal | None) -> None:
        market = self.markets[order.symbol]
        at = price if price is not None else market.price
        order.filled += amount
        order.average = at
        order.status = "filled" if order.remaining <= 0 else "open"
        order.updated_ms = self.now_ms()
        if market.contract:
            return
        sign = 1 if order.side == "buy" else -1
        self.balances[market.base] = self.balances.get(market.base, Decimal(0)) + sign * amount
        self.balances[market.quote] = (
            self.balances.get(market.quote, Decimal(0)) - sign * amount * at
        )

    # --- plumbing ---------------------------------------------------------------------------
    def _take_injection(self, tag: str) -> Failure | None:
        for injection in self._injections:
            if injection.only is None or injection.only == tag:
                injection.times -= 1
                if injection.times <= 0:
                    self._injections.remove(injection)
                return injection.failure
        return None

    def _wrap(self, route: Route) -> Callable[[web.Request], Awaitable[web.StreamResponse]]:
        async def handle(request: web.Request) -> web.StreamResponse:
            body_text = await request.text()
            params: dict[str, Any] = dict(request.query)
            if body_text:
                if body_text.lstrip().startswith(("{", "[")):
                    decoded = json.loads(body_text)
                    if isinstance(decoded, dict):
                        params.update(decoded)
                else:
                    params.update(parse_qsl(body_text, keep_blank_values=True))
            call = Call(request, params, body_text, route.tag)
            api_key: str | None = None
            if route.private:
                try:
                    api_key = self.authenticate(call)
                except Unauthorized as refused:
                    self._record(request, route.tag, refused.api_key)
                    return self.auth_error(refused.reason)
            self._record(request, route.tag, api_key)
            call.failure = self._take_injection(route.tag)
            if call.failure == "rate_limit":
                return self.rate_limit_response()
            if call.failure == "server_error":
                return self.server_error_response()
            if call.failure == "insufficient_funds":
                return self.insufficient_funds_response()
            response = await route.handler(call)
            if call.failure == "timeout":
                with suppress(TimeoutError):
                    await asyncio.wait_for(self._released.wait(), self._hang_s)
            return response

        return handle

    def _record(self, request: web.Request, tag: str, api_key: str | None) -> None:
        self.requests.append(
            RequestRecord(request.method, request.path, tag, request.remote, api_key, time.time())
        )


class Unauthorized(Exception):
    def __init__(self, reason: str, api_key: str | None = None) -> None:
        super().__init__(reason)
        self.reason = reason
        self.api_key = api_key


def dec(value: Any) -> Decimal:
    return Decimal(str(value))


def fmt(value: Decimal | None) -> str:
    if value is None:
        return "0"
    return format(value.normalize(), "f")
