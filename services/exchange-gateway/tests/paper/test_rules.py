"""Rejections as the venue would reject, and market rules read from ccxt markets."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

import pytest
from plutarc_contracts.exchange import VenueReport
from plutarc_exchange import paper
from plutarc_exchange.paper import DECIMAL_PLACES, TICK_SIZE, MarketRules, PaperOrder

from .helpers import D, at, engine, limit, market, one, seeded_book, trade


def rejected(report: VenueReport) -> str | None:
    assert not report.fills and not report.cancelled
    return report.rejected_code


@pytest.mark.parametrize(
    ("order", "code"),
    [
        (limit("r", "buy", "0.0015", "100.0"), paper.BAD_PRECISION),
        (limit("r", "buy", "1", "100.05"), paper.BAD_PRECISION),
        (market("r", "sell", "0.0001"), paper.BAD_PRECISION),
        (limit("r", "buy", "0.04", "100.0"), paper.BELOW_MIN_NOTIONAL),
        (PaperOrder("r", "buy", "limit", D(1), None, account="a"), paper.INVALID),
        (PaperOrder("r", "buy", "market", D(1), D(100), account="a"), paper.INVALID),
        (PaperOrder("r", "buy", "market", D(1), post_only=True, account="a"), paper.INVALID),
        (PaperOrder("r", "buy", "limit", D(0), D(100), account="a"), paper.INVALID),
        (PaperOrder("r", "buy", "limit", D("NaN"), D(100), account="a"), paper.INVALID),
        (PaperOrder("r", "hold", "limit", D(1), D(100), account="a"), paper.INVALID),  # type: ignore[arg-type]
    ],
)
def test_orders_the_rules_refuse_are_rejected_at_once(order: PaperOrder, code: str) -> None:
    e = engine()
    seeded_book(e)
    report = one(e.submit(order, at(0)))
    assert rejected(report) == code and report.rejected_reason
    assert e.order("r") is None
    assert e.reserved("a", "USDT") == 0 and e.free("a", "USDT") == D(100000)


def test_below_the_minimum_amount() -> None:
    from dataclasses import replace

    from .helpers import RULES

    e = engine(replace(RULES, min_amount=D("0.01"), min_notional=D(0)))
    seeded_book(e)
    assert rejected(one(e.submit(limit("r", "buy", "0.009", "100.0"), at(0)))) == (
        paper.BELOW_MIN_AMOUNT
    )
    assert rejected(one(e.submit(limit("ok", "buy", "0.01", "100.0"), at(0)))) is None


def test_a_market_order_below_min_notional_at_the_best_price() -> None:
    e = engine()
    seeded_book(e)
    report = one(e.submit(market("r", "buy", "0.049"), at(0)))  # 0.049 x 100.1 = 4.9
    assert rejected(report) == paper.BELOW_MIN_NOTIONAL
    assert one(e.submit(market("ok", "buy", "0.05"), at(0))).fills


def test_insufficient_funds() -> None:
    e = engine(usdt="100", btc="0.5")
    seeded_book(e)
    # 1 x 99.9 x 1.002 = 100.0998 > 100
    assert rejected(one(e.submit(limit("b", "buy", "1", "99.9"), at(0)))) == (
        paper.INSUFFICIENT_FUNDS
    )
    assert rejected(one(e.submit(limit("s", "sell", "0.6", "101.0"), at(0)))) == (
        paper.INSUFFICIENT_FUNDS
    )
    assert rejected(one(e.submit(market("m", "buy", "1"), at(0)))) == paper.INSUFFICIENT_FUNDS
    assert rejected(one(e.submit(market("n", "sell", "0.6"), at(0)))) == paper.INSUFFICIENT_FUNDS
    assert rejected(one(e.submit(limit("ok", "buy", "0.99", "99.9"), at(0)))) is None


def test_post_only_that_would_take_is_rejected_and_one_that_would_not_rests() -> None:
    e = engine()
    seeded_book(e)
    report = one(e.submit(limit("p", "buy", "1", "100.1", post_only=True), at(0)))
    assert rejected(report) == paper.POST_ONLY_WOULD_TAKE
    assert rejected(one(e.submit(limit("q", "buy", "1", "100.0", post_only=True), at(0)))) is None
    assert e.order("q").status == "open"  # type: ignore[union-attr]


def test_post_only_judges_the_book_paper_orders_left() -> None:
    e = engine()
    seeded_book(e)
    e.submit(market("m", "buy", "1"), at(0))  # took all of 100.1
    assert rejected(one(e.submit(limit("q", "buy", "1", "100.1", post_only=True), at(1)))) is None


def test_reduce_only_may_not_grow_or_flip_the_position() -> None:
    e = engine()
    seeded_book(e)
    assert rejected(one(e.submit(market("r1", "sell", "1", reduce_only=True), at(0)))) == (
        paper.REDUCE_ONLY_WOULD_INCREASE
    )
    e.submit(market("buy", "buy", "1"), at(1))
    assert e.position("a") == 1
    assert rejected(one(e.submit(market("r2", "buy", "0.5", reduce_only=True), at(2)))) == (
        paper.REDUCE_ONLY_WOULD_INCREASE
    )
    assert rejected(one(e.submit(market("r3", "sell", "1.5", reduce_only=True), at(2)))) == (
        paper.REDUCE_ONLY_WOULD_INCREASE
    )
    assert one(e.submit(market("r4", "sell", "1", reduce_only=True), at(3))).fills
    assert e.position("a") == 0


def test_a_market_order_into_an_empty_side() -> None:
    e = engine()
    assert rejected(one(e.submit(market("m", "buy", "1"), at(0)))) == paper.NO_LIQUIDITY
    seeded_book(e)
    e.submit(market("all", "buy", "7"), at(1))  # every ask taken
    assert rejected(one(e.submit(market("m2", "buy", "1"), at(2)))) == paper.NO_LIQUIDITY


def test_a_duplicate_id_of_an_open_order() -> None:
    e = engine()
    seeded_book(e)
    e.submit(limit("x", "buy", "1", "99.0"), at(0))
    assert rejected(one(e.submit(limit("x", "buy", "1", "99.0"), at(0)))) == paper.DUPLICATE


def test_cancelling_an_order_that_is_not_open() -> None:
    e = engine()
    seeded_book(e)
    assert one(e.cancel("nope", at(0))).rejected_code == paper.CANCEL_NOT_OPEN
    e.submit(limit("x", "buy", "1", "100.0"), at(0))
    e.on_trade(trade("99.0", "1", "sell", ms=1))  # filled through
    assert one(e.cancel("x", at(2))).rejected_code == paper.CANCEL_NOT_OPEN


def test_codes_fit_the_contract() -> None:
    import re

    pattern = re.compile(r"^[a-z][a-z0-9_]*(\.[a-z][a-z0-9_]*)+$")
    codes = [v for k, v in vars(paper).items() if k.isupper() and isinstance(v, str)]
    assert len(codes) == 10 and all(pattern.match(c) for c in codes)


BINANCE_LIKE: dict[str, Any] = {
    "symbol": "BTC/USDT",
    "base": "BTC",
    "quote": "USDT",
    "precision": {"amount": 5, "price": 2},
    "limits": {"amount": {"min": 1e-05, "max": 9000}, "cost": {"min": 5, "max": None}},
    "maker": 0.001,
    "taker": 0.001,
}


def test_rules_from_a_ccxt_market_in_decimal_places() -> None:
    rules = MarketRules.from_ccxt_market(BINANCE_LIKE, precision_mode=DECIMAL_PLACES)
    assert rules == MarketRules(
        base="BTC",
        quote="USDT",
        price_tick=D("0.01"),
        amount_step=D("0.00001"),
        min_amount=D("0.00001"),
        min_notional=D(5),
        maker_fee=D("0.001"),
        taker_fee=D("0.001"),
    )
    assert MarketRules.from_ccxt_market(BINANCE_LIKE, precision_mode=None) == rules  # guessed


def test_rules_from_a_ccxt_market_in_tick_size() -> None:
    market = {
        **BINANCE_LIKE,
        "precision": {"amount": 1.0, "price": 0.5},
        "limits": {"amount": {"min": 1}, "cost": {}},
        "maker": -0.0001,
        "taker": 0.00075,
    }
    rules = MarketRules.from_ccxt_market(market)
    assert (rules.amount_step, rules.price_tick) == (D(1), D("0.5"))
    assert (rules.min_amount, rules.min_notional) == (D(1), D(0))
    assert (rules.maker_fee, rules.taker_fee) == (D("-0.0001"), D("0.00075"))
    assert MarketRules.from_ccxt_market(market, precision_mode=None) == rules
    # an integer tick (JSON has no 1.0): right in the exchange's mode, misread by the guess
    ints = {**market, "precision": {"amount": 1, "price": 1}}
    assert MarketRules.from_ccxt_market(ints).amount_step == D(1)
    assert MarketRules.from_ccxt_market(ints, precision_mode=TICK_SIZE).amount_step == D(1)
    assert MarketRules.from_ccxt_market(ints, precision_mode=None).amount_step == D("0.1")


def test_a_linear_contract_counts_its_size_in_notional_fees_and_balances() -> None:
    okx_swap = {
        "base": "BTC",
        "quote": "USDT",
        "contractSize": 0.01,
        "precision": {"amount": 0.1, "price": 0.1},
        "limits": {"amount": {"min": 0.1}, "cost": {}},
        "maker": 0.0002,
        "taker": 0.0005,
    }
    rules = MarketRules.from_ccxt_market(okx_swap)
    assert rules.contract_size == D("0.01")
    e = engine(rules, usdt="1000", btc="0")
    seeded_book(e)
    fill = one(e.submit(market("c", "buy", "1"), at(0))).fills[0]  # 1 contract = 0.01 BTC
    assert (fill.quantity, fill.price, fill.fee) == ("1", "100.1", "0.0005005")
    assert e.free("a", "BTC") == D("0.01")
    assert e.free("a", "USDT") == D(1000) - D("1.001") - D("0.0005005")
    assert e.position("a") == 1  # in contracts, as orders count


def test_rules_refuse_what_they_cannot_read() -> None:
    with pytest.raises(ValueError, match="precision mode"):
        MarketRules.from_ccxt_market(BINANCE_LIKE, precision_mode=3)
    with pytest.raises(ValueError, match="no price precision"):
        MarketRules.from_ccxt_market({**BINANCE_LIKE, "precision": {"amount": 5}})
    with pytest.raises(ValueError):
        MarketRules("B", "Q", Decimal(0), Decimal(1))


def test_a_place_order_command_becomes_a_paper_order() -> None:
    from plutarc_contracts.exchange import PlaceOrder

    command = PlaceOrder(
        workspace_id="ws",
        bot_id="bot-1",
        side="sell",
        type="limit",
        quantity="0.25",
        price="100.3",
        post_only=True,
    )
    order = PaperOrder.from_place_order("o-1", command, account="bot-1")
    assert order == PaperOrder(
        "o-1", "sell", "limit", D("0.25"), D("100.3"), post_only=True, account="bot-1"
    )
    e = engine()
    e.deposit("bot-1", "BTC", "1")
    seeded_book(e)
    assert one(e.submit(order, at(0))).rejected_code is None
    assert e.reserved("bot-1", "BTC") == D("0.25")
