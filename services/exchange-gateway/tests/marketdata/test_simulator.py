from __future__ import annotations

import itertools
import math
import statistics
from datetime import UTC, datetime, timedelta
from decimal import Decimal

import pytest
from plutarc_contracts.market import BookUpdate, MarketBatch, Trade, encode_batch
from plutarc_exchange.marketdata.book import OrderBook, SequenceGap
from plutarc_exchange.marketdata.simulator import MarketParams, MarketSpec, Simulator

START = datetime(2026, 3, 2, 9, 0, tzinfo=UTC)
BTC = MarketSpec("binance", "BTC/USDT", MarketParams(price=60_000, tick="0.1", step="0.00001"))
ETH = MarketSpec("bybit", "ETH/USDT", MarketParams(clustering=0.5, depth=10))


def run(seed: int, chunks: list[float], markets: list[MarketSpec] | None = None) -> list[bytes]:
    sim = Simulator(markets or [BTC, ETH], seed=seed, start=START)
    return [encode_batch(b) for seconds in chunks for b in sim.advance(seconds)]


def items(batches: list[MarketBatch], key: str) -> tuple[list[BookUpdate], list[Trade]]:
    mine = [b for b in batches if f"{b.venue}:{b.symbol}" == key]
    return [u for b in mine for u in b.books], [t for b in mine for t in b.trades]


def generate(spec: MarketSpec, seconds: float, seed: int = 7) -> list[MarketBatch]:
    sim = Simulator([spec], seed=seed, start=START)
    return [b for _ in range(int(seconds)) for b in sim.advance(1.0)]


def test_same_seed_gives_byte_identical_output() -> None:
    first = run(42, [0.5, 3.0, 10.0])
    assert first == run(42, [0.5, 3.0, 10.0])
    assert first != run(43, [0.5, 3.0, 10.0])


def test_output_does_not_depend_on_how_time_is_advanced() -> None:
    sim_a = Simulator([BTC, ETH], seed=5, start=START)
    sim_b = Simulator([BTC, ETH], seed=5, start=START)
    a = [b for _ in range(40) for b in sim_a.advance(0.25)]
    b = sim_b.advance(10.0)
    for key in (BTC.key, ETH.key):
        assert items(a, key) == items(b, key)
        assert len(items(a, key)[0]) > 100


def test_adding_a_market_leaves_the_others_unchanged() -> None:
    alone = Simulator([BTC], seed=5, start=START).advance(5)
    together = Simulator([ETH, BTC], seed=5, start=START).advance(5)
    assert items(alone, BTC.key) == items(together, BTC.key)


def test_first_update_is_a_snapshot_then_sequence_rises_by_one() -> None:
    books, _ = items(generate(BTC, 30), BTC.key)
    assert books[0].snapshot and books[0].sequence == 1
    assert len(books[0].bids) == len(books[0].asks) == 20
    assert [u.sequence for u in books] == list(range(1, len(books) + 1))
    assert all(a.at <= b.at for a, b in itertools.pairwise(books))
    assert START <= books[-1].at <= START + timedelta(seconds=30)


def test_book_is_never_crossed_and_stays_on_the_tick_and_step_grid() -> None:
    book = OrderBook()
    tick, step = Decimal(BTC.params.tick), Decimal(BTC.params.step)
    spreads = []
    for update in items(generate(BTC, 60), BTC.key)[0]:
        for price, amount in update.bids + update.asks:
            assert Decimal(price) % tick == 0 and Decimal(amount) % step == 0
            assert Decimal(amount) >= 0
        book.apply(update)
        bid, ask = book.best_bid(), book.best_ask()
        assert bid is not None and ask is not None
        assert bid[0] < ask[0]
        assert len(book.bids) <= 20 and len(book.asks) <= 20
        spreads.append((ask[0] - bid[0]) / tick)
    assert statistics.median(spreads) == BTC.params.spread_ticks


def test_trades_take_from_the_side_they_hit() -> None:
    spec = MarketSpec("okx", "SOL/USDT", MarketParams(trades_per_second=20, trade_size=2.0))
    books, trades = items(generate(spec, 60), spec.key)
    by_time: dict[datetime, list[Trade]] = {}
    for trade in trades:
        by_time.setdefault(trade.at, []).append(trade)
    assert len(by_time) > 600
    book = OrderBook()
    checked = 0
    for update in books:
        prints = by_time.get(update.at, [])
        if prints and not update.snapshot and checked < 10_000:
            side = prints[0].side
            levels = book.depth("asks" if side == "buy" else "bids")
            assert all(t.side == side for t in prints)
            for (price, before), trade in zip(levels, prints, strict=False):
                assert Decimal(trade.price) == price
                assert Decimal(trade.amount) <= before
            changed = update.asks if side == "buy" else update.bids
            for trade, (price, after) in zip(prints, changed, strict=True):
                level = dict(levels)[Decimal(price)]
                assert Decimal(price) == Decimal(trade.price)
                assert Decimal(after) == level - Decimal(trade.amount)
            checked += 1
        book.apply(update)
    assert checked == len(by_time)


def test_mid_follows_gbm_with_the_configured_volatility() -> None:
    vol = 2.0
    spec = MarketSpec(
        "kraken",
        "XBT/USD",
        MarketParams(
            price=50_000, tick="0.5", volatility=vol, updates_per_second=2, trades_per_second=0
        ),
    )
    sim = Simulator([spec], seed=11, start=START)
    book = OrderBook()
    mids = []
    for _ in range(2000):
        for batch in sim.advance(5.0):
            for update in batch.books:
                book.apply(update)
        bid, ask = book.best_bid(), book.best_ask()
        assert bid and ask
        mids.append(float(bid[0] + ask[0]) / 2)
    returns = [math.log(b / a) for a, b in itertools.pairwise(mids)]
    expected = vol / math.sqrt(365 * 24 * 3600) * math.sqrt(5.0)
    assert statistics.stdev(returns) == pytest.approx(expected, rel=0.1)
    assert abs(statistics.mean(returns)) < 3 * expected / math.sqrt(len(returns))


def test_volatility_clustering_makes_large_moves_follow_large_moves() -> None:
    def autocorrelation_of_squared_returns(clustering: float) -> float:
        spec = MarketSpec(
            "kraken",
            "XBT/USD",
            MarketParams(
                price=50_000,
                tick="0.5",
                volatility=3.0,
                clustering=clustering,
                clustering_seconds=600,
                updates_per_second=1,
                trades_per_second=0,
                depth=2,
            ),
        )
        sim = Simulator([spec], seed=3, start=START)
        mids = []
        for _ in range(3000):
            sim.advance(10.0)
            mids.append(sim.markets[0].mid)
        sq = [math.log(b / a) ** 2 for a, b in itertools.pairwise(mids)]
        return statistics.correlation(sq[:-1], sq[1:])

    assert autocorrelation_of_squared_returns(0.8) > 0.1
    assert abs(autocorrelation_of_squared_returns(0.0)) < 0.06


def test_trade_arrivals_are_poisson_with_lognormal_sizes() -> None:
    spec = MarketSpec(
        "gemini",
        "BTC/USD",
        MarketParams(price=60_000, tick="1", step="0.00001", trades_per_second=4, level_size=50),
    )
    _, trades = items(generate(spec, 600), spec.key)
    arrivals = sorted({t.at for t in trades})
    assert len(arrivals) == pytest.approx(2400, rel=0.1)
    gaps = [(b - a).total_seconds() for a, b in itertools.pairwise(arrivals)]
    assert statistics.mean(gaps) == pytest.approx(0.25, rel=0.1)
    assert statistics.stdev(gaps) == pytest.approx(0.25, rel=0.15)
    per_taker: dict[datetime, Decimal] = {}
    for t in trades:
        per_taker[t.at] = per_taker.get(t.at, Decimal(0)) + Decimal(t.amount)
    sizes = sorted(per_taker.values())
    assert float(sizes[len(sizes) // 2]) == pytest.approx(0.2, rel=0.1)
    logs = [math.log(float(s)) for s in sizes]
    assert statistics.stdev(logs) == pytest.approx(1.0, rel=0.15)


def test_periodic_snapshots_let_a_late_joiner_build_the_book() -> None:
    spec = MarketSpec("phemex", "BTC/USDT", MarketParams(snapshot_every=10))
    books, _ = items(generate(spec, 35), spec.key)
    snapshots = [u for u in books if u.snapshot]
    assert [u.at - START for u in snapshots] == [timedelta(seconds=s) for s in (0, 10, 20, 30)]
    full, late = OrderBook(), OrderBook()
    for update in books:
        full.apply(update)
        if update.at >= START + timedelta(seconds=15):
            late.apply(update)
    assert late.ready and late.bids == full.bids and late.asks == full.asks


def test_order_book_refuses_a_gap() -> None:
    books, _ = items(generate(BTC, 2), BTC.key)
    book = OrderBook()
    book.apply(books[0])
    with pytest.raises(SequenceGap):
        book.apply(books[2])
    assert not book.ready


@pytest.mark.parametrize(
    ("params", "message"),
    [
        ({"price": -1.0}, "price must be a positive"),
        ({"tick": "abc"}, "not a decimal"),
        ({"step": "0"}, "must be a positive"),
        ({"depth": 0}, "depth must be 1 to 1000"),
        ({"trades_per_second": -2.0}, "trades_per_second must be zero or more"),
        ({"price": 0.1, "tick": "0.01"}, "too few ticks"),
    ],
)
def test_bad_parameters_are_refused(params: dict[str, object], message: str) -> None:
    with pytest.raises(ValueError, match=message):
        MarketParams(**params)  # type: ignore[arg-type]


def test_bad_markets_are_refused() -> None:
    with pytest.raises(ValueError, match="unknown venue"):
        MarketSpec("nasdaq", "BTC/USDT")
    with pytest.raises(ValueError, match="unified symbol"):
        MarketSpec("binance", "btcusdt")
    with pytest.raises(ValueError, match="listed twice"):
        Simulator([BTC, BTC], seed=1, start=START)
