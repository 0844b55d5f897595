"""Orders that take: the book walked level by level, liquidity used once, fees, partial fills."""

from __future__ import annotations

from .helpers import RULES, D, at, book, engine, fills, limit, market, one, seeded_book, trade


def test_a_market_buy_walks_the_asks_level_by_level() -> None:
    e = engine()
    seeded_book(e)
    report = one(e.submit(market("m1", "buy", "2.5"), at(0)))
    assert fills([report]) == [("m1", "1", "100.1"), ("m1", "1.5", "100.2")]
    assert {f.liquidity for f in report.fills} == {"taker"}
    assert not report.cancelled and report.venue_order_id == "paper-m1"


def test_a_market_sell_walks_the_bids() -> None:
    e = engine()
    seeded_book(e)
    assert fills(e.submit(market("m1", "sell", "6"), at(0))) == [
        ("m1", "5", "100"),
        ("m1", "1", "99.9"),
    ]


def test_the_second_market_order_gets_worse_prices() -> None:
    e = engine()
    seeded_book(e)
    assert fills(e.submit(market("m1", "buy", "1"), at(0))) == [("m1", "1", "100.1")]
    assert fills(e.submit(market("m2", "buy", "1"), at(1))) == [("m2", "1", "100.2")]
    assert fills(e.submit(market("m3", "buy", "2"), at(2))) == [
        ("m3", "1", "100.2"),
        ("m3", "1", "100.5"),
    ]
    assert e.best_ask() == D("100.5")


def test_taken_liquidity_comes_back_only_as_the_market_moves_through_it() -> None:
    e = engine()
    seeded_book(e)
    e.submit(market("m1", "buy", "1"), at(0))  # took all of 100.1
    e.on_book(book(asks=[("100.1", "1.5")], ms=1, seq=2))  # someone added 0.5 behind
    assert fills(e.submit(market("m2", "buy", "1"), at(2))) == [
        ("m2", "0.5", "100.1"),
        ("m2", "0.5", "100.2"),
    ]
    # All 1.5 shown at 100.1 is taken; a decrease of 0.4 is the market using up 0.4 of it.
    e.on_book(book(asks=[("100.1", "1.1")], ms=3, seq=3))
    assert e.best_ask() == D("100.2")
    e.on_book(book(asks=[("100.1", "1.6")], ms=3, seq=3))  # 0.5 new behind
    assert fills(e.submit(market("m3", "buy", "1"), at(4))) == [
        ("m3", "0.5", "100.1"),
        ("m3", "0.5", "100.2"),
    ]
    # The level vanishing clears what we took there: a new level there is whole.
    e.on_book(book(asks=[("100.1", "0")], ms=5, seq=4))
    e.on_book(book(asks=[("100.1", "2")], ms=6, seq=5))
    assert fills(e.submit(market("m4", "buy", "2"), at(7))) == [("m4", "2", "100.1")]


def test_a_snapshot_keeps_what_was_taken_at_a_level_that_did_not_move() -> None:
    e = engine()
    seeded_book(e)
    e.submit(market("m1", "buy", "1"), at(0))
    seeded_book(e)  # the venue still shows 1 at 100.1
    assert fills(e.submit(market("m2", "buy", "1"), at(1))) == [("m2", "1", "100.2")]


def test_a_market_order_larger_than_the_book_fills_what_is_there_and_cancels_the_rest() -> None:
    e = engine()
    seeded_book(e)
    report = one(e.submit(market("m1", "buy", "10"), at(0)))
    assert [f.quantity for f in report.fills] == ["1", "2", "4"]
    assert report.cancelled
    assert e.order("m1") is None


def test_a_crossing_limit_takes_up_to_its_price_and_rests_the_rest() -> None:
    e = engine()
    seeded_book(e)
    report = one(e.submit(limit("l1", "buy", "5", "100.2"), at(0)))
    assert fills([report]) == [("l1", "1", "100.1"), ("l1", "2", "100.2")]
    view = e.order("l1")
    assert view is not None and view.status == "partially_filled"
    assert view.remaining == D(2) and view.queue_ahead == 0  # no bid was shown at 100.2
    maker = e.on_trade(trade("100.2", "0.5", "sell", ms=1))
    assert fills(maker) == [("l1", "0.5", "100.2")]
    assert maker[0].fills[0].liquidity == "maker"


def test_taker_and_maker_fees_follow_the_market_rates() -> None:
    e = engine()
    seeded_book(e)
    taker = one(e.submit(market("m1", "buy", "1"), at(0))).fills[0]
    assert (taker.fee, taker.fee_currency, taker.liquidity) == ("0.2002", "USDT", "taker")
    e.submit(limit("l1", "sell", "2", "101.0"), at(1))
    maker = e.on_trade(trade("101.0", "2", "buy", ms=2))[0].fills[0]
    assert (maker.fee, maker.liquidity) == ("0.202", "maker")  # 2 x 101 x 0.001


def test_a_maker_rebate_is_a_negative_fee_and_is_paid_out() -> None:
    from dataclasses import replace

    e = engine(replace(RULES, maker_fee=D("-0.0001")), usdt="1000", btc="0")
    seeded_book(e)
    e.submit(limit("l1", "buy", "1", "99.0"), at(0))
    fill = e.on_trade(trade("98.0", "1", "sell", ms=1))[0].fills[0]
    assert fill.fee == "-0.0099"
    assert e.free("a", "USDT") == D("1000") - D("99") + D("0.0099")


def test_fees_are_cut_to_the_quantum_never_rounded_up() -> None:
    from dataclasses import replace

    e = engine(replace(RULES, taker_fee=D("0.00033333"), min_notional=D(0)))
    e.on_book(book(asks=[("100.1", "1")], snapshot=True))
    fill = one(e.submit(market("m1", "buy", "0.007"), at(0))).fills[0]
    # 0.7007 x 0.00033333 = 0.000233564331: cut at 12 places
    assert fill.fee == "0.000233564331"


def test_fill_ids_are_unique_and_fit_the_contract() -> None:
    e = engine()
    seeded_book(e)
    long_id = "x" * 64
    ids = [f.fill_id for f in one(e.submit(market(long_id, "buy", "3"), at(0))).fills]
    assert len(set(ids)) == 2 and all(len(i) <= 64 for i in ids)
