"""A fake Binance spot REST API (``/api/v3``): exchangeInfo, account, order (new, query, cancel),
openOrders (list, cancel all). Signed requests carry ``X-MBX-APIKEY`` and a ``signature``
parameter; errors have Binance's ``{"code": -NNNN, "msg": ...}`` shape and HTTP status."""

from __future__ import annotations

from collections.abc import Iterable
from decimal import Decimal
from typing import Any

from aiohttp import web

from plutarc_testkit.venues.base import (
    Call,
    FakeOrder,
    FakeVenue,
    Market,
    Route,
    Unauthorized,
    dec,
    fmt,
)

_STATUS = {"open": "NEW", "filled": "FILLED", "canceled": "CANCELED"}


def _symbol(native: str, base: str, quote: str, tick: str, step: str) -> dict[str, Any]:
    return {
        "symbol": native,
        "status": "TRADING",
        "baseAsset": base,
        "baseAssetPrecision": 8,
        "quoteAsset": quote,
        "quotePrecision": 8,
        "quoteAssetPrecision": 8,
        "baseCommissionPrecision": 8,
        "quoteCommissionPrecision": 8,
        "orderTypes": ["LIMIT", "LIMIT_MAKER", "MARKET", "STOP_LOSS_LIMIT", "TAKE_PROFIT_LIMIT"],
        "icebergAllowed": True,
        "ocoAllowed": True,
        "quoteOrderQtyMarketAllowed": True,
        "allowTrailingStop": True,
        "cancelReplaceAllowed": True,
        "isSpotTradingAllowed": True,
        "isMarginTradingAllowed": True,
        "filters": [
            {
                "filterType": "PRICE_FILTER",
                "minPrice": tick,
                "maxPrice": "1000000.00000000",
                "tickSize": tick,
            },
            {"filterType": "LOT_SIZE", "minQty": step, "maxQty": "9000.00000000", "stepSize": step},
            {
                "filterType": "NOTIONAL",
                "minNotional": "5.00000000",
                "applyMinToMarket": True,
                "maxNotional": "9000000.00000000",
                "applyMaxToMarket": False,
                "avgPriceMins": 5,
            },
        ],
        "permissions": [],
        "permissionSets": [["SPOT"]],
        "defaultSelfTradePreventionMode": "EXPIRE_MAKER",
        "allowedSelfTradePreventionModes": ["EXPIRE_TAKER", "EXPIRE_MAKER", "EXPIRE_BOTH"],
    }


def _error(status: int, code: int, msg: str) -> web.Response:
    return web.json_response({"code": code, "msg": msg}, status=status)


class FakeBinance(FakeVenue):
    name = "binance"

    def default_markets(self) -> Iterable[Market]:
        return (
            Market(
                "BTCUSDT",
                "BTC",
                "USDT",
                Decimal(60000),
                _symbol("BTCUSDT", "BTC", "USDT", "0.01000000", "0.00001000"),
            ),
            Market(
                "ETHUSDT",
                "ETH",
                "USDT",
                Decimal(3000),
                _symbol("ETHUSDT", "ETH", "USDT", "0.01000000", "0.00010000"),
            ),
        )

    def routes(self) -> list[Route]:
        return [
            Route("GET", "/api/v3/exchangeInfo", self._exchange_info, "markets", private=False),
            Route("GET", "/api/v3/time", self._time, "time", private=False),
            Route("GET", "/api/v3/account", self._account, "balance"),
            Route("POST", "/api/v3/order", self._new_order, "place"),
            Route("GET", "/api/v3/order", self._query_order, "fetch"),
            Route("DELETE", "/api/v3/order", self._cancel_order, "cancel"),
            Route("GET", "/api/v3/openOrders", self._open_orders, "open"),
            Route("DELETE", "/api/v3/openOrders", self._cancel_all, "cancel"),
        ]

    def authenticate(self, call: Call) -> str | None:
        key = call.request.headers.get("X-MBX-APIKEY")
        if key != self.api_key:
            raise Unauthorized("key", key)
        if not call.params.get("signature") or "timestamp" not in call.params:
            raise Unauthorized("signature", key)
        return key

    def auth_error(self, reason: str) -> web.Response:
        if reason == "signature":
            return _error(
                400,
                -1102,
                "Mandatory parameter 'signature' was not sent, was empty/null, or malformed.",
            )
        return _error(401, -2015, "Invalid API-key, IP, or permissions for action.")

    def rate_limit_response(self) -> web.Response:
        return _error(
            429, -1003, "Too many requests; current limit of IP is 6000 requests per minute."
        )

    def server_error_response(self) -> web.Response:
        return web.Response(status=503, text="<html><body>503 Service Unavailable</body></html>")

    def insufficient_funds_response(self) -> web.Response:
        return _error(400, -2010, "Account has insufficient balance for requested action.")

    def render(self, order: FakeOrder) -> dict[str, Any]:
        filled_quote = order.filled * (order.average or Decimal(0))
        kind = "LIMIT_MAKER" if order.post_only else order.type.upper()
        return {
            "symbol": order.symbol,
            "orderId": int(order.order_id),
            "orderListId": -1,
            "clientOrderId": order.client_order_id,
            "price": fmt(order.price or Decimal(0)),
            "origQty": fmt(order.amount),
            "executedQty": fmt(order.filled),
            "cummulativeQuoteQty": fmt(filled_quote),
            "status": _STATUS[order.status],
            "timeInForce": "GTC",
            "type": kind,
            "side": order.side.upper(),
            "stopPrice": "0.00000000",
            "icebergQty": "0.00000000",
            "time": order.created_ms,
            "updateTime": order.updated_ms,
            "isWorking": order.status == "open",
            "workingTime": order.created_ms,
            "origQuoteOrderQty": "0.00000000",
            "selfTradePreventionMode": "EXPIRE_MAKER",
        }

    async def _exchange_info(self, call: Call) -> web.Response:
        return web.json_response(
            {
                "timezone": "UTC",
                "serverTime": self.now_ms(),
                "rateLimits": [],
                "exchangeFilters": [],
                "symbols": [m.raw for m in self.markets.values()],
            }
        )

    async def _time(self, call: Call) -> web.Response:
        return web.json_response({"serverTime": self.now_ms()})

    async def _account(self, call: Call) -> web.Response:
        return web.json_response(
            {
                "makerCommission": 10,
                "takerCommission": 10,
                "canTrade": True,
                "canWithdraw": True,
                "canDeposit": True,
                "updateTime": self.now_ms(),
                "accountType": "SPOT",
                "balances": [
                    {"asset": a, "free": fmt(v), "locked": "0.00000000"}
                    for a, v in self.balances.items()
                ],
                "permissions": ["SPOT"],
            }
        )

    def _find(self, call: Call) -> FakeOrder | None:
        if "orderId" in call.params:
            return self.orders.get(str(call.params["orderId"]))
        client_id = call.params.get("origClientOrderId")
        return self.order_by_client_id(client_id) if client_id else None

    async def _new_order(self, call: Call) -> web.Response:
        p = call.params
        if self.market(p.get("symbol", "")) is None:
            return _error(400, -1121, "Invalid symbol.")
        kind = p.get("type", "")
        if kind not in ("LIMIT", "MARKET", "LIMIT_MAKER"):
            return _error(400, -1116, "Invalid orderType.")
        client_id = p.get("newClientOrderId", "")
        if client_id and any(
            o.client_order_id == client_id and o.status == "open" for o in self.orders.values()
        ):
            return _error(400, -2010, "Duplicate order sent.")
        price = dec(p["price"]) if "price" in p else None
        order = self.place(
            symbol=p["symbol"],
            side="buy" if p.get("side") == "BUY" else "sell",
            type="market" if kind == "MARKET" else "limit",
            amount=dec(p["quantity"]),
            price=price,
            client_order_id=client_id,
            post_only=kind == "LIMIT_MAKER",
        )
        if order is None:
            return self.insufficient_funds_response()
        body = self.render(order) | {"transactTime": order.created_ms, "fills": []}
        return web.json_response(body)

    async def _query_order(self, call: Call) -> web.Response:
        order = self._find(call)
        if order is None:
            return _error(400, -2013, "Order does not exist.")
        return web.json_response(self.render(order))

    async def _cancel_order(self, call: Call) -> web.Response:
        order = self._find(call)
        if order is None or order.status != "open":
            return _error(400, -2011, "Unknown order sent.")
        self.cancel(order)
        return web.json_response(self.render(order))

    async def _open_orders(self, call: Call) -> web.Response:
        return web.json_response(
            [self.render(o) for o in self.open_orders(call.params.get("symbol"))]
        )

    async def _cancel_all(self, call: Call) -> web.Response:
        orders = self.open_orders(call.params.get("symbol"))
        for order in orders:
            self.cancel(order)
        return web.json_response([self.render(o) for o in orders])
