"""Resting limit orders fill from public trades only, after the volume ahead of them."""

from __future__ import annotations

from .helpers import D, at, book, engine, fills, limit, market, one, seeded_book, trade


def test_an_order_behind_five_fills_only_after_five_traded() -> None:
    e = engine()
    seeded_book(e)
    arrival = one(e.submit(limit("o1", "buy", "1", "100.0"), at(0)))
    assert arrival.fills == [] and not arrival.cancelled and arrival.rejected_code is None
    view = e.order("o1")
    assert view is not None and view.status == "open" and view.queue_ahead == D(5)

    assert e.on_trade(trade("100.0", "3", "sell", ms=1)) == []
    assert e.on_trade(trade("100.0", "2", "sell", ms=2)) == []
    assert e.order("o1").queue_ahead == 0  # type: ignore[union-attr]
    assert fills(e.on_trade(trade("100.0", "0.4", "sell", ms=3))) == [("o1", "0.4", "100")]
    assert fills(e.on_trade(trade("100.0", "5", "sell", ms=4))) == [("o1", "0.6", "100")]
    assert e.order("o1") is None  # done, forgotten


def test_a_trade_larger_than_the_queue_fills_only_its_excess() -> None:
    e = engine()
    seeded_book(e)
    e.submit(limit("o1", "buy", "1", "100.0"), at(0))
    assert fills(e.on_trade(trade("100.0", "5.25", "sell", ms=1))) == [("o1", "0.25", "100")]


def test_trades_of_the_other_side_or_at_worse_prices_never_fill() -> None:
    e = engine()
    seeded_book(e)
    e.submit(limit("o1", "buy", "1", "100.0"), at(0))
    assert e.on_trade(trade("100.0", "50", "buy", ms=1)) == []  # buyers take asks, not our bid
    assert e.on_trade(trade("100.1", "50", "sell", ms=2)) == []  # above our bid
    assert e.order("o1").queue_ahead == D(5)  # type: ignore[union-attr]


def test_a_new_better_price_has_no_queue() -> None:
    e = engine()
    seeded_book(e)
    e.submit(limit("o1", "buy", "1", "100.0"), at(0))
    e.submit(limit("o2", "buy", "1", "99.9"), at(0))  # joins 2 at 99.9
    e.submit(limit("o3", "sell", "1", "100.4"), at(0))  # no ask shown at 100.4
    assert e.order("o2").queue_ahead == 2  # type: ignore[union-attr]
    assert e.order("o3").queue_ahead == 0  # type: ignore[union-attr]
    assert fills(e.on_trade(trade("100.4", "0.3", "buy", ms=1))) == [("o3", "0.3", "100.4")]


def test_the_queue_leaves_out_what_paper_orders_took_at_the_price() -> None:
    e = engine()
    seeded_book(e)
    e.submit(market("m", "buy", "4"), at(0))  # 1 at 100.1, 2 at 100.2, 1 of the 4 at 100.5
    e.submit(limit("s", "sell", "1", "100.5"), at(1))
    assert e.order("s").queue_ahead == D(3)  # type: ignore[union-attr]


def test_a_trade_through_the_price_fills_at_the_order_price_regardless_of_queue() -> None:
    e = engine()
    seeded_book(e)
    e.submit(limit("o1", "buy", "1", "100.0"), at(0))
    reports = e.on_trade(trade("99.9", "3", "sell", ms=1))
    assert fills(reports) == [("o1", "1", "100")]
    assert reports[0].fills[0].liquidity == "maker"


def test_fills_never_exceed_the_traded_volume() -> None:
    e = engine()
    seeded_book(e)
    e.submit(limit("a1", "buy", "1", "100.0"), at(0))
    e.submit(limit("a2", "buy", "1", "99.9"), at(0))
    # 3 sold through both prices: a1 (better price) first, then a2 from what is left.
    assert fills(e.on_trade(trade("99.8", "1.5", "sell", ms=1))) == [
        ("a1", "1", "100"),
        ("a2", "0.5", "99.9"),
    ]


def test_two_orders_at_one_price_share_a_trade_in_arrival_order() -> None:
    e = engine()
    seeded_book(e)
    e.submit(limit("a1", "sell", "1", "100.3"), at(0))
    e.submit(limit("a2", "sell", "1", "100.3"), at(0))
    assert fills(e.on_trade(trade("100.3", "1.5", "buy", ms=1))) == [
        ("a1", "1", "100.3"),
        ("a2", "0.5", "100.3"),
    ]


def test_cancels_at_the_level_shrink_the_queue_pro_rata() -> None:
    e = engine()
    e.on_book(book([("100.0", "10")], [("101.0", "1")], snapshot=True))
    e.submit(limit("o1", "buy", "1", "100.0"), at(0))  # 10 ahead
    e.on_book(book([("100.0", "20")], ms=1, seq=2))  # 10 join behind us
    e.on_book(book([("100.0", "15")], ms=2, seq=3))  # 5 gone, a quarter of those standing
    # Until the lag has passed, a trade may still explain the decrease.
    assert e.order("o1").queue_ahead == D(10)  # type: ignore[union-attr]
    # No trade did: the 5 were cancels, spread over the queue, so 7.5 are ahead.
    assert e.on_trade(trade("100.0", "7.5", "sell", ms=1500)) == []
    assert fills(e.on_trade(trade("100.0", "0.5", "sell", ms=1501))) == [("o1", "0.5", "100")]


def test_a_decrease_explained_by_trades_is_not_counted_again_as_cancels() -> None:
    e = engine()
    seeded_book(e)
    e.submit(limit("o1", "buy", "1", "100.0"), at(0))  # 5 ahead
    e.on_trade(trade("100.0", "2", "sell", ms=1))  # 3 ahead
    e.on_book(book([("100.0", "3")], ms=2, seq=2))  # the book shows those 2 gone
    assert e.order("o1").queue_ahead == D(3)  # type: ignore[union-attr]
    assert e.on_trade(trade("100.0", "3", "sell", ms=3)) == []
    assert fills(e.on_trade(trade("100.0", "1", "sell", ms=4))) == [("o1", "1", "100")]


def test_a_book_decrease_seen_before_its_trade_is_not_counted_twice() -> None:
    e = engine()
    seeded_book(e)
    e.submit(limit("o1", "buy", "1", "100.0"), at(0))  # 5 ahead
    e.on_book(book([("100.0", "3")], ms=1, seq=2))  # the book shows 2 gone...
    e.on_trade(trade("100.0", "2", "sell", ms=2))  # ...then the trade that took them arrives
    assert e.order("o1").queue_ahead == D(3)  # type: ignore[union-attr]
    e.on_book(book([("100.0", "3.5")], ms=3, seq=3))  # the trade is not counted again
    assert e.order("o1").queue_ahead == D(3)  # type: ignore[union-attr]
    assert e.on_trade(trade("100.0", "3", "sell", ms=4)) == []
    assert fills(e.on_trade(trade("100.0", "1", "sell", ms=5))) == [("o1", "1", "100")]


def test_a_trade_explaining_an_earlier_decrease_does_not_explain_a_later_one() -> None:
    e = engine()
    e.on_book(book([("100.0", "5")], [("101.0", "1")], snapshot=True))
    e.submit(limit("o1", "buy", "1", "100.0"), at(0))  # 5 ahead
    e.on_book(book([("100.0", "10")], ms=1, seq=2))  # 5 join behind
    e.on_book(book([("100.0", "8")], ms=2, seq=3))  # 2 gone: a trade not yet seen
    e.on_trade(trade("100.0", "2", "sell", ms=3))  # there it is: 3 ahead
    e.on_book(book([("100.0", "6")], ms=4, seq=4))  # 2 of the 8 cancelled
    e.on_book(book([("100.0", "6")], ms=2000, seq=5))  # past the lag
    assert e.order("o1").queue_ahead == D("2.25")  # type: ignore[union-attr]


def test_an_order_joining_after_an_unexplained_decrease_still_sees_it_explained() -> None:
    e = engine()
    seeded_book(e)
    e.submit(limit("o0", "buy", "1", "100.0"), at(0))
    e.on_book(book([("100.0", "3")], ms=1, seq=2))  # 2 gone at 100.0, no trade yet
    e.submit(limit("o1", "buy", "1", "100.0"), at(2))
    e.on_trade(trade("100.0", "2", "sell", ms=3))  # the trade: those 2 were never ahead of us
    assert e.order("o1").queue_ahead == D(3)  # type: ignore[union-attr]


def test_an_order_arriving_after_an_unexplained_decrease_still_sees_it_explained() -> None:
    e = engine()
    seeded_book(e)
    e.on_book(book([("100.0", "3")], ms=1, seq=2))  # 2 gone at 100.0, no paper order there
    e.submit(limit("o1", "buy", "1", "100.0"), at(2))
    assert e.order("o1").queue_ahead == D(5)  # type: ignore[union-attr]
    e.on_trade(trade("100.0", "2", "sell", ms=3))  # those 2 had traded: they were never ahead
    assert e.order("o1").queue_ahead == D(3)  # type: ignore[union-attr]


def test_an_order_arriving_after_the_lag_takes_the_decrease_as_cancels() -> None:
    e = engine()
    seeded_book(e)
    e.on_book(book([("100.0", "3")], ms=1, seq=2))
    e.submit(limit("o1", "buy", "1", "100.0"), at(1500))
    assert e.order("o1").queue_ahead == D(3)  # type: ignore[union-attr]
    e.on_trade(trade("100.0", "2", "sell", ms=1501))  # a trade this late is a new one
    assert e.order("o1").queue_ahead == D(1)  # type: ignore[union-attr]


def test_a_vanished_level_leaves_nobody_ahead_once_no_trade_explains_it() -> None:
    e = engine()
    seeded_book(e)
    e.submit(limit("o1", "buy", "1", "100.0"), at(0))
    e.on_trade(trade("100.0", "1", "sell", ms=1))  # 4 ahead, the book not yet updated
    e.on_book(book([("100.0", "0")], ms=2, seq=2))  # 1 traded, 4 unexplained
    assert e.order("o1").queue_ahead == D(4)  # type: ignore[union-attr]
    # A late trade of those 4 consumes the queue, not us:
    assert e.on_trade(trade("100.0", "4", "sell", ms=3)) == []
    assert e.order("o1").queue_ahead == 0  # type: ignore[union-attr]


def test_after_the_lag_the_queue_never_exceeds_the_displayed_amount() -> None:
    e = engine()
    seeded_book(e)
    e.submit(limit("o1", "buy", "1", "100.0"), at(0))
    e.on_trade(trade("100.0", "1", "sell", ms=1))  # 4 ahead, the book not yet updated
    e.on_book(book([("100.0", "1.5")], ms=2, seq=2))  # 2.5 of 4 unexplained
    e.on_book(book([("100.0", "1.5")], ms=1500, seq=3))
    assert e.order("o1").queue_ahead == D("1.5")  # type: ignore[union-attr]
    e.on_book(book([("100.0", "0")], ms=1600, seq=4))
    assert fills(e.on_trade(trade("100.0", "0.2", "sell", ms=4000))) == [("o1", "0.2", "100")]


def test_a_snapshot_updates_the_queue_like_an_update() -> None:
    e = engine()
    seeded_book(e)
    e.submit(limit("o1", "buy", "1", "100.0"), at(0))
    e.on_book(book([("100.0", "4"), ("99.9", "2")], [("100.1", "1")], ms=1, snapshot=True))
    assert e.order("o1").queue_ahead == D(5)  # type: ignore[union-attr]
    e.on_book(book([("100.0", "4"), ("99.9", "2")], [("100.1", "1")], ms=1500, snapshot=True))
    assert e.order("o1").queue_ahead == D(4)  # type: ignore[union-attr]


def test_a_book_crossing_a_resting_order_does_not_fill_it() -> None:
    e = engine()
    seeded_book(e)
    e.submit(limit("o1", "buy", "1", "100.0"), at(0))
    assert e.on_book(book(asks=[("99.9", "3")], ms=1, seq=2)) == []
    assert e.order("o1").filled == 0  # type: ignore[union-attr]
