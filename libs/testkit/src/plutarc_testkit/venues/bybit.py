"""A fake Bybit v5 REST API for a unified trading account: instruments-info (spot, linear),
user/query-api and account/info (which ccxt asks to learn the account type), wallet-balance,
order create/cancel/cancel-all, order/realtime and order/history. Private requests carry
``X-BAPI-API-KEY`` and ``X-BAPI-SIGN``; every answer has Bybit's ``retCode``/``retMsg`` envelope,
errors included (HTTP 200, as Bybit answers them)."""

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

_STATUS = {"open": "New", "filled": "Filled", "canceled": "Cancelled"}


def _spot(native: str, base: str, quote: str, tick: str, step: str) -> dict[str, Any]:
    return {
        "symbol": native,
        "baseCoin": base,
        "quoteCoin": quote,
        "innovation": "0",
        "status": "Trading",
        "marginTrading": "utaOnly",
        "stTag": "0",
        "lotSizeFilter": {
            "basePrecision": step,
            "quotePrecision": "0.0000001",
            "minOrderQty": step,
            "maxOrderQty": "1000",
            "minOrderAmt": "5",
            "maxOrderAmt": "4000000",
        },
        "priceFilter": {"tickSize": tick},
        "riskParameters": {"priceLimitRatioX": "0.05", "priceLimitRatioY": "0.05"},
    }


def _linear(native: str, base: str, quote: str, tick: str, step: str) -> dict[str, Any]:
    return {
        "symbol": native,
        "contractType": "LinearPerpetual",
        "status": "Trading",
        "baseCoin": base,
        "quoteCoin": quote,
        "launchTime": "1585526400000",
        "deliveryTime": "0",
        "deliveryFeeRate": "",
        "priceScale": "2",
        "leverageFilter": {"minLeverage": "1", "maxLeverage": "100.00", "leverageStep": "0.01"},
        "priceFilter": {"minPrice": tick, "maxPrice": "1999999.80", "tickSize": tick},
        "lotSizeFilter": {
            "maxOrderQty": "1190.000",
            "minOrderQty": step,
            "qtyStep": step,
            "postOnlyMaxOrderQty": "1190.000",
            "maxMktOrderQty": "500.000",
            "minNotionalValue": "5",
        },
        "unifiedMarginTrade": True,
        "fundingInterval": 480,
        "settleCoin": quote,
        "copyTrading": "both",
        "upperFundingRate": "0.00375",
        "lowerFundingRate": "-0.00375",
    }


class FakeBybit(FakeVenue):
    name = "bybit"

    def default_markets(self) -> Iterable[Market]:
        return (
            Market(
                "BTCUSDT",
                "BTC",
                "USDT",
                Decimal(60000),
                _spot("BTCUSDT", "BTC", "USDT", "0.01", "0.000001"),
            ),
            Market(
                "ETHUSDT",
                "ETH",
                "USDT",
                Decimal(3000),
                _spot("ETHUSDT", "ETH", "USDT", "0.01", "0.00001"),
            ),
            Market(
                "BTCUSDT-LINEAR",
                "BTC",
                "USDT",
                Decimal(60000),
                _linear("BTCUSDT", "BTC", "USDT", "0.10", "0.001"),
                contract=True,
            ),
        )

    def routes(self) -> list[Route]:
        return [
            Route(
                "GET", "/v5/market/instruments-info", self._instruments, "markets", private=False
            ),
            Route("GET", "/v5/market/time", self._time, "time", private=False),
            Route("GET", "/v5/asset/coin/query-info", self._coins, "markets"),
            Route("GET", "/v5/user/query-api", self._query_api, "account"),
            Route("GET", "/v5/account/info", self._account_info, "account"),
            Route("GET", "/v5/account/wallet-balance", self._wallet, "balance"),
            Route("POST", "/v5/order/create", self._create, "place"),
            Route("POST", "/v5/order/cancel", self._cancel, "cancel"),
            Route("POST", "/v5/order/cancel-all", self._cancel_all, "cancel"),
            Route("GET", "/v5/order/realtime", self._realtime, "open"),
            Route("GET", "/v5/order/history", self._history, "fetch"),
        ]

    def _ok(self, result: Any) -> web.Response:
        return web.json_response(
            {
                "retCode": 0,
                "retMsg": "OK",
                "result": result,
                "retExtInfo": {},
                "time": self.now_ms(),
            }
        )

    def _error(self, code: int, msg: str, status: int = 200) -> web.Response:
        return web.json_response(
            {"retCode": code, "retMsg": msg, "result": {}, "retExtInfo": {}, "time": self.now_ms()},
            status=status,
        )

    def authenticate(self, call: Call) -> str | None:
        key = call.request.headers.get("X-BAPI-API-KEY")
        if key != self.api_key:
            raise Unauthorized("key", key)
        if not call.request.headers.get("X-BAPI-SIGN") or not call.request.headers.get(
            "X-BAPI-TIMESTAMP"
        ):
            raise Unauthorized("signature", key)
        return key

    def auth_error(self, reason: str) -> web.Response:
        if reason == "signature":
            return self._error(10004, "error sign! origin_string[...]", 401)
        return self._error(10003, "API key is invalid.", 401)

    def rate_limit_response(self) -> web.Response:
        return self._error(10006, "Too many visits!")

    def server_error_response(self) -> web.Response:
        return web.Response(status=502, text="<html><body>502 Bad Gateway</body></html>")

    def insufficient_funds_response(self) -> web.Response:
        return self._error(170131, "Insufficient balance.")

    def _native(self, category: str, symbol: str) -> str:
        return f"{symbol}-LINEAR" if category == "linear" else symbol

    def _category(self, order: FakeOrder) -> str:
        return "linear" if self.markets[order.symbol].contract else "spot"

    def render(self, order: FakeOrder) -> dict[str, Any]:
        average = order.average or Decimal(0)
        return {
            "orderId": order.order_id,
            "orderLinkId": order.client_order_id,
            "blockTradeId": "",
            "symbol": self.markets[order.symbol].raw["symbol"],
            "price": fmt(order.price or Decimal(0)),
            "qty": fmt(order.amount),
            "side": order.side.capitalize(),
            "isLeverage": "",
            "positionIdx": 0,
            "orderStatus": _STATUS[order.status],
            "cancelType": "UNKNOWN",
            "rejectReason": "EC_NoError",
            "avgPrice": fmt(average) if order.filled else "",
            "leavesQty": fmt(order.remaining if order.status == "open" else Decimal(0)),
            "leavesValue": "0",
            "cumExecQty": fmt(order.filled),
            "cumExecValue": fmt(order.filled * average),
            "cumExecFee": "0",
            "timeInForce": "PostOnly"
            if order.post_only
            else ("IOC" if order.type == "market" else "GTC"),
            "orderType": order.type.capitalize(),
            "stopOrderType": "",
            "orderIv": "",
            "triggerPrice": "",
            "takeProfit": "",
            "stopLoss": "",
            "tpTriggerBy": "",
            "slTriggerBy": "",
            "triggerDirection": 0,
            "triggerBy": "",
            "lastPriceOnCreated": "",
            "reduceOnly": order.reduce_only,
            "closeOnTrigger": False,
            "smpType": "None",
            "smpGroup": 0,
            "smpOrderId": "",
            "tpslMode": "",
            "tpLimitPrice": "",
            "slLimitPrice": "",
            "placeType": "",
            "createdTime": str(order.created_ms),
            "updatedTime": str(order.updated_ms),
        }

    async def _instruments(self, call: Call) -> web.Response:
        category = call.params.get("category", "spot")
        listed = [
            m.raw
            for m in self.markets.values()
            if m.contract == (category == "linear") and category in ("spot", "linear")
        ]
        return self._ok({"category": category, "list": listed, "nextPageCursor": ""})

    async def _time(self, call: Call) -> web.Response:
        now = self.now_ms()
        return self._ok({"timeSecond": str(now // 1000), "timeNano": str(now * 1_000_000)})

    async def _coins(self, call: Call) -> web.Response:
        chain = {
            "confirmation": "1",
            "withdrawFee": "0",
            "depositMin": "0",
            "withdrawMin": "0",
            "chainDeposit": "1",
            "chainWithdraw": "1",
            "minAccuracy": "8",
            "withdrawPercentageFee": "0",
        }
        rows = [
            {
                "name": c,
                "coin": c,
                "remainAmount": "1000000",
                "chains": [chain | {"chain": c, "chainType": c}],
            }
            for c in sorted(
                {m.base for m in self.markets.values()} | {m.quote for m in self.markets.values()}
            )
        ]
        return self._ok({"rows": rows})

    async def _query_api(self, call: Call) -> web.Response:
        return self._ok(
            {
                "id": "1",
                "note": "plutarc fake",
                "apiKey": self.api_key,
                "readOnly": 0,
                "secret": "",
                "permissions": {"Spot": ["SpotTrade"], "ContractTrade": ["Order", "Position"]},
                "ips": ["*"],
                "type": 1,
                "deadlineDay": 90,
                "expiredAt": "",
                "createdAt": "",
                "unified": 0,
                "uta": 1,
                "userID": 1,
                "inviterID": 0,
                "vipLevel": "No VIP",
                "mktMakerLevel": "0",
                "affiliateID": 0,
            }
        )

    async def _account_info(self, call: Call) -> web.Response:
        return self._ok(
            {
                "unifiedMarginStatus": 5,
                "marginMode": "REGULAR_MARGIN",
                "isMasterTrader": False,
                "spotHedgingStatus": "OFF",
                "updatedTime": str(self.now_ms()),
                "dcpStatus": "OFF",
                "timeWindow": 10,
                "smpGroup": 0,
            }
        )

    async def _wallet(self, call: Call) -> web.Response:
        coins = [
            {
                "coin": coin,
                "equity": fmt(amount),
                "walletBalance": fmt(amount),
                "locked": "0",
                "availableToWithdraw": fmt(amount),
                "totalOrderIM": "0",
                "totalPositionIM": "0",
                "unrealisedPnl": "0",
                "borrowAmount": "",
                "accruedInterest": "",
                "usdValue": "",
            }
            for coin, amount in self.balances.items()
        ]
        return self._ok({"list": [{"accountType": "UNIFIED", "totalEquity": "", "coin": coins}]})

    async def _create(self, call: Call) -> web.Response:
        p = call.params
        category = p.get("category", "spot")
        native = self._native(category, p.get("symbol", ""))
        if self.market(native) is None:
            return self._error(10001, "params error: symbol invalid")
        link_id = p.get("orderLinkId", "")
        if link_id and self.order_by_client_id(link_id) is not None:
            return self._error(110072, "OrderLinkedID is duplicate")
        order = self.place(
            symbol=native,
            side="buy" if p.get("side") == "Buy" else "sell",
            type="market" if p.get("orderType") == "Market" else "limit",
            amount=dec(p["qty"]),
            price=dec(p["price"]) if p.get("price") else None,
            client_order_id=link_id,
            post_only=p.get("timeInForce") == "PostOnly",
            reduce_only=bool(p.get("reduceOnly")),
        )
        if order is None:
            return self.insufficient_funds_response()
        return self._ok({"orderId": order.order_id, "orderLinkId": order.client_order_id})

    def _find(self, p: dict[str, Any]) -> FakeOrder | None:
        if p.get("orderId"):
            return self.orders.get(str(p["orderId"]))
        if p.get("orderLinkId"):
            return self.order_by_client_id(str(p["orderLinkId"]))
        return None

    async def _cancel(self, call: Call) -> web.Response:
        order = self._find(call.params)
        if order is None or order.status != "open":
            return self._error(110001, "order not exists or too late to cancel")
        self.cancel(order)
        return self._ok({"orderId": order.order_id, "orderLinkId": order.client_order_id})

    async def _cancel_all(self, call: Call) -> web.Response:
        p = call.params
        native = self._native(p.get("category", "spot"), p.get("symbol", ""))
        orders = self.open_orders(native)
        for order in orders:
            self.cancel(order)
        listed = [{"orderId": o.order_id, "orderLinkId": o.client_order_id} for o in orders]
        return self._ok({"list": listed, "success": "1"})

    def _listing(self, call: Call, orders: list[FakeOrder]) -> web.Response:
        p = call.params
        category = p.get("category", "spot")
        if p.get("symbol"):
            native = self._native(category, p["symbol"])
            orders = [o for o in orders if o.symbol == native]
        else:
            orders = [o for o in orders if self._category(o) == category]
        if p.get("orderId"):
            orders = [o for o in orders if o.order_id == p["orderId"]]
        if p.get("orderLinkId"):
            orders = [o for o in orders if o.client_order_id == p["orderLinkId"]]
        listed = [self.render(o) for o in orders]
        return self._ok({"list": listed, "nextPageCursor": "", "category": category})

    async def _realtime(self, call: Call) -> web.Response:
        chosen = self.open_orders()
        if call.params.get("orderId") or call.params.get("orderLinkId"):
            chosen = list(self.orders.values())
        return self._listing(call, chosen)

    async def _history(self, call: Call) -> web.Response:
        return self._listing(call, [o for o in self.orders.values() if o.status != "open"])
