"""A bot's orders over HTTP (identity, bots, the exchange gateway and the API on real Kafka):
place, read with fills, list by status and page, cancel one and all; positions, balances and PnL;
a risk refusal answers 422 with its code and the order id; who may trade (paper, live) and read;
bad input refused with stable codes, nothing placed; orders and fills on the live stream."""

from __future__ import annotations

from decimal import Decimal
from uuid import uuid4

import pytest

from e2e.exchange import Exchange
from e2e.sse import live
from e2e.test_support_over_http import org_with

from .helpers import created, paper_bot, problem

pytestmark = pytest.mark.kafka


async def test_orders_fills_and_positions_of_a_paper_bot(exchange: Exchange) -> None:
    platform = exchange.platform
    owner, _, _ = await platform.user("owner")
    trader, _, _ = await platform.user("trader")
    viewer, _, _ = await platform.user("viewer")
    ws = await org_with(platform, owner, **{trader: "trader", viewer: "viewer"})
    async with platform.client(trader) as http, platform.client(viewer) as reader:
        bot = await paper_bot(http, ws)
        base = f"/v1/workspaces/{ws}/bots/{bot}"
        async with live(reader, ws) as stream:
            bought = await created(
                http, f"{base}/orders", {"side": "buy", "type": "market", "quantity": "0.5"}
            )
            await stream.wait_for("exchange.order_filled")
            await stream.wait_for("exchange.position_changed")
        assert (bought["status"], bought["filled"], bought["remaining"]) == ("filled", "0.5", "0")
        assert (bought["mode"], bought["venue"], bought["symbol"]) == (
            "paper",
            "binance",
            "BTC/USDT",
        )
        [fill] = bought["fills"]
        assert (fill["quantity"], fill["price"], fill["side"]) == ("0.5", "100", "buy")
        assert bought["more_fills"] is False

        resting = await created(
            http,
            f"{base}/orders",
            {"side": "buy", "type": "limit", "quantity": "1", "price": "90", "post_only": True},
        )
        assert (resting["status"], resting["fills"]) == ("open", [])
        read = (await reader.get(f"{base}/orders/{resting['order_id']}")).json()
        assert read == resting

        positions = (await reader.get(f"{base}/positions")).json()
        assert positions["mode"] == "paper"
        [paper] = positions["items"]
        assert (paper["mode"], paper["symbol"]) == ("paper", "BTC/USDT")
        assert Decimal(paper["quantity"]) == Decimal("0.5")
        assert Decimal(paper["average_price"]) == Decimal(100)
        assert Decimal(paper["fees_paid"]) == Decimal("0.05")
        assert Decimal(paper["realised_pnl"]) == Decimal("-0.05")
        balances = {b["currency"]: b for b in paper["balances"]}
        assert Decimal(balances["BTC"]["free"]) == Decimal("0.5")
        assert Decimal(balances["USDT"]["free"]) == Decimal("9949.95")
        assert paper["entries_halted"] is None

        second = await created(
            http,
            f"{base}/orders",
            {"side": "sell", "type": "limit", "quantity": "0.5", "price": "150"},
        )
        opened = (await reader.get(f"{base}/orders", params={"status": "open"})).json()
        assert [o["order_id"] for o in opened["items"]] == [second["order_id"], resting["order_id"]]
        page1 = (await reader.get(f"{base}/orders", params={"limit": 2})).json()
        page2 = (
            await reader.get(f"{base}/orders", params={"limit": 2, "cursor": page1["next_cursor"]})
        ).json()
        assert [o["order_id"] for o in page1["items"] + page2["items"]] == [
            second["order_id"],
            resting["order_id"],
            bought["order_id"],
        ]
        assert page2["next_cursor"] is None
        fills = (await reader.get(f"{base}/fills")).json()
        assert [f["fill_id"] for f in fills["items"]] == [fill["fill_id"]]
        one = (await reader.get(f"{base}/fills", params={"order_id": resting["order_id"]})).json()
        assert one["items"] == []

        r = await http.delete(f"{base}/orders/{resting['order_id']}")
        assert r.status_code == 200, r.text
        assert (r.json()["status"], r.json()["remaining"]) == ("cancelled", "1")
        r = await http.delete(f"{base}/orders")
        assert r.status_code == 200, r.text
        assert r.json() == {"requested": [second["order_id"]], "cancelled": [second["order_id"]]}
        assert (await reader.get(f"{base}/orders", params={"status": "open"})).json()["items"] == []
        closed = (await reader.get(f"{base}/orders", params={"status": "cancelled"})).json()
        assert len(closed["items"]) == 2
        r = await http.delete(f"{base}/orders/{resting['order_id']}")
        assert problem(r)[0] in (404, 409), "an order that is no longer open"


async def test_a_refused_order_answers_its_code_and_id(exchange: Exchange) -> None:
    platform = exchange.platform
    owner, _, _ = await platform.user("owner")
    ws = await org_with(platform, owner)
    async with platform.client(owner) as http:
        bot = await paper_bot(http, ws, risk={"max_order_notional": "50"})
        base = f"/v1/workspaces/{ws}/bots/{bot}"
        r = await http.post(
            f"{base}/orders", json={"side": "buy", "type": "market", "quantity": "1"}
        )
        assert problem(r) == (422, "risk.max_order_notional"), r.text
        order_id = r.json()["order_id"]
        read = (await http.get(f"{base}/orders/{order_id}")).json()
        assert (read["status"], read["code"]) == ("rejected", "risk.max_order_notional")
        rejected = (await http.get(f"{base}/orders", params={"status": "rejected"})).json()
        assert [o["order_id"] for o in rejected["items"]] == [order_id]
        r = await http.post(
            f"{base}/orders", json={"side": "buy", "type": "market", "quantity": "0.1"}
        )
        assert r.status_code == 201, "within the limit"


async def test_who_may_trade_and_read(exchange: Exchange) -> None:
    platform = exchange.platform
    owner, _, _ = await platform.user("owner")
    trader, _, _ = await platform.user("trader")
    viewer, _, _ = await platform.user("viewer")
    manager, _, _ = await platform.user("manager")
    outsider, _, _ = await platform.user("outsider")
    ws = await org_with(platform, owner, **{trader: "trader", viewer: "viewer", manager: "manager"})
    order = {"side": "buy", "type": "market", "quantity": "0.1"}
    async with (
        platform.client(trader) as http,
        platform.client(viewer) as reader,
        platform.client(manager) as boss,
        platform.client(outsider) as stranger,
    ):
        bot = await paper_bot(http, ws, connection_id=str(uuid4()))
        base = f"/v1/workspaces/{ws}/bots/{bot}"
        assert problem(await reader.post(f"{base}/orders", json=order)) == (
            403,
            "access.forbidden",
        )
        assert problem(await reader.delete(f"{base}/orders")) == (403, "access.forbidden")
        for path in ("orders", "fills", "positions"):
            assert (await reader.get(f"{base}/{path}")).status_code == 200
            assert problem(await stranger.get(f"{base}/{path}")) == (404, "workspace.not_found")
        r = await boss.post(f"{base}/mode", json={"mode": "live", "confirm_live": True})
        assert r.status_code == 200, r.text
        r = await http.post(f"{base}/orders", json=order)
        assert problem(r) == (403, "access.forbidden"), "a live bot's orders need trading:live"
        r = await boss.post(f"{base}/orders", json=order)
        assert problem(r) == (422, "exchange.connection_not_found"), "the gateway routes it live"
        read = (await http.get(f"{base}/orders/{r.json()['order_id']}")).json()
        assert (read["status"], read["code"]) == ("rejected", "exchange.connection_not_found")


async def test_bad_orders_are_refused_with_a_code(exchange: Exchange) -> None:
    platform = exchange.platform
    owner, _, _ = await platform.user("owner")
    ws = await org_with(platform, owner)
    async with platform.client(owner) as http:
        bot = await paper_bot(http, ws)
        base = f"/v1/workspaces/{ws}/bots/{bot}"
        cases = [
            ({"side": "buy", "type": "limit", "quantity": "1"}, "exchange.invalid_input"),
            (
                {"side": "buy", "type": "market", "quantity": "1", "price": "5"},
                "exchange.invalid_input",
            ),
            (
                {"side": "buy", "type": "market", "quantity": "1", "post_only": True},
                "exchange.invalid_input",
            ),
            ({"side": "buy", "type": "market", "quantity": "-1"}, "request.invalid"),
            ({"side": "hold", "type": "market", "quantity": "1"}, "request.invalid"),
            ({"side": "buy", "type": "stop", "quantity": "1"}, "request.invalid"),
            ({"side": "buy", "type": "market", "quantity": "1", "leverage": 9}, "request.invalid"),
        ]
        for body, code in cases:
            assert problem(await http.post(f"{base}/orders", json=body)) == (422, code), body
        other = f"/v1/workspaces/{ws}/bots/no-such-bot"
        r = await http.post(
            f"{other}/orders", json={"side": "buy", "type": "market", "quantity": "1"}
        )
        assert problem(r) == (404, "exchange.bot_not_found")
        assert problem(await http.get(f"{other}/positions")) == (404, "exchange.bot_not_found")
        r = await http.get(f"{base}/orders/no-such-order")
        assert problem(r) == (404, "exchange.order_not_found")
        assert problem(await http.delete(f"{base}/orders/nope")) == (
            404,
            "exchange.order_not_found",
        )
        r = await http.get(f"{base}/orders", params={"status": "sleeping"})
        assert problem(r) == (422, "request.invalid")
        r = await http.get(f"{base}/fills", params={"cursor": "bm9wZQ"})
        assert problem(r) == (422, "request.invalid")
        assert (await http.get(f"{base}/orders")).json()["items"] == [], "nothing was placed"
