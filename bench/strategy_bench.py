"""The strategy library's speed on one core (goal, issue 10: >= 50,000 candles/s for a crossover).

A fixed-seed random walk of `candles` hourly candles (0.6% hourly volatility, built once, in
memory) goes through freshly compiled strategies, paper fills on: the EMA 9/21 crossover with a
fixed-fraction sizer (the goal), each component alone with that sizer, and all six at once. Each
figure is the median of `repeats` runs; it counts everything `Strategy.on_candle` does (talipp's
indicators, the bounded purge, the decisions, the Decimal sizing of the intents). Also: the sizer's
`size()` alone (each call sizes an entry), and decoding ccxt OHLCV rows from JSON into candles (what a feed costs before the
strategy runs).
"""

from __future__ import annotations

import gc
import math
import random
import statistics
import time
from collections.abc import Iterator
from decimal import Decimal
from pathlib import Path

import msgspec
from plutarc_bots.strategy import Candle, Strategy, compile
from plutarc_bots.strategy.sizing import FixedFraction, FixedFractionConfig
from plutarc_contracts.bots import ComponentRef, StrategySpec

GOAL = 50_000
SIZER = ComponentRef(component="fixed_fraction", params={"fraction": 0.1})
CASES: list[tuple[str, list[ComponentRef]]] = [
    (
        "ma_crossover(ema 9/21)",
        [ComponentRef(component="ma_crossover", params={"fast": 9, "slow": 21})],
    ),
    (
        "ma_crossover(sma 50/200)",
        [ComponentRef(component="ma_crossover", params={"kind": "sma", "fast": 50, "slow": 200})],
    ),
    ("rsi_reversion(14, 30/70)", [ComponentRef(component="rsi_reversion", params={})]),
    (
        "breakout(20, exit 10)",
        [ComponentRef(component="breakout", params={"period": 20, "exit_period": 10})],
    ),
    (
        "grid(20 levels a side, 0.5%)",
        [ComponentRef(component="grid", params={"levels": 20, "spacing_pct": 0.5})],
    ),
    (
        "dca(every 24, drop 2%, tp 3%)",
        [ComponentRef(component="dca", params={"every": 24, "drop_pct": 2, "take_profit_pct": 3})],
    ),
]


def _candles(count: int) -> list[Candle]:
    rng = random.Random(7)
    price = 40_000.0
    out = []
    for i in range(count):
        open_ = price
        price = open_ * math.exp(rng.gauss(0.0, 0.006))
        high = max(open_, price) * (1.0 + abs(rng.gauss(0.0, 0.002)))
        low = min(open_, price) * (1.0 - abs(rng.gauss(0.0, 0.002)))
        out.append(Candle(i * 3_600_000, open_, high, low, price, 100.0))
    return out


def _rate(components: list[ComponentRef], candles: list[Candle], repeats: int) -> tuple[float, int]:
    rates = []
    intents = 0
    for _ in range(repeats):
        strategy: Strategy = compile(StrategySpec(timeframe="1h", components=components))
        on_candle = strategy.on_candle
        intents = 0
        t0 = time.perf_counter()
        for c in candles:
            intents += len(on_candle(c))
        rates.append(len(candles) / (time.perf_counter() - t0))
    return statistics.median(rates), intents


def run(base: Path, quick: bool, candles: int = 200_000, repeats: int = 3) -> Iterator[str]:
    del base
    if quick:
        candles, repeats = 20_000, 1
    series = _candles(candles)

    name, components = CASES[0]
    rate, intents = _rate([*components, SIZER], series, repeats)
    verdict = "met" if rate >= GOAL else "MISSED"
    yield (
        f"strategy: {name} + fixed_fraction, {candles:,} candles: {rate:,.0f} candles/s "
        f"(goal >= {GOAL:,}/s {verdict}; {intents:,} intents)"
    )
    for name, components in CASES[1:]:
        rate, intents = _rate([*components, SIZER], series, repeats)
        yield f"  {name} + fixed_fraction: {rate:,.0f} candles/s ({intents:,} intents)"
    everything = [ref for _, refs in CASES for ref in refs] + [SIZER]
    rate, intents = _rate(everything, series, repeats)
    yield f"  all six components in one strategy: {rate:,.0f} candles/s ({intents:,} intents)"

    sizer = FixedFraction(FixedFractionConfig(fraction=0.1))
    equity, cash, price = Decimal("10123.45"), Decimal("9000.5"), Decimal("40123.17")
    calls = candles
    t0 = time.perf_counter()
    for _ in range(calls):
        sizer.size(equity=equity, cash=cash, price=price)
    yield f"  fixed_fraction.size() alone: {calls / (time.perf_counter() - t0):,.0f} entries/s"

    rows = msgspec.json.encode(series)
    decodes = []
    for _ in range(repeats):
        gc.collect()
        t0 = time.perf_counter()
        msgspec.json.decode(rows, type=list[Candle])
        decodes.append(candles / (time.perf_counter() - t0))
    yield f"  decoding OHLCV JSON rows into candles: {statistics.median(decodes):,.0f}/s"
