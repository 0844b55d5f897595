"""A fake BitMEX REST API (``/api/v1``): instrument/active, wallet/assets, user/margin,
order (new, list with a JSON ``filter``, cancel) and order/all. Private requests carry
``api-key``, ``api-expires`` and ``api-signature``; errors have BitMEX's
``{"error": {"message", "name"}}`` shape. Quantities are BitMEX's raw integers: a spot order's
``orderQty`` counts the base currency's smallest unit (satoshis for XBT), a linear perpetual's
counts contracts of 1e-6 XBT, as on BitMEX."""

from __future__ import annotations

import json
import uuid
from collections.abc import Iterable
from datetime import UTC, datetime
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
)

_STATUS = {"open": "New", "filled": "Filled", "canceled": "Canceled"}
# BitMEX's currency ids, scales and the asset code ccxt maps them by.
_ASSETS = {"BTC": ("XBT", "XBt", 8), "USDT": ("USDT", "USDt", 6), "ETH": ("ETH", "Gwei", 9)}


def _iso(ms: int) -> str:
    return datetime.fromtimestamp(ms / 1000, UTC).strftime("%Y-%m-%dT%H:%M:%S.%f")[:-3] + "Z"


def _instrument(symbol: str, typ: str, lot: int, tick: str, **extra: Any) -> dict[str, Any]:
    return {
        "symbol": symbol,
        "rootSymbol": "XBT",
        "state": "Open",
        "typ": typ,
        "listing": "2023-01-01T00:00:00.000Z",
        "front": "2023-01-01T00:00:00.000Z",
        "expiry": None,
        "settle": None,
        "underlying": "XBT",
        "quoteCurrency": "USDT",
        "underlyingSymbol": "XBTT=",
        "lotSize": lot,
        "tickSize": float(tick),
        "multiplier": 1,
        "maxOrderQty": 10_000_000_000,
        "maxPrice": 10_000_000,
        "initMargin": 0.01,
        "maintMargin": 0.005,
        "makerFee": 0.0002 if typ == "FFWCSX" else 0.001,
        "takerFee": 0.00075 if typ == "FFWCSX" else 0.001,
        "isQuanto": False,
        "isInverse": False,
        "lastPrice": 60000,
        "markPrice": 60000,
        "timestamp": "2026-12-01T00:00:00.000Z",
    } | extra


class FakeBitmex(FakeVenue):
    name = "bitmex"

    def default_markets(self) -> Iterable[Market]:
        return (
            Market(
                "XBT_USDT",
                "BTC",
                "USDT",
                Decimal(60000),
                _instrument(
                    "XBT_USDT", "IFXXXP", 1000, "0.5", settlCurrency="", positionCurrency=""
                ),
                qty_unit=Decimal("1e-8"),
            ),
            Market(
                "XBTUSDT",
                "BTC",
                "USDT",
                Decimal(60000),
                _instrument(
                    "XBTUSDT",
                    "FFWCSX",
                    1000,
                    "0.5",
                    settlCurrency="USDt",
                    positionCurrency="XBT",
                    underlyingToPositionMultiplier=1_000_000,
                    underlyingToSettleMultiplier=None,
                    quoteToSettleMultiplier=1_000_000,
                ),
                contract=True,
            ),
        )

    def routes(self) -> list[Route]:
        return [
            Route("GET", "/api/v1/instrument/active", self._instruments, "markets", private=False),
            Route(
                "GET",
                "/api/v1/instrument/activeAndIndices",
                self._instruments,
                "markets",
                private=False,
            ),
            Route("GET", "/api/v1/wallet/assets", self._assets, "markets", private=False),
            Route("GET", "/api/v1/user/margin", self._margin, "balance"),
            Route("POST", "/api/v1/order", self._new, "place"),
            Route("GET", "/api/v1/order", self._list, "fetch"),
            Route("DELETE", "/api/v1/order", self._cancel, "cancel"),
            Route("DELETE", "/api/v1/order/all", self._cancel_all, "cancel"),
        ]

    def _error(self, status: int, message: str, name: str = "HTTPError") -> web.Response:
        return web.json_response({"error": {"message": message, "name": name}}, status=status)

    def authenticate(self, call: Call) -> str | None:
        headers = call.request.headers
        key = headers.get("api-key")
        if key is None:
            return None  # public requests may come unsigned
        if key != self.api_key:
            raise Unauthorized("key", key)
        if not headers.get("api-signature") or not headers.get("api-expires"):
            raise Unauthorized("signature", key)
        return key

    def auth_error(self, reason: str) -> web.Response:
        if reason == "signature":
            return self._error(401, "Signature not valid.")
        return self._error(401, "Invalid API Key.")

    def rate_limit_response(self) -> web.Response:
        return self._error(429, "Rate limit exceeded, retry in 1 seconds.", "RateLimitError")

    def server_error_response(self) -> web.Response:
        return self._error(503, "The system is currently overloaded. Please try again later.")

    def insufficient_funds_response(self) -> web.Response:
        return self._error(
            400,
            "Account has insufficient Available Balance, 61000000 USDt required",
            "ValidationError",
        )

    def render(self, order: FakeOrder, error: str | None = None) -> dict[str, Any]:
        unit = self.markets[order.symbol].qty_unit
        raw = {
            "orderID": order.order_id,
            "clOrdID": order.client_order_id,
            "clOrdLinkID": "",
            "account": 1,
            "symbol": order.symbol,
            "side": order.side.capitalize(),
            "orderQty": int(order.amount / unit),
            "price": float(order.price) if order.price is not None else None,
            "displayQty": None,
            "stopPx": None,
            "pegOffsetValue": None,
            "pegPriceType": "",
            "currency": "USDT",
            "settlCurrency": "USDt",
            "ordType": order.type.capitalize(),
            "timeInForce": "GoodTillCancel" if order.type == "limit" else "ImmediateOrCancel",
            "execInst": ",".join(
                name
                for name, on in (
                    ("ParticipateDoNotInitiate", order.post_only),
                    ("ReduceOnly", order.reduce_only),
                )
                if on
            ),
            "contingencyType": "",
            "ordStatus": _STATUS[order.status],
            "triggered": "",
            "workingIndicator": order.status == "open",
            "ordRejReason": "",
            "leavesQty": int(order.remaining / unit) if order.status == "open" else 0,
            "cumQty": int(order.filled / unit),
            "avgPx": float(order.average) if order.filled and order.average else None,
            "text": "",
            "transactTime": _iso(order.updated_ms),
            "timestamp": _iso(order.created_ms),
        }
        if error is not None:
            raw["error"] = error
        return raw

    async def _instruments(self, call: Call) -> web.Response:
        return web.json_response([m.raw for m in self.markets.values()])

    async def _assets(self, call: Call) -> web.Response:
        return web.json_response(
            [
                {
                    "asset": asset,
                    "currency": currency,
                    "majorCurrency": asset,
                    "name": asset,
                    "currencyType": "Crypto",
                    "scale": scale,
                    "enabled": True,
                    "isMarginCurrency": True,
                    "minDepositAmount": 10000,
                    "minWithdrawalAmount": 1000,
                    "maxWithdrawalAmount": 10**15,
                    "networks": [
                        {
                            "asset": asset.lower(),
                            "tokenAddress": "",
                            "depositEnabled": True,
                            "withdrawalEnabled": True,
                            "withdrawalFee": 0,
                            "minFee": 0,
                            "maxFee": 0,
                        }
                    ],
                }
                for asset, currency, scale in _ASSETS.values()
            ]
        )

    async def _margin(self, call: Call) -> web.Response:
        rows = []
        for code, amount in self.balances.items():
            if code not in _ASSETS:
                continue
            _asset, currency, scale = _ASSETS[code]
            raw = int(amount * 10**scale)
            rows.append(
                {
                    "account": 1,
                    "currency": currency,
                    "walletBalance": raw,
                    "marginBalance": raw,
                    "availableMargin": raw,
                    "withdrawableMargin": raw,
                    "timestamp": _iso(self.now_ms()),
                }
            )
        return web.json_response(rows)

    async def _new(self, call: Call) -> web.Response:
        p = call.params
        market = self.market(p.get("symbol", ""))
        if market is None:
            return self._error(400, "Invalid symbol", "ValidationError")
        client_id = p.get("clOrdID", "")
        if client_id and self.order_by_client_id(client_id) is not None:
            return self._error(400, "Duplicate clOrdID", "ValidationError")
        exec_inst = p.get("execInst", "")
        order = self.place(
            symbol=market.native_id,
            side="buy" if p.get("side") == "Buy" else "sell",
            type="market" if p.get("ordType") == "Market" else "limit",
            amount=dec(p["orderQty"]) * market.qty_unit,
            price=dec(p["price"]) if p.get("price") is not None else None,
            client_order_id=client_id,
            post_only="ParticipateDoNotInitiate" in exec_inst,
            reduce_only="ReduceOnly" in exec_inst,
            order_id=str(uuid.uuid4()),
        )
        if order is None:
            return self.insufficient_funds_response()
        return web.json_response(self.render(order))

    async def _list(self, call: Call) -> web.Response:
        p = call.params
        query = json.loads(p.get("filter") or "{}")
        chosen = [
            o
            for o in self.orders.values()
            if (not p.get("symbol") or o.symbol == p["symbol"])
            and (not query.get("open") or o.status == "open")
            and ("orderID" not in query or o.order_id == query["orderID"])
            and ("clOrdID" not in query or o.client_order_id == query["clOrdID"])
        ]
        return web.json_response([self.render(o) for o in chosen])

    async def _cancel(self, call: Call) -> web.Response:
        p = call.params
        wanted = p.get("orderID") or p.get("clOrdID")
        order = (
            self.orders.get(str(p.get("orderID")))
            if p.get("orderID")
            else self.order_by_client_id(str(p.get("clOrdID")))
        )
        if order is None:
            return self._error(404, f"Not Found: {wanted}", "NotFoundError")
        if order.status != "open":
            return web.json_response(
                [
                    self.render(
                        order,
                        f"Unable to cancel order due to existing state: {_STATUS[order.status]}",
                    )
                ]
            )
        self.cancel(order)
        return web.json_response([self.render(order)])

    async def _cancel_all(self, call: Call) -> web.Response:
        orders = self.open_orders(call.params.get("symbol"))
        for order in orders:
            self.cancel(order)
        return web.json_response([self.render(o) for o in orders])
