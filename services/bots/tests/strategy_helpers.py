"""Small hand-made candle series and strategies for the strategy tests."""

from __future__ import annotations

import json
from collections.abc import Iterable
from decimal import Decimal
from pathlib import Path
from typing import Any

import msgspec
from plutarc_bots.strategy import Candle, Intent, Strategy, compile
from plutarc_contracts.bots import ComponentRef, StrategySpec

DATA = Path(__file__).parent / "data"
HOUR = 3_600_000
HALF = {"component": "fixed_fraction", "params": {"fraction": 0.5, "min_notional": 1}}


def candle(i: int, close: float, *, high: float | None = None, low: float | None = None) -> Candle:
    """Candle ``i`` of an hourly series; its open is its close unless high/low say otherwise."""
    return Candle(
        i * HOUR,
        close,
        max(close, high if high is not None else close),
        min(close, low if low is not None else close),
        close,
        1.0,
    )


def series(closes: Iterable[float]) -> list[Candle]:
    return [candle(i, c) for i, c in enumerate(closes)]


def spec(*components: dict[str, Any], timeframe: str = "1h") -> StrategySpec:
    return msgspec.convert({"timeframe": timeframe, "components": list(components)}, StrategySpec)


def strategy(*components: dict[str, Any], cash: Decimal = Decimal(10_000)) -> Strategy:
    return compile(spec(*components), cash=cash)


def run(s: Strategy, candles: Iterable[Candle]) -> list[tuple[int, Intent]]:
    """Every intent with the index of its candle (checking the book's running position)."""
    out = []
    for c in candles:
        out.extend((c.open_time // HOUR, intent) for intent in s.on_candle(c))
        lots = [lot for own in s.book.lots for lot in own.values()]
        assert s.book.position() == sum(lot.quantity for lot in lots)
    return out


def recorded() -> list[Candle]:
    """The committed synthetic BTC/USDT 1h series (data/make_candles.py)."""
    rows = json.loads((DATA / "candles_btc_usdt_1h.json").read_text())["candles"]
    return msgspec.convert(rows, list[Candle])


def ref(component: str, **params: Any) -> ComponentRef:
    return ComponentRef(component=component, params=params)
