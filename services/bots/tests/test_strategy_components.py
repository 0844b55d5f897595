"""Each built-in component on a small hand-made series, with the paper book it leaves."""

from __future__ import annotations

from decimal import Decimal

import pytest
from plutarc_bots.strategy import indicators

from .strategy_helpers import HALF, candle, run, series, strategy

# SMA 2 and SMA 4 of these closes: equal up to candle 4, the fast below from candle 5, above at
# candle 9 (9 against 8.25), below again at candle 13 (9 against 11).
CROSS = [10, 10, 10, 10, 10, 9, 8, 7, 8, 10, 12, 14, 10, 8]


def test_sma_crossover_buys_on_the_cross_up_and_sells_on_the_cross_down() -> None:
    s = strategy(
        {"component": "ma_crossover", "params": {"kind": "sma", "fast": 2, "slow": 4}}, HALF
    )
    intents = run(s, series(CROSS))
    assert [(i, x.side, x.kind, x.price, x.quantity) for i, x in intents] == [
        (9, "buy", "market", None, Decimal(500)),  # half of 10,000 at the close, 10
        (13, "sell", "market", None, Decimal(500)),
    ]
    assert [x.reason for _, x in intents] == [
        "sma 2 crossed above sma 4",
        "sma 2 crossed below sma 4",
    ]
    assert intents[0][1].id == f"{9 * 3_600_000}-0"
    assert (intents[0][1].component, intents[0][1].index) == ("ma_crossover", 0)
    assert s.book.cash == Decimal(9_000)  # bought 500 at 10, sold at 8
    assert s.book.position() == 0


def test_ema_crossover_crosses_once_on_a_v() -> None:
    s = strategy({"component": "ma_crossover", "params": {"fast": 3, "slow": 6}}, HALF)
    closes = [20 - i for i in range(12)] + [9 + 2 * i for i in range(12)]
    intents = run(s, series(closes))
    assert [x.side for _, x in intents] == ["buy"]
    assert 12 < intents[0][0] < 18


def test_a_crossover_does_not_buy_again_while_holding() -> None:
    s = strategy(
        {"component": "ma_crossover", "params": {"kind": "sma", "fast": 2, "slow": 4}}, HALF
    )
    # Up, down a little (no cross down), up again: one buy.
    intents = run(s, series([10, 10, 10, 10, 9, 8, 9, 11, 13, 12.5, 13, 14]))
    assert [x.side for _, x in intents] == ["buy"]


RSI = {"component": "rsi_reversion", "params": {"period": 3, "low": 30, "high": 70}}


def test_rsi_buys_under_low_once_and_sells_over_high() -> None:
    s = strategy(RSI, HALF)
    closes = [10, 11, 12, 13, 14, 12, 10, 8, 7, 8, 10, 12, 14, 16]
    intents = run(s, series(closes))
    assert [(i, x.side) for i, x in intents] == [(6, "buy"), (11, "sell")]
    assert intents[0][1].reason.startswith("rsi 3 ") and intents[0][1].reason.endswith("under 30")
    assert intents[1][1].reason.endswith("over 70")
    assert intents[0][1].quantity == Decimal(500)  # 5,000 at 10


def test_rsi_waits_for_its_warm_up() -> None:
    s = strategy(RSI, HALF)
    assert run(s, series([10, 5, 2])) == []


BREAKOUT = {"component": "breakout", "params": {"period": 3}}


def test_breakout_buys_a_close_above_the_channel_of_the_candles_before() -> None:
    s = strategy(BREAKOUT, HALF)
    flat = [candle(i, 10, high=10.5, low=9.5) for i in range(4)]
    candles = [
        *flat,
        candle(4, 10.5, high=10.6),  # equal to the 3-candle high: no breakout
        candle(5, 11, high=11.2),  # above 10.6: buy
        candle(6, 10.8, high=11, low=10.4),
        candle(7, 10.5, low=10.0),  # above the 3-candle low (10.4 ... 10): hold
        candle(8, 9.9, low=9.8),  # below 10: sell
    ]
    intents = run(s, candles)
    assert [(i, x.side) for i, x in intents] == [(5, "buy"), (8, "sell")]
    assert intents[0][1].reason == "close above the 3-candle high (10.6)"
    assert intents[1][1].reason == "close below the 3-candle low (10)"


def test_breakout_exits_on_its_own_shorter_channel() -> None:
    s = strategy({"component": "breakout", "params": {"period": 4, "exit_period": 2}}, HALF)
    closes = [10, 10, 10, 10, 12, 13, 12.5, 12.4]
    # The 2-candle low before candle 7 is 12.5: its close, 12.4, sells (the 4-candle low is 10).
    assert [(i, x.side) for i, x in run(s, series(closes))] == [(4, "buy"), (7, "sell")]


GRID = {"component": "grid", "params": {"levels": 3, "spacing_pct": 10, "reference": 100}}


def test_grid_buys_levels_the_price_falls_through_and_sells_each_one_level_up() -> None:
    s = strategy(GRID, {"component": "fixed_fraction", "params": {"fraction": 0.1}})
    # Levels 70, 80, 90, 100, 110, 120, 130 (k = -3..3).
    candles = [
        candle(0, 100),  # at the reference: no level crossed
        candle(1, 95, low=89),  # through 90
        candle(2, 84, low=75, high=86),  # through 80 (90 is held); 90's lot needs 100
        candle(3, 88, high=91),  # 80's lot sells at 90
        candle(4, 85, low=79.5),  # through 80 again
        candle(5, 100, high=101),  # both sell: 90's at 100, 80's at 90
        candle(6, 115, high=116),  # up through 110: no buy on the way up
        candle(7, 108, low=105),  # down through 110: buy
        candle(8, 121, high=121),  # its lot sells at 120
    ]
    got = [(i, x.side, x.kind, x.price, x.reason) for i, x in run(s, candles)]
    assert got == [
        (1, "buy", "limit", Decimal("90.00"), "grid buy at level -1 (90.00)"),
        (2, "buy", "limit", Decimal("80.00"), "grid buy at level -2 (80.00)"),
        (3, "sell", "limit", Decimal("90.00"), "grid sell at level -1 (90.00) of level -2"),
        (4, "buy", "limit", Decimal("80.00"), "grid buy at level -2 (80.00)"),
        (5, "sell", "limit", Decimal("100.00"), "grid sell at level 0 (100.00) of level -1"),
        (5, "sell", "limit", Decimal("90.00"), "grid sell at level -1 (90.00) of level -2"),
        (7, "buy", "limit", Decimal("110.00"), "grid buy at level 1 (110.00)"),
        (8, "sell", "limit", Decimal("120.00"), "grid sell at level 2 (120.00) of level 1"),
    ]
    assert s.book.position() == 0
    # Bought 10,000 / 10 at 90 and 80 and 110, each sold 10 (12.5%, 9.1%) higher.
    assert s.book.cash > Decimal(10_000)


def test_grid_buys_every_level_a_long_candle_falls_through_and_centres_on_the_first_close() -> None:
    s = strategy(
        {"component": "grid", "params": {"levels": 4, "spacing_pct": 2.5, "price_decimals": 1}},
        {"component": "fixed_fraction", "params": {"fraction": 0.1}},
    )
    intents = run(s, [candle(0, 200), candle(1, 191, low=189)])
    # 200 * (1 - 0.025 k): 195, 190 reached; 185 not.
    assert [(x.side, x.price, x.quantity) for _, x in intents] == [
        ("buy", Decimal("195.0"), Decimal("5.128205")),  # 1,000 / 195, rounded down
        ("buy", Decimal("190.0"), Decimal("5.263157")),  # 1,000 / 190
    ]


def test_the_grids_top_level_only_sells() -> None:
    s = strategy(GRID, {"component": "fixed_fraction", "params": {"fraction": 0.1}})
    candles = [candle(0, 100), candle(1, 135, high=140), candle(2, 125, low=119)]
    # Down from 135 through 130 (the top: nothing above it to sell at) and 120.
    assert [x.price for _, x in run(s, candles)] == [Decimal("120.00")]


def test_dca_buys_on_its_schedule_and_takes_profit() -> None:
    s = strategy(
        {"component": "dca", "params": {"every": 3, "take_profit_pct": 10, "max_orders": 3}},
        {"component": "fixed_fraction", "params": {"fraction": 0.1}},
    )
    closes = [100, 100, 100, 90, 95, 100, 80, 80, 80, 80, 99, 100]
    got = [(i, x.side, x.reason) for i, x in run(s, series(closes))]
    assert got == [
        (0, "buy", "dca cycle start"),
        (3, "buy", "dca every 3 candles"),
        (6, "buy", "dca every 3 candles"),
        # three buys (max_orders): 10 at 100, 11 at 90, 12.1125 at 80 (a tenth of the equity each);
        # 2,959 paid for 33.1125, 89.36 on average, plus 10%
        (10, "sell", "dca take profit 10% (98.298226)"),
        (11, "buy", "dca cycle start"),
    ]


def test_dca_buys_on_drops_from_the_last_buy() -> None:
    s = strategy(
        {"component": "dca", "params": {"drop_pct": 5, "take_profit_pct": 50}},
        {"component": "fixed_fraction", "params": {"fraction": 0.1}},
    )
    closes = [100, 96, 95, 93, 91, 90.25, 90.3]
    got = [(i, x.reason) for i, x in run(s, series(closes))]
    assert got == [(0, "dca cycle start"), (2, "dca drop from 100"), (5, "dca drop from 95")]


def test_fixed_fraction_sizes_from_equity_within_cash_and_notional_bounds() -> None:
    cross = {"component": "ma_crossover", "params": {"kind": "sma", "fast": 2, "slow": 4}}
    capped = strategy(
        cross,
        {
            "component": "fixed_fraction",
            "params": {"fraction": 0.5, "max_notional": 1234, "quantity_decimals": 2},
        },
    )
    assert [x.quantity for _, x in run(capped, series(CROSS))] == [Decimal("123.40")] * 2
    too_small = strategy(
        cross, {"component": "fixed_fraction", "params": {"fraction": 0.001, "min_notional": 11}}
    )
    assert run(too_small, series(CROSS)) == []  # 10 of 10,000 is under the minimum
    assert too_small.skipped == 1
    broke = strategy(cross, HALF, cash=Decimal("0.5"))
    assert run(broke, series(CROSS)) == []  # min_notional 1
    assert broke.skipped == 1


def test_talipp_history_stays_bounded_on_a_long_stream() -> None:
    s = strategy(
        {"component": "ma_crossover", "params": {"fast": 5, "slow": 50}},
        {"component": "rsi_reversion", "params": {}},
        {"component": "breakout", "params": {"period": 30, "exit_period": 10}},
        HALF,
    )
    for i in range(5_000):
        s.on_candle(candle(i, 100 + (i % 97) - (i % 31), high=110 + i % 7, low=90 - i % 5))
    limit = indicators.keep_for(50) + indicators.PURGE_EVERY
    for _, rule in s._rules:
        for name in ("_fast", "_slow", "_rsi", "_entry", "_exit"):
            ind = getattr(rule, name, None)
            if ind is not None:
                assert len(ind.input_values) <= limit and len(ind.output_values) <= limit


def test_candles_must_come_in_order() -> None:
    s = strategy(RSI, HALF)
    s.on_candle(candle(5, 10))
    for i in (5, 4):
        with pytest.raises(ValueError, match="is not after candle"):
            s.on_candle(candle(i, 10))
    assert s.timeframe == "1h"
