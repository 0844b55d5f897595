"""Orders and cancels reach the venue after a seeded latency; market data in between applies first."""

from __future__ import annotations

import random
from datetime import timedelta

from plutarc_exchange.paper import LatencyModel

from .helpers import D, at, book, engine, fills, limit, market, one, seeded_book, trade

FIFTY = LatencyModel(median_ms=50)


def test_market_data_before_the_order_arrives_applies_first() -> None:
    e = engine(latency=FIFTY)
    seeded_book(e)
    assert e.submit(market("m", "buy", "1"), at(0)) == []
    assert e.order("m").status == "pending"  # type: ignore[union-attr]
    e.on_book(book(asks=[("100.1", "0"), ("100.2", "0")], ms=10, seq=2))  # the asks moved away
    reports = e.on_trade(trade("100.5", "1", "buy", ms=60))
    assert fills(reports) == [("m", "1", "100.5")]
    assert reports[0].fills[0].at == at(50)


def test_an_order_still_in_flight_arrives_when_time_passes() -> None:
    e = engine(latency=FIFTY)
    seeded_book(e)
    e.submit(limit("l", "buy", "1", "100.0"), at(0))
    assert e.advance(at(49)) == []
    assert one(e.advance(at(50))).order_id == "l"
    assert e.order("l").status == "open"  # type: ignore[union-attr]


def test_a_resting_order_misses_trades_before_it_arrived() -> None:
    e = engine(latency=FIFTY)
    seeded_book(e)
    e.submit(limit("l", "sell", "1", "100.3"), at(0))
    reports = e.on_trade(trade("100.3", "5", "buy", ms=20))
    assert fills(reports) == []
    assert fills(e.on_trade(trade("100.3", "0.25", "buy", ms=51))) == [("l", "0.25", "100.3")]


def test_a_cancel_never_overtakes_its_order() -> None:
    jittery = LatencyModel(median_ms=30, sigma=1.5)
    for seed in range(50):
        e = engine(latency=jittery, seed=seed)
        seeded_book(e)
        reports = e.submit(limit("l", "buy", "1", "99.0"), at(0))
        reports += e.cancel("l", at(1))
        reports += e.advance(at(100_000))
        assert [(r.order_id, r.cancelled, r.rejected_code) for r in reports] == [
            ("l", False, None),
            ("l", True, None),
        ], seed


def test_the_latency_is_lognormal_around_the_median_and_seeded() -> None:
    model = LatencyModel(median_ms=40, sigma=0.5, floor_ms=5)
    draws = [model.sample(random.Random(7)) for _ in range(3)]
    assert draws[0] == draws[1] == draws[2]
    rng = random.Random(1)
    sample = sorted(model.sample(rng) for _ in range(4001))
    assert timedelta(milliseconds=37) < sample[2000] < timedelta(milliseconds=43)
    assert sample[0] >= timedelta(milliseconds=5)
    assert sample[-1] > timedelta(milliseconds=120)  # a tail


def test_fills_are_stamped_with_the_arrival_time_and_balances_move_then() -> None:
    e = engine(latency=FIFTY, usdt="1000", btc="0")
    seeded_book(e)
    e.submit(limit("l", "buy", "1", "99.0"), at(0))
    assert e.free("a", "USDT") == D(1000)  # nothing reserved while in flight
    e.advance(at(50))
    assert e.free("a", "USDT") < D(1000)


def test_a_median_and_spread_in_milliseconds_become_a_lognormal() -> None:
    model = LatencyModel.from_spread(20, 10)
    rng = random.Random(2)
    sample = sorted(model.sample(rng) for _ in range(4001))
    assert timedelta(milliseconds=19) < sample[2000] < timedelta(milliseconds=21)
    assert timedelta(milliseconds=28) < sample[int(4000 * 0.8413)] < timedelta(milliseconds=32)
    assert LatencyModel.from_spread(0, 10) == LatencyModel()
