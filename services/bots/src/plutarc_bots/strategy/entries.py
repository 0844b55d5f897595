"""The entry components: rules with their own schedule (DCA) or price levels (grid), holding
several lots and closing their own."""

from __future__ import annotations

from bisect import bisect_left
from collections.abc import Sequence
from decimal import ROUND_HALF_EVEN, Decimal
from typing import Annotated

import msgspec

from .model import (
    DECIMAL,
    NOTHING,
    Book,
    Candle,
    ComponentType,
    Config,
    ConfigProblem,
    Proposal,
    Rule,
    dec,
)

Percent = Annotated[float, msgspec.Meta(gt=0, lt=100)]


# --- grid -------------------------------------------------------------------------------------------
class GridConfig(Config, frozen=True, kw_only=True, forbid_unknown_fields=True):
    levels: Annotated[int, msgspec.Meta(ge=1, le=100)]
    """Levels on each side of the reference."""
    spacing_pct: Annotated[float, msgspec.Meta(gt=0, le=50)]
    reference: Annotated[float, msgspec.Meta(gt=0)] | None = None
    """The grid's centre; None: the first candle's close."""
    price_decimals: Annotated[int, msgspec.Meta(ge=0, le=12)] = 2


def _check_grid(config: GridConfig) -> None:
    if config.levels * config.spacing_pct >= 100:
        raise ConfigProblem(
            "levels",
            f"{config.levels} levels {config.spacing_pct:g}% apart reach zero or below",
        )


class Grid(Rule):
    """Levels ``k = -levels..levels`` around the reference at
    ``reference * (1 + k * spacing_pct / 100)``, rounded half-even to ``price_decimals``.

    A candle that trades down through a level (its low at or under the level, the close before it
    above) buys a lot there with a limit at the level, unless that level holds one; each lot sells
    one level up, with a limit there, on a later candle whose high reaches it. So a buy below is
    always paired with a sell above; the top level only sells. Before the first candle the "close
    before" is that candle's open.
    """

    def __init__(self, config: GridConfig) -> None:
        self._config = config
        self._floats: list[float] = []
        # A level's proposals are the same every time: made once, when the grid is placed.
        self._buys: list[Proposal] = []
        self._sells: list[Proposal] = []
        self._prev = 0.0

    def _place(self, reference: float) -> None:
        levels = self._config.levels
        step = DECIMAL.divide(dec(self._config.spacing_pct), Decimal(100))
        tick = Decimal(1).scaleb(-self._config.price_decimals)
        ref = dec(reference)
        prices = []
        for k in range(-levels, levels + 1):
            price = DECIMAL.multiply(ref, DECIMAL.add(Decimal(1), DECIMAL.multiply(step, k)))
            prices.append(price.quantize(tick, rounding=ROUND_HALF_EVEN, context=DECIMAL))
        self._floats = [float(price) for price in prices]
        self._buys = [
            Proposal("enter", f"grid buy at level {k} ({price})", price, k)
            for k, price in zip(range(-levels, levels), prices, strict=False)
        ]
        self._sells = [
            Proposal("exit", f"grid sell at level {k + 1} ({above}) of level {k}", above, k)
            for k, above in zip(range(-levels, levels), prices[1:], strict=True)
        ]

    def on_candle(self, candle: Candle, book: Book) -> Sequence[Proposal]:
        if not self._floats:
            self._place(self._config.reference or candle.close)
            self._prev = candle.open
        lots, floats, levels = self.lots, self._floats, self._config.levels
        out: list[Proposal] | None = None
        if lots:
            high = candle.high
            for k in lots:
                assert isinstance(k, int)
                if high >= floats[k + levels + 1]:
                    out = out or []
                    out.append(self._sells[k + levels])
        # The levels under the close before, down to this candle's low; the top one never buys.
        low = candle.low
        j = min(bisect_left(floats, self._prev), len(floats) - 1) - 1
        while j >= 0 and floats[j] >= low:
            if j - levels not in lots:
                out = out or []
                out.append(self._buys[j])
            j -= 1
        self._prev = candle.close
        return out or NOTHING


GRID = ComponentType(
    name="grid",
    kind="entry",
    config=GridConfig,
    build=Grid,
    check=_check_grid,
    summary="grid: levels around a reference price; a lot bought at a level the price falls "
    "through, sold one level up",
)


# --- dca --------------------------------------------------------------------------------------------
class DcaConfig(Config, frozen=True, kw_only=True, forbid_unknown_fields=True):
    every: Annotated[int, msgspec.Meta(ge=1, le=100_000)] | None = None
    """Buy again every this many candles after the last buy."""
    drop_pct: Percent | None = None
    """Buy again when the close is this far below the last buy's price."""
    take_profit_pct: Annotated[float, msgspec.Meta(gt=0, le=1000)]
    max_orders: Annotated[int, msgspec.Meta(ge=1, le=1000)] = 10
    """Buys per cycle, the first included."""


def _check_dca(config: DcaConfig) -> None:
    if config.every is None and config.drop_pct is None:
        raise ConfigProblem("every", "give every, drop_pct or both")


class Dca(Rule):
    """Cycles: a first buy at market on the first candle holding nothing; then a buy every
    ``every`` candles and/or whenever the close is ``drop_pct`` below the last buy's price, up to
    ``max_orders`` buys; all the cycle's lots sell at market when the close reaches the average
    price paid plus ``take_profit_pct``. The next candle starts a new cycle."""

    def __init__(self, config: DcaConfig) -> None:
        self._every = config.every
        self._drop = None if config.drop_pct is None else 1.0 - config.drop_pct / 100.0
        self._tp = DECIMAL.add(Decimal(1), DECIMAL.divide(dec(config.take_profit_pct), 100))
        self._tp_label = f"{config.take_profit_pct:g}%"
        self._max = config.max_orders
        self._since = 0
        self._seen = 0
        self._target = 0.0
        self._last_buy = 0.0

    def _refresh(self) -> None:
        """After the lots changed: the last buy's price and the take-profit price."""
        quantity = sum((lot.quantity for lot in self.lots.values()), Decimal(0))
        cost = sum(
            (DECIMAL.multiply(lot.quantity, lot.price) for lot in self.lots.values()), Decimal(0)
        )
        average = DECIMAL.divide(cost, quantity)
        self._target = float(DECIMAL.multiply(average, self._tp))
        self._last_buy = float(self.lots[max(self.lots, key=_number)].price)
        self._seen = len(self.lots)

    def on_candle(self, candle: Candle, book: Book) -> Sequence[Proposal]:
        lots = self.lots
        if not lots:
            self._since = 0
            self._seen = 0
            return (Proposal("enter", "dca cycle start"),)
        if len(lots) != self._seen:
            self._since = 0
            self._refresh()
        self._since += 1
        close = candle.close
        if close >= self._target:
            return (Proposal("exit", f"dca take profit {self._tp_label} ({self._target:.8g})"),)
        if len(lots) >= self._max:
            return NOTHING
        if self._every is not None and self._since >= self._every:
            return (Proposal("enter", f"dca every {self._every} candles"),)
        if self._drop is not None and close <= self._last_buy * self._drop:
            return (Proposal("enter", f"dca drop from {self._last_buy:.8g}"),)
        return NOTHING


def _number(key: object) -> int:
    assert isinstance(key, int)
    return key


DCA = ComponentType(
    name="dca",
    kind="entry",
    config=DcaConfig,
    build=Dca,
    check=_check_dca,
    summary="dollar-cost averaging: periodic buys and/or buys on drops, with a take-profit exit",
)
