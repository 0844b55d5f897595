"""The position sizer: how much each entry buys."""

from __future__ import annotations

from decimal import Decimal
from typing import Annotated

import msgspec

from .model import DECIMAL, ComponentType, Config, ConfigProblem, Sizer, dec

Money = Annotated[float, msgspec.Meta(ge=0, le=1e15)]


class FixedFractionConfig(Config, frozen=True, kw_only=True, forbid_unknown_fields=True):
    fraction: Annotated[float, msgspec.Meta(gt=0, le=1)]
    min_notional: Money = 10.0
    max_notional: Annotated[float, msgspec.Meta(gt=0, le=1e15)] | None = None
    quantity_decimals: Annotated[int, msgspec.Meta(ge=0, le=12)] = 6


def _check(config: FixedFractionConfig) -> None:
    if config.max_notional is not None and config.max_notional < config.min_notional:
        raise ConfigProblem(
            "max_notional",
            f"max_notional ({config.max_notional:g}) is below min_notional "
            f"({config.min_notional:g})",
        )


class FixedFraction(Sizer):
    """Each entry spends ``fraction`` of the equity (cash plus the position at the close), at
    most ``max_notional`` and at most the free cash (spot: no leverage); the quantity is that
    amount over the entry price, rounded down to ``quantity_decimals``. An entry whose rounded
    notional is under ``min_notional`` (or zero) is skipped."""

    def __init__(self, config: FixedFractionConfig) -> None:
        self._fraction = dec(config.fraction)
        self._min = dec(config.min_notional)
        self._max = None if config.max_notional is None else dec(config.max_notional)
        self._step = Decimal(1).scaleb(-config.quantity_decimals)

    def can_enter(self, cash: Decimal) -> bool:
        return cash > 0 and cash >= self._min

    def size(self, *, equity: Decimal, cash: Decimal, price: Decimal) -> Decimal | None:
        notional = DECIMAL.multiply(equity, self._fraction)
        if self._max is not None:
            notional = min(notional, self._max)
        notional = min(notional, cash)
        quantity = DECIMAL.divide(notional, price).quantize(self._step, context=DECIMAL)
        spent = DECIMAL.multiply(quantity, price)
        if quantity <= 0 or spent < self._min:
            return None
        return quantity


FIXED_FRACTION = ComponentType(
    name="fixed_fraction",
    kind="sizer",
    config=FixedFractionConfig,
    build=FixedFraction,
    check=_check,
    summary="a fixed fraction of the equity per entry, within a minimum and maximum notional",
)
