"""A fake Binance spot venue over real TLS on 127.0.0.1 that records who connected.

Just enough of Binance's HTTP API for ccxt's `load_markets` (one market, BTC/USDT), `fetch_balance`
and a limit `create_order`, and its trade stream for `watch_trades`. Every request and websocket
is recorded with the peer address the venue saw, which is what the egress tests are about.
"""

from __future__ import annotations

import asyncio
import json
import time
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import urlsplit, urlunsplit

import ccxt.pro
from aiohttp import WSMsgType, web
from plutarc_testkit.tls import TestCA

SYMBOL = {
    "symbol": "BTCUSDT",
    "status": "TRADING",
    "baseAsset": "BTC",
    "baseAssetPrecision": 8,
    "quoteAsset": "USDT",
    "quotePrecision": 8,
    "quoteAssetPrecision": 8,
    "orderTypes": ["LIMIT", "MARKET"],
    "isSpotTradingAllowed": True,
    "isMarginTradingAllowed": False,
    "permissions": ["SPOT"],
    "permissionSets": [["SPOT"]],
    "filters": [
        {
            "filterType": "PRICE_FILTER",
            "minPrice": "0.01",
            "maxPrice": "1000000",
            "tickSize": "0.01",
        },
        {"filterType": "LOT_SIZE", "minQty": "0.00001", "maxQty": "9000", "stepSize": "0.00001"},
    ],
}


@dataclass(frozen=True)
class Seen:
    peer: str | None
    method: str
    path: str
    api_key: str | None


@dataclass
class FakeBinance:
    ca: TestCA
    requests: list[Seen] = field(default_factory=list)
    orders: list[dict[str, str]] = field(default_factory=list)
    port: int = 0
    _runner: web.AppRunner | None = None

    @property
    def base(self) -> str:
        return f"127.0.0.1:{self.port}"

    async def start(self) -> None:
        app = web.Application(middlewares=[self._record])
        app.router.add_get("/api/v3/exchangeInfo", self._exchange_info)
        app.router.add_get("/api/v3/account", self._account)
        app.router.add_post("/api/v3/order", self._order)
        app.router.add_get("/ws/{stream}", self._stream)
        self._runner = web.AppRunner(app)
        await self._runner.setup()
        site = web.TCPSite(self._runner, "127.0.0.1", 0, ssl_context=self.ca.server_context())
        await site.start()
        self.port = int(self._runner.addresses[0][1])

    async def stop(self) -> None:
        runner, self._runner = self._runner, None
        if runner is not None:
            await runner.cleanup()

    @web.middleware
    async def _record(self, request: web.Request, handler: Any) -> web.StreamResponse:
        key = request.headers.get("X-MBX-APIKEY")
        self.requests.append(Seen(request.remote, request.method, request.path, key))
        return await handler(request)  # type: ignore[no-any-return]

    async def _exchange_info(self, request: web.Request) -> web.Response:
        now = int(time.time() * 1000)
        return web.json_response({"timezone": "UTC", "serverTime": now, "symbols": [SYMBOL]})

    async def _account(self, request: web.Request) -> web.Response:
        balances = [{"asset": "USDT", "free": "1000.0", "locked": "0.0"}]
        return web.json_response({"balances": balances, "updateTime": int(time.time() * 1000)})

    async def _order(self, request: web.Request) -> web.Response:
        form = {k: str(v) for k, v in (await request.post()).items()}
        self.orders.append(form)
        return web.json_response(
            {
                "symbol": form["symbol"],
                "orderId": len(self.orders),
                "clientOrderId": form.get("newClientOrderId", ""),
                "transactTime": int(time.time() * 1000),
                "price": form.get("price", "0"),
                "origQty": form["quantity"],
                "executedQty": "0",
                "status": "NEW",
                "timeInForce": form.get("timeInForce", "GTC"),
                "type": form["type"],
                "side": form["side"],
            }
        )

    async def _stream(self, request: web.Request) -> web.WebSocketResponse:
        ws = web.WebSocketResponse()
        await ws.prepare(request)
        async for message in ws:
            if message.type != WSMsgType.TEXT:
                continue
            command = json.loads(message.data)
            await ws.send_json({"result": None, "id": command.get("id")})
            now = int(time.time() * 1000)
            for stream in command.get("params", []):
                symbol = stream.split("@")[0].upper()
                trade = {"e": "trade", "E": now, "s": symbol, "t": 7, "p": "50000.00"}
                await ws.send_json({**trade, "q": "0.5", "T": now, "m": True, "M": True})
        return ws


def binance_client(
    venue: FakeBinance, *, api_key: str, secret: str, proxy: str | None = None
) -> ccxt.pro.binance:
    """ccxt's Binance client on its testnet URLs, pointed at the fake venue, trusting its test CA
    alone (verification stays on); ``proxy`` sends REST and websockets through an egress."""
    config: dict[str, Any] = {
        "apiKey": api_key,
        "secret": secret,
        "cafile": str(venue.ca.ca_file),
        "options": {"fetchMarkets": {"types": ["spot"]}, "fetchCurrencies": False},
    }
    if proxy is not None:
        config |= {"httpsProxy": proxy, "wssProxy": proxy}
    exchange = ccxt.pro.binance(config)
    exchange.set_sandbox_mode(True)
    exchange.urls["api"] = _rewrite(exchange.urls["api"], venue.base)
    return exchange


def _rewrite(urls: Any, base: str) -> Any:
    if isinstance(urls, dict):
        return {name: _rewrite(url, base) for name, url in urls.items()}
    parts = urlsplit(urls)
    return urlunsplit((parts.scheme, base, parts.path, parts.query, parts.fragment))


async def raw_request(host: str, port: int, request: str, *, source: str | None = None) -> bytes:
    """Send one raw HTTP request (from ``source``, when given) and return the status line."""
    local = (source, 0) if source else None
    async with asyncio.timeout(10):
        reader, writer = await asyncio.open_connection(host, port, local_addr=local)
        try:
            writer.write(request.encode())
            await writer.drain()
            return (await reader.readline()).strip()
        finally:
            writer.close()
