from __future__ import annotations

from typing import Any

import pytest
from plutarc_contracts import exchange as x
from plutarc_exchange.feed import commands_for

from .conftest import ALICE, BOB, Gateway

BOOK = {"bids": [("99.9", "1"), ("99.8", "2")], "asks": [("100", "0.5"), ("100.1", "2")]}
SYSTEM = "system:exchange-gateway"


def test_a_paper_market_order_walks_the_book_and_the_position_follows(gateway: Gateway) -> None:
    gateway.market(**BOOK)
    bot = gateway.bot()
    reply = gateway.order(bot, quantity="1")
    assert reply.result["status"] == "filled"
    fills = gateway.of(bot, "exchange.order_filled")
    assert [(f.fill.quantity, f.fill.price, f.fill.liquidity) for f in fills] == [
        ("0.5", "100", "taker"),
        ("0.5", "100.1", "taker"),
    ]
    assert fills[-1].status == "filled" and fills[-1].remaining == "0"
    [opened] = gateway.of(bot, "exchange.account_opened")
    assert opened.mode == "paper" and {b.currency for b in opened.balances} >= {"USDT"}
    position = gateway.of(bot, "exchange.position_changed")[-1]
    assert position.quantity == "1" and position.average_price == "100.05"
    assert position.mode == "paper"
    # the liquidity this order took is not there for the next one
    gateway.order(bot, quantity="0.5")
    again = gateway.of(bot, "exchange.order_filled")[-1]
    assert again.fill.price == "100.1"


def test_a_resting_limit_order_fills_from_trades_through_its_price(gateway: Gateway) -> None:
    gateway.market(**BOOK)
    bot = gateway.bot()
    reply = gateway.order(bot, type="limit", price="99.5", quantity="0.2")
    assert reply.result["status"] == "open"
    reports = gateway.trade("99.4", "0.05")
    [command] = commands_for(gateway.desk, reports)
    gateway.ok(SYSTEM, command)
    fill = gateway.of(bot, "exchange.order_filled")[-1]
    assert fill.fill.liquidity == "maker" and fill.fill.quantity == "0.05"
    assert fill.status == "partially_filled" and fill.remaining == "0.15"
    gateway.ok(SYSTEM, command)  # the same reports again: counted once
    assert len(gateway.of(bot, "exchange.order_filled")) == 1


def test_a_cancel_reaches_the_engine_and_closes_the_order(gateway: Gateway) -> None:
    gateway.market(**BOOK)
    bot = gateway.bot()
    order_id = gateway.order(bot, type="limit", price="99", quantity="0.1").result["order_id"]
    gateway.ok(ALICE, x.CancelOrder(workspace_id=gateway.ws, bot_id=bot, order_id=order_id))
    [cancelled] = gateway.of(bot, "exchange.order_cancelled")
    assert cancelled.order_id == order_id and cancelled.remaining == "0.1"
    gateway.rejected(
        ALICE,
        x.CancelOrder(workspace_id=gateway.ws, bot_id=bot, order_id=order_id),
        "exchange.order_not_open",
    )


def test_the_engine_refuses_as_the_venue_would(gateway: Gateway) -> None:
    gateway.market(**BOOK)
    bot = gateway.bot()
    reply = gateway.order(bot, type="limit", price="99", quantity="0.01")
    assert reply.result["code"] == "order.below_min_notional"
    [rejected] = gateway.of(bot, "exchange.order_rejected")
    assert rejected.code == "order.below_min_notional"
    assert not gateway.of(bot, "exchange.order_accepted")


@pytest.mark.parametrize(
    ("limits", "order", "code"),
    [
        ({"max_order_notional": "50"}, {"quantity": "1"}, "risk.max_order_notional"),
        ({"max_position": "60"}, {"quantity": "0.7"}, "risk.max_position"),
        ({"max_open_orders": 1}, None, "risk.max_open_orders"),
    ],
)
def test_each_limit_refuses_an_order_before_any_venue(
    gateway: Gateway, limits: dict[str, Any], order: dict[str, Any] | None, code: str
) -> None:
    gateway.market(**BOOK)
    gateway.limits(**limits)
    bot = gateway.bot()
    if order is None:  # one open order first
        gateway.order(bot, type="limit", price="90", quantity="0.1")
        order = {"type": "limit", "price": "90", "quantity": "0.1"}
    reply = gateway.order(bot, **order)
    assert reply.result["status"] == "rejected" and reply.result["code"] == code
    assert gateway.of(bot, "exchange.order_rejected")[-1].code == code
    assert len(gateway.desk.engine("binance", "BTC/USDT").open_orders(bot)) <= 1
    assert gateway.intents() == []


def test_a_daily_loss_halts_entries_but_lets_the_bot_get_flat(gateway: Gateway) -> None:
    gateway.market(**BOOK)
    gateway.limits(daily_loss_limit="0.5")
    bot = gateway.bot()
    gateway.order(bot, quantity="0.5")  # bought at 100
    gateway.market(bids=[("98", "5")], asks=[("98.5", "5")])
    gateway.order(bot, side="sell", quantity="0.25")  # sold at 98: -0.5 and fees
    [halt] = gateway.of(bot, "exchange.entries_halted")
    assert halt.limit == "daily_loss_limit" and halt.threshold == "0.5"
    reply = gateway.order(bot, quantity="0.1")
    assert reply.result["code"] == "risk.entries_halted"
    exit_reply = gateway.order(bot, side="sell", quantity="0.25")
    assert exit_reply.result["status"] == "filled"
    assert gateway.of(bot, "exchange.position_changed")[-1].quantity == "0"


def test_a_stopped_bot_may_only_reduce(gateway: Gateway) -> None:
    gateway.market(**BOOK)
    bot = gateway.bot(running=False)
    assert gateway.order(bot).result["code"] == "exchange.bot_not_running"


def test_bad_orders_and_callers_change_nothing(gateway: Gateway) -> None:
    gateway.market(**BOOK)
    bot = gateway.bot()
    ws = gateway.ws

    def place(**fields: Any) -> x.PlaceOrder:
        values: dict[str, Any] = {"side": "buy", "type": "market", "quantity": "0.1", **fields}
        return x.PlaceOrder(workspace_id=ws, **values)

    gateway.rejected(ALICE, place(bot_id="not-a-uuid"), "exchange.invalid_id")
    unknown = "00000000-0000-4000-8000-000000000000"
    gateway.rejected(ALICE, place(bot_id=unknown), "exchange.bot_not_found")
    gateway.rejected(BOB, place(bot_id=bot), "access.forbidden")
    gateway.rejected(f"bot:{gateway.bot()}", place(bot_id=bot), "exchange.not_this_bot")
    gateway.rejected(ALICE, place(bot_id=bot, type="limit"), "exchange.invalid_input")
    gateway.rejected(ALICE, place(bot_id=bot, price="100"), "exchange.invalid_input")
    gateway.rejected(ALICE, place(bot_id=bot, post_only=True), "exchange.invalid_input")
    assert gateway.of(bot, "exchange.order_accepted") == []
    assert gateway.ok(f"bot:{bot}", place(bot_id=bot)).result["status"] == "filled"


def test_a_market_with_no_rules_is_refused_on_paper(gateway: Gateway) -> None:
    from plutarc_contracts import bots as b
    from plutarc_exchange.paper_desk import PaperDesk
    from plutarc_exchange.venue_table import VenueTable

    gateway.desk.__dict__.update(PaperDesk(VenueTable().rules).__dict__)  # the real rules
    bot = gateway.bot(market=b.MarketRef(venue="binance", symbol="DOGE/JPY"))
    reply = gateway.order(bot, type="limit", price="10", quantity="1")
    assert reply.result["code"] == "paper.unknown_market"
    assert gateway.of(bot, "exchange.order_rejected")[-1].code == "paper.unknown_market"
    assert ("binance", "DOGE/JPY") not in gateway.desk.markets()
