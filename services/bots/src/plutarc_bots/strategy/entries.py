"""The entry components: rules with their own schedule (DCA) or price levels (grid), holding
several lots and closing their own."""

from __future__ import annotations

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
    """Levels ``i = 1..levels`` below the reference at ``reference * (1 - i * spacing_pct/100)``
    (rounded half-even to ``price_decimals``). A candle whose low reaches a level with no lot buys
    one there (a limit order at the level); the lot sells one level up (level ``i - 1``; level 0
    is the reference) on a later candle whose high reaches it."""

    def __init__(self, config: GridConfig) -> None:
        self._config = config
        self._floats: list[float] = []
        # A level's proposals are the same every time: made once, when the grid is placed.
        self._buys: list[Proposal] = []
        self._sells: list[Proposal] = []

    def _place(self, reference: float) -> None:
        step = DECIMAL.divide(dec(self._config.spacing_pct), Decimal(100))
        tick = Decimal(1).scaleb(-self._config.price_decimals)
        ref = dec(reference)
        prices = []
        for i in range(self._config.levels + 1):
            price = DECIMAL.multiply(ref, DECIMAL.subtract(Decimal(1), DECIMAL.multiply(step, i)))
            prices.append(price.quantize(tick, rounding=ROUND_HALF_EVEN, context=DECIMAL))
        self._floats = [float(price) for price in prices]
        reached = [f"grid level {i} reached" for i in range(len(prices))]
        self._buys = [Proposal("enter", reached[i], price, i) for i, price in enumerate(prices)]
        self._sells = [
            Proposal("exit", reached[i - 1], prices[i - 1], i) for i in range(1, len(prices))
        ]
        self._sells.insert(0, self._buys[0])  # level 0, the reference, never holds a lot

    def on_candle(self, candle: Candle, book: Book) -> Sequence[Proposal]:
        if not self._floats:
            self._place(self._config.reference or candle.close)
        lots, floats = self.lots, self._floats
        out: list[Proposal] | None = None
        sold: list[object] = []
        if lots:
            high = candle.high
            for level in lots:
                assert isinstance(level, int)
                if high >= floats[level - 1]:
                    sold.append(level)
                    out = out or []
                    out.append(self._sells[level])
        low = candle.low
        for level in range(1, len(floats)):
            if floats[level] < low:
                break
            if level not in lots and level not in sold:
                out = out or []
                out.append(self._buys[level])
        return out or NOTHING


GRID = ComponentType(
    name="grid",
    kind="entry",
    config=GridConfig,
    build=Grid,
    check=_check_grid,
    summary="grid: buy at levels below a reference price, each lot sold one level up",
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
