"""The signal components: an indicator opens one lot at market and closes it at market."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Annotated, Literal

import msgspec
from talipp.indicators import EMA, RSI, SMA, DonchianChannels

from .indicators import keep_for, trim
from .model import NOTHING, Book, Candle, ComponentType, Config, ConfigProblem, Proposal, Rule

Period = Annotated[int, msgspec.Meta(ge=2, le=1000)]
Threshold = Annotated[float, msgspec.Meta(gt=0, lt=100)]


# --- ma_crossover -----------------------------------------------------------------------------------
class MaCrossoverConfig(Config, frozen=True, kw_only=True, forbid_unknown_fields=True):
    kind: Literal["sma", "ema"] = "ema"
    fast: Period
    slow: Period


def _check_crossover(config: MaCrossoverConfig) -> None:
    if config.fast >= config.slow:
        raise ConfigProblem("fast", f"fast ({config.fast}) must be below slow ({config.slow})")


class MaCrossover(Rule):
    """Buys when the fast average crosses above the slow one (the candle before: at or below;
    this candle: above), sells when it crosses below."""

    def __init__(self, config: MaCrossoverConfig) -> None:
        average = EMA if config.kind == "ema" else SMA
        self._fast = average(config.fast)
        self._slow = average(config.slow)
        self._keep = keep_for(config.slow)
        self._prev: float | None = None
        name = f"{config.kind} {config.fast}"
        slow = f"{config.kind} {config.slow}"
        self._up = f"{name} crossed above {slow}"
        self._down = f"{name} crossed below {slow}"

    def on_candle(self, candle: Candle, book: Book) -> Sequence[Proposal]:
        fast, slow = self._fast, self._slow
        fast.add(candle.close)
        slow.add(candle.close)
        trim(fast, self._keep)
        trim(slow, self._keep)
        s = slow.output_values[-1]
        if s is None:
            return NOTHING
        diff = fast.output_values[-1] - s
        prev, self._prev = self._prev, diff
        if prev is None:
            return NOTHING
        if prev <= 0.0 < diff:
            if not self.lots:
                return (Proposal("enter", self._up),)
        elif prev >= 0.0 > diff and self.lots:
            return (Proposal("exit", self._down),)
        return NOTHING


MA_CROSSOVER = ComponentType(
    name="ma_crossover",
    kind="signal",
    config=MaCrossoverConfig,
    build=MaCrossover,
    check=_check_crossover,
    summary="moving-average crossover (SMA or EMA of the closes): buy on the fast crossing above "
    "the slow, sell on it crossing below",
)


# --- rsi_reversion ----------------------------------------------------------------------------------
class RsiReversionConfig(Config, frozen=True, kw_only=True, forbid_unknown_fields=True):
    period: Annotated[int, msgspec.Meta(ge=2, le=200)] = 14
    low: Threshold = 30.0
    high: Threshold = 70.0


def _check_rsi(config: RsiReversionConfig) -> None:
    if config.low >= config.high:
        raise ConfigProblem("low", f"low ({config.low}) must be below high ({config.high})")


class RsiReversion(Rule):
    """Buys when the RSI of the closes is under ``low`` and nothing is held; sells when it is
    over ``high``."""

    def __init__(self, config: RsiReversionConfig) -> None:
        self._rsi = RSI(config.period)
        self._keep = keep_for(config.period)
        self._low = config.low
        self._high = config.high
        self._label = f"rsi {config.period}"

    def on_candle(self, candle: Candle, book: Book) -> Sequence[Proposal]:
        rsi = self._rsi
        rsi.add(candle.close)
        trim(rsi, self._keep)
        value = rsi.output_values[-1]
        if value is None:
            return NOTHING
        if self.lots:
            if value > self._high:
                return (Proposal("exit", f"{self._label} {value:.2f} over {self._high:g}"),)
        elif value < self._low:
            return (Proposal("enter", f"{self._label} {value:.2f} under {self._low:g}"),)
        return NOTHING


RSI_REVERSION = ComponentType(
    name="rsi_reversion",
    kind="signal",
    config=RsiReversionConfig,
    build=RsiReversion,
    check=_check_rsi,
    summary="RSI mean reversion: buy when the RSI is under a low threshold, sell when it is over "
    "a high one",
)


# --- breakout ---------------------------------------------------------------------------------------
class BreakoutConfig(Config, frozen=True, kw_only=True, forbid_unknown_fields=True):
    period: Annotated[int, msgspec.Meta(ge=2, le=1000)] = 20
    exit_period: Annotated[int, msgspec.Meta(ge=2, le=1000)] | None = None
    """The channel whose lower band closes the position; None: the entry channel."""


class Breakout(Rule):
    """Buys when a candle closes above the highest high of the ``period`` candles before it
    (the Donchian channel's upper band), sells when one closes below the lowest low of the
    ``exit_period`` candles before it."""

    def __init__(self, config: BreakoutConfig) -> None:
        self._entry = DonchianChannels(config.period)
        exit_period = config.exit_period or config.period
        self._exit = self._entry if exit_period == config.period else DonchianChannels(exit_period)
        self._keep = keep_for(max(config.period, exit_period))
        self._up = f"close above the {config.period}-candle high"
        self._down = f"close below the {exit_period}-candle low"

    def on_candle(self, candle: Candle, book: Book) -> Sequence[Proposal]:
        entry, exit_ = self._entry, self._exit
        # The channels of the candles before this one (a close never exceeds its own high).
        upper = entry.output_values[-1] if entry.output_values else None
        lower = exit_.output_values[-1] if exit_.output_values else None
        entry.add(candle)  # talipp reads only .high and .low: the candle itself is its input
        trim(entry, self._keep)
        if exit_ is not entry:
            exit_.add(candle)
            trim(exit_, self._keep)
        if self.lots:
            if lower is not None and candle.close < lower.lb:
                return (Proposal("exit", f"{self._down} ({lower.lb:.8g})"),)
        elif upper is not None and candle.close > upper.ub:
            return (Proposal("enter", f"{self._up} ({upper.ub:.8g})"),)
        return NOTHING


BREAKOUT = ComponentType(
    name="breakout",
    kind="signal",
    config=BreakoutConfig,
    build=Breakout,
    summary="Donchian breakout: buy on a close above the channel of the last N candles, sell on "
    "a close below its lower band",
)
