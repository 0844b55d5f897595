"""A fake OKX v5 REST API: public instruments (SPOT, SWAP), asset currencies, account balance,
trade order (place, details), cancel-order, orders-pending and orders-history. Private requests
carry ``OK-ACCESS-KEY``, ``OK-ACCESS-SIGN``, ``OK-ACCESS-TIMESTAMP`` and ``OK-ACCESS-PASSPHRASE``.
Answers have OKX's ``{"code", "msg", "data"}`` envelope; an order the matching engine refuses
answers ``code: "1"`` with the reason in ``data[0].sCode``/``sMsg``, as OKX does. Demo trading
(``x-simulated-trading: 1``) is recorded per request in ``simulated``."""

from __future__ import annotations

import json
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

_STATE = {"open": "live", "filled": "filled", "canceled": "canceled"}


def _instrument(
    inst_id: str, base: str, quote: str, tick: str, lot: str, swap: bool
) -> dict[str, Any]:
    return {
        "alias": "",
        "auctionEndTime": "",
        "baseCcy": "" if swap else base,
        "category": "1",
        "ctMult": "1" if swap else "",
        "ctType": "linear" if swap else "",
        "ctVal": "0.01" if swap else "",
        "ctValCcy": base if swap else "",
        "expTime": "",
        "instFamily": f"{base}-{quote}" if swap else "",
        "instId": inst_id,
        "instType": "SWAP" if swap else "SPOT",
        "lever": "100" if swap else "10",
        "listTime": "1606468572000",
        "lotSz": lot,
        "maxIcebergSz": "9999999999",
        "maxLmtAmt": "20000000",
        "maxLmtSz": "9999999999",
        "maxMktAmt": "1000000",
        "maxMktSz": "1000000",
        "maxStopSz": "1000000",
        "maxTriggerSz": "9999999999",
        "maxTwapSz": "9999999999",
        "minSz": lot,
        "optType": "",
        "quoteCcy": "" if swap else quote,
        "ruleType": "normal",
        "settleCcy": quote if swap else "",
        "state": "live",
        "stk": "",
        "tickSz": tick,
        "uly": f"{base}-{quote}" if swap else "",
    }


class FakeOkx(FakeVenue):
    name = "okx"

    def __init__(self, *, passphrase: str = "test-passphrase", **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.passphrase = passphrase
        self.simulated: list[bool] = []

    def default_markets(self) -> Iterable[Market]:
        return (
            Market(
                "BTC-USDT",
                "BTC",
                "USDT",
                Decimal(60000),
                _instrument("BTC-USDT", "BTC", "USDT", "0.1", "0.00000001", False),
            ),
            Market(
                "ETH-USDT",
                "ETH",
                "USDT",
                Decimal(3000),
                _instrument("ETH-USDT", "ETH", "USDT", "0.01", "0.000001", False),
            ),
            Market(
                "BTC-USDT-SWAP",
                "BTC",
                "USDT",
                Decimal(60000),
                _instrument("BTC-USDT-SWAP", "BTC", "USDT", "0.1", "0.01", True),
                contract=True,
            ),
        )

    def routes(self) -> list[Route]:
        return [
            Route("GET", "/api/v5/public/instruments", self._instruments, "markets", private=False),
            Route("GET", "/api/v5/public/time", self._time, "time", private=False),
            Route("GET", "/api/v5/asset/currencies", self._currencies, "markets"),
            Route("GET", "/api/v5/account/balance", self._balance, "balance"),
            Route("POST", "/api/v5/trade/order", self._place, "place"),
            Route("POST", "/api/v5/trade/batch-orders", self._batch, "place"),
            Route("GET", "/api/v5/trade/order", self._details, "fetch"),
            Route("POST", "/api/v5/trade/cancel-order", self._cancel, "cancel"),
            Route("GET", "/api/v5/trade/orders-pending", self._pending, "open"),
            Route("GET", "/api/v5/trade/orders-history", self._history, "fetch"),
        ]

    def _ok(self, data: list[Any]) -> web.Response:
        return web.json_response({"code": "0", "msg": "", "data": data})

    def _error(self, code: str, msg: str, status: int = 200) -> web.Response:
        return web.json_response({"code": code, "msg": msg, "data": []}, status=status)

    def authenticate(self, call: Call) -> str | None:
        headers = call.request.headers
        self.simulated.append(headers.get("x-simulated-trading") == "1")
        key = headers.get("OK-ACCESS-KEY")
        if key != self.api_key:
            raise Unauthorized("key", key)
        if headers.get("OK-ACCESS-PASSPHRASE") != self.passphrase:
            raise Unauthorized("passphrase", key)
        if not headers.get("OK-ACCESS-SIGN") or not headers.get("OK-ACCESS-TIMESTAMP"):
            raise Unauthorized("signature", key)
        return key

    def auth_error(self, reason: str) -> web.Response:
        if reason == "passphrase":
            return self._error("50105", "Invalid OK-ACCESS-PASSPHRASE", 401)
        if reason == "signature":
            return self._error("50113", "Invalid Sign", 401)
        return self._error("50111", "Invalid OK-ACCESS-KEY", 401)

    def rate_limit_response(self) -> web.Response:
        return self._error("50011", "Too Many Requests", 429)

    def server_error_response(self) -> web.Response:
        return web.Response(
            status=503, text="<html><body>503 Service Temporarily Unavailable</body></html>"
        )

    def insufficient_funds_response(self) -> web.Response:
        return self._refused("51008", "Order failed. Your available USDT balance is insufficient.")

    def _refused(self, s_code: str, s_msg: str) -> web.Response:
        return self._placed([self._item(s_code, s_msg)])

    def render(self, order: FakeOrder) -> dict[str, Any]:
        market = self.markets[order.symbol]
        return {
            "accFillSz": fmt(order.filled),
            "algoClOrdId": "",
            "algoId": "",
            "avgPx": fmt(order.average) if order.filled else "",
            "cTime": str(order.created_ms),
            "cancelSource": "",
            "category": "normal",
            "ccy": "",
            "clOrdId": order.client_order_id,
            "fee": "0",
            "feeCcy": market.quote,
            "fillPx": fmt(order.average) if order.filled else "",
            "fillSz": fmt(order.filled) if order.filled else "0",
            "fillTime": str(order.updated_ms) if order.filled else "",
            "instId": order.symbol,
            "instType": "SWAP" if market.contract else "SPOT",
            "lever": "",
            "ordId": order.order_id,
            "ordType": "post_only" if order.post_only else order.type,
            "pnl": "0",
            "posSide": "net",
            "px": fmt(order.price) if order.price is not None else "",
            "rebate": "0",
            "rebateCcy": market.base,
            "reduceOnly": "true" if order.reduce_only else "false",
            "side": order.side,
            "slOrdPx": "",
            "slTriggerPx": "",
            "slTriggerPxType": "",
            "source": "",
            "state": _STATE[order.status],
            "sz": fmt(order.amount),
            "tag": "",
            "tdMode": "cross" if market.contract else "cash",
            "tgtCcy": "" if market.contract else "base_ccy",
            "tpOrdPx": "",
            "tpTriggerPx": "",
            "tpTriggerPxType": "",
            "tradeId": "",
            "uTime": str(order.updated_ms),
        }

    async def _instruments(self, call: Call) -> web.Response:
        inst_type = call.params.get("instType", "SPOT")
        return self._ok([m.raw for m in self.markets.values() if m.raw["instType"] == inst_type])

    async def _time(self, call: Call) -> web.Response:
        return self._ok([{"ts": str(self.now_ms())}])

    async def _currencies(self, call: Call) -> web.Response:
        coins = sorted(
            {m.base for m in self.markets.values()} | {m.quote for m in self.markets.values()}
        )
        return self._ok(
            [
                {
                    "ccy": c,
                    "chain": f"{c}-{c}",
                    "name": c,
                    "canDep": True,
                    "canWd": True,
                    "canInternal": True,
                    "minDep": "0",
                    "minWd": "0",
                    "maxWd": "1000000",
                    "wdTickSz": "8",
                    "minFee": "0",
                    "maxFee": "0",
                    "mainNet": True,
                    "needTag": False,
                    "minDepArrivalConfirm": "1",
                    "minWdUnlockConfirm": "1",
                    "logoLink": "",
                    "depQuotaFixed": "",
                    "usedDepQuotaFixed": "",
                }
                for c in coins
            ]
        )

    async def _balance(self, call: Call) -> web.Response:
        details = [
            {
                "ccy": c,
                "eq": fmt(v),
                "cashBal": fmt(v),
                "availBal": fmt(v),
                "availEq": fmt(v),
                "frozenBal": "0",
                "ordFrozen": "0",
                "uTime": str(self.now_ms()),
            }
            for c, v in self.balances.items()
        ]
        return self._ok([{"totalEq": "", "uTime": str(self.now_ms()), "details": details}])

    async def _place(self, call: Call) -> web.Response:
        return self._placed([self._place_one(call.params)])

    async def _batch(self, call: Call) -> web.Response:
        items = json.loads(call.body_text or "[]")
        return self._placed([self._place_one(p) for p in items])

    def _placed(self, items: list[dict[str, Any]]) -> web.Response:
        failed = sum(item["sCode"] != "0" for item in items)
        code, msg = (
            ("0", "")
            if not failed
            else (
                ("1", "All operations failed")
                if failed == len(items)
                else ("2", "Bulk operation partially succeeded")
            )
        )
        return web.json_response(
            {"code": code, "msg": msg, "data": items, "inTime": "", "outTime": ""}
        )

    def _place_one(self, p: dict[str, Any]) -> dict[str, Any]:
        client_id = p.get("clOrdId", "")
        if self.market(p.get("instId", "")) is None:
            return self._item("51001", "Instrument ID does not exist.", client_id)
        if client_id and self.order_by_client_id(client_id) is not None:
            return self._item("51016", "Duplicated clOrdId", client_id)
        ord_type = p.get("ordType", "limit")
        order = self.place(
            symbol=p["instId"],
            side="buy" if p.get("side") == "buy" else "sell",
            type="market" if ord_type == "market" else "limit",
            amount=dec(p["sz"]),
            price=dec(p["px"]) if p.get("px") else None,
            client_order_id=client_id,
            post_only=ord_type == "post_only",
            reduce_only=str(p.get("reduceOnly")).lower() == "true",
        )
        if order is None:
            return self._item(
                "51008", "Order failed. Your available USDT balance is insufficient.", client_id
            )
        return self._item("0", "Order placed", client_id, order.order_id)

    def _item(
        self, s_code: str, s_msg: str, client_id: str = "", order_id: str = ""
    ) -> dict[str, Any]:
        return {
            "clOrdId": client_id,
            "ordId": order_id,
            "sCode": s_code,
            "sMsg": s_msg,
            "tag": "",
            "ts": str(self.now_ms()),
        }

    def _find(self, p: dict[str, Any]) -> FakeOrder | None:
        if p.get("ordId"):
            return self.orders.get(str(p["ordId"]))
        if p.get("clOrdId"):
            return self.order_by_client_id(str(p["clOrdId"]))
        return None

    async def _details(self, call: Call) -> web.Response:
        order = self._find(call.params)
        if order is None:
            return self._error("51603", "Order does not exist")
        return self._ok([self.render(order)])

    async def _cancel(self, call: Call) -> web.Response:
        order = self._find(call.params)
        if order is None or order.status != "open":
            return self._refused(
                "51400",
                "Order cancellation failed as the order has been filled, canceled or does not exist.",
            )
        self.cancel(order)
        item = {
            "clOrdId": order.client_order_id,
            "ordId": order.order_id,
            "sCode": "0",
            "sMsg": "",
            "ts": str(self.now_ms()),
        }
        return self._ok([item])

    def _filtered(self, call: Call, orders: list[FakeOrder]) -> web.Response:
        inst_id = call.params.get("instId")
        inst_type = call.params.get("instType")
        chosen = [
            o
            for o in orders
            if (inst_id is None or o.symbol == inst_id)
            and (inst_type is None or self.markets[o.symbol].raw["instType"] == inst_type)
        ]
        return self._ok([self.render(o) for o in chosen])

    async def _pending(self, call: Call) -> web.Response:
        return self._filtered(call, self.open_orders())

    async def _history(self, call: Call) -> web.Response:
        return self._filtered(call, [o for o in self.orders.values() if o.status != "open"])
