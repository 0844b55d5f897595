"""Adding a component: the worked example of docs/strategies.md, a stop loss (kind ``exit``)."""

from __future__ import annotations

from collections.abc import Sequence
from decimal import Decimal
from typing import Annotated

import msgspec
import pytest
from plutarc_bots.strategy import (
    COMPONENTS,
    DECIMAL,
    NOTHING,
    Book,
    Candle,
    ComponentType,
    Config,
    Proposal,
    Rule,
    compile,
)
from plutarc_runtime.domain import Invalid

from .strategy_helpers import HALF, run, series, spec


class StopLossConfig(Config, frozen=True, kw_only=True, forbid_unknown_fields=True):
    loss_pct: Annotated[float, msgspec.Meta(gt=0, lt=100)]


class StopLoss(Rule):
    """Sells everything the strategy holds when a close is ``loss_pct`` below the average price
    paid for it."""

    def __init__(self, config: StopLossConfig) -> None:
        self._keep = 1.0 - config.loss_pct / 100.0
        self._label = f"stop loss {config.loss_pct:g}%"

    def on_candle(self, candle: Candle, book: Book) -> Sequence[Proposal]:
        held = book.position()
        if not held:
            return NOTHING
        paid = sum(
            DECIMAL.multiply(lot.quantity, lot.price) for own in book.lots for lot in own.values()
        )
        if candle.close * float(held) <= float(paid) * self._keep:
            return (Proposal("exit", self._label),)
        return NOTHING


STOP_LOSS = ComponentType(
    name="stop_loss",
    kind="exit",
    config=StopLossConfig,
    build=StopLoss,
    summary="sell everything when the close falls loss_pct below the average price paid",
)
LIBRARY = {**COMPONENTS, STOP_LOSS.name: STOP_LOSS}


def test_an_exit_component_closes_the_lots_of_every_component() -> None:
    s = compile(
        spec(
            {"component": "dca", "params": {"every": 2, "take_profit_pct": 50}},
            {"component": "stop_loss", "params": {"loss_pct": 10}},
            HALF,
        ),
        components=LIBRARY,
    )
    closes = [100, 100, 100, 95, 90, 87, 86]
    got = [(i, x.side, x.quantity, x.component, x.reason) for i, x in run(s, series(closes))]
    # 50 at 100, then half of 10,000 (5,000 cash, 50 at 100) = 50 more: 100 at 100 on average;
    # the close of 90 is 10% under it: the stop sells, and dca's buy due then is not taken; a new
    # cycle starts on the next candle (half of 9,000 at 87).
    assert got == [
        (0, "buy", Decimal(50), "dca", "dca cycle start"),
        (2, "buy", Decimal(50), "dca", "dca every 2 candles"),
        (4, "sell", Decimal(100), "stop_loss", "stop loss 10%"),
        (5, "buy", Decimal("51.724137"), "dca", "dca cycle start"),
    ]


def test_the_builtin_library_does_not_know_it() -> None:
    with pytest.raises(Invalid) as caught:
        compile(spec({"component": "stop_loss", "params": {"loss_pct": 10}}, HALF))
    assert caught.value.code == "bots.unknown_component"


def test_its_config_is_validated_like_the_others() -> None:
    with pytest.raises(Invalid) as caught:
        compile(spec(HALF, {"component": "stop_loss", "params": {}}), components=LIBRARY)
    assert (caught.value.code, caught.value.field) == (
        "bots.invalid_component_config",
        "spec.components[1].params.loss_pct",
    )
