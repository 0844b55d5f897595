"""The shapes a strategy works with, and the interface a component implements.

A component is a `ComponentType`: a name, a kind, a typed configuration (a frozen msgspec Struct
that forbids unknown fields) and a factory that builds the component's incremental state from one
configuration. Components of kind ``signal``, ``entry`` and ``exit`` build a `Rule`, which reads
each candle and proposes entries and exits; the one ``sizer`` builds a `Sizer`, which turns an
entry into a quantity. See docs/strategies.md.
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import Callable, Hashable, Sequence
from dataclasses import dataclass
from decimal import ROUND_DOWN, Context, Decimal
from typing import Any, Generic, Literal, NamedTuple, TypeVar

import msgspec

Kind = Literal["signal", "entry", "exit", "sizer"]
"""- ``signal``: an indicator that opens a position (market buy) on one condition and closes it
  (market sell) on another; at most one open lot at a time.
- ``entry``: an entry rule with its own schedule or price levels (DCA, grid); may hold several
  lots and closes its own lots (a take profit, a grid's sell one level up).
- ``exit``: closes every lot of the strategy on its condition (a stop loss); opens nothing.
- ``sizer``: how much each entry buys. A strategy has exactly one.
"""
KINDS: tuple[str, ...] = Kind.__args__  # type: ignore[attr-defined]
ENTRY_KINDS = frozenset({"signal", "entry"})

Side = Literal["buy", "sell"]
OrderKind = Literal["market", "limit"]

DECIMAL = Context(prec=28, rounding=ROUND_DOWN)
"""The context of every Decimal operation of a strategy (never the thread's own context, which a
host could change): 28 significant digits, rounding towards zero."""


def dec(value: float) -> Decimal:
    """A float as the Decimal of its shortest repr: ``0.1`` is exactly ``Decimal("0.1")``."""
    return Decimal(repr(value))


class Candle(msgspec.Struct, frozen=True, array_like=True, gc=False):
    """One closed candle, encoded as ccxt's OHLCV row ``[open_time, open, high, low, close,
    volume]``; ``open_time`` in milliseconds since the epoch (UTC). Prices are floats, as ccxt and
    talipp have them."""

    open_time: int
    open: float
    high: float
    low: float
    close: float
    volume: float


class Intent(msgspec.Struct, frozen=True, kw_only=True):
    """An order the strategy wants, decided at the close of the candle opened at
    ``candle_time``. ``price`` is the limit price (None for a market order); ``quantity`` is in
    the base currency, rounded down to the sizer's step. ``id`` (``<candle_time>-<n>``, n counting
    the candle's intents from 0) is unique within one run and the same in every run."""

    id: str
    candle_time: int
    side: Side
    kind: OrderKind
    price: Decimal | None
    quantity: Decimal
    component: str
    index: int
    """The component's position in ``spec.components``."""
    reason: str


class Fill(msgspec.Struct, frozen=True, kw_only=True):
    """An execution reported for one intent (issue 11's gateway): ``quantity`` at ``price``."""

    intent_id: str
    quantity: Decimal
    price: Decimal


@dataclass(slots=True)
class Lot:
    """A quantity one component bought, at ``price`` (the paper fill, or the real one)."""

    quantity: Decimal
    price: Decimal


class Proposal(NamedTuple):
    """What a rule wants on this candle. ``action`` ``enter`` buys (the sizer says how much) as a
    lot keyed ``lot`` (None: the strategy numbers it); ``exit`` sells the lot ``lot``, or, with
    None, every lot of the component (of the whole strategy for an ``exit`` component).
    ``price`` None is a market order filled (on paper) at the close; a limit order is filled (on
    paper) at its price, so a rule proposes one only when the candle traded through it."""

    action: Literal["enter", "exit"]
    reason: str
    price: Decimal | None = None
    lot: Hashable | None = None


NOTHING: tuple[Proposal, ...] = ()


class Book:
    """The strategy's own account of its position: free ``cash`` (quote currency) and each
    component's open lots (``lots[i]``: those of ``spec.components[i]``). Rules read it; only the
    strategy changes it, and keeps ``held``, the sum of every lot's quantity, as it does."""

    __slots__ = ("cash", "held", "lots")

    def __init__(self, cash: Decimal, components: int) -> None:
        self.cash = cash
        self.held = Decimal(0)
        self.lots: list[dict[Hashable, Lot]] = [{} for _ in range(components)]

    def position(self) -> Decimal:
        return self.held

    def equity(self, close: Decimal) -> Decimal:
        return DECIMAL.add(self.cash, DECIMAL.multiply(self.position(), close))


class Rule(ABC):
    """The incremental state of a ``signal``, ``entry`` or ``exit`` component.

    ``on_candle`` is called once per closed candle, in order, and returns `NOTHING` or a few
    proposals. ``lots`` are the component's own open lots (the strategy keeps them: after an
    entry is filled, its lot is there on the next candle). It must be a pure function of the
    candles seen so far and of ``lots``: no clock, no randomness, no I/O.
    """

    lots: dict[Hashable, Lot]

    @abstractmethod
    def on_candle(self, candle: Candle, book: Book) -> Sequence[Proposal]: ...


class Sizer(ABC):
    """The state of the ``sizer``: the quantity an entry at ``price`` buys, or None to skip it."""

    @abstractmethod
    def size(self, *, equity: Decimal, cash: Decimal, price: Decimal) -> Decimal | None: ...

    def can_enter(self, cash: Decimal) -> bool:
        """False when no entry could be sized with ``cash``: the strategy then skips the
        candle's entries without asking (a spent strategy's rules keep proposing)."""
        return True


C = TypeVar("C", bound=msgspec.Struct)


class ConfigProblem(Exception):
    """Raised by a component's ``check``: ``field`` is a parameter name (or path inside the
    parameters), ``detail`` what is wrong."""

    def __init__(self, field: str, detail: str) -> None:
        super().__init__(detail)
        self.field = field
        self.detail = detail


@dataclass(frozen=True)
class ComponentType(Generic[C]):
    """A component of the library. ``build`` makes a fresh state per compiled strategy;
    ``check`` (optional) tests rules between fields that msgspec's constraints cannot express and
    raises `ConfigProblem`."""

    name: str
    kind: Kind
    config: type[C]
    build: Callable[[C], Rule | Sizer]
    summary: str
    check: Callable[[C], None] | None = None

    def parse(self, params: dict[str, Any]) -> C:
        """The typed configuration (raises msgspec.ValidationError, or ConfigProblem)."""
        config = msgspec.convert(params, self.config)
        if self.check is not None:
            self.check(config)
        return config


class Config(msgspec.Struct, frozen=True, kw_only=True, forbid_unknown_fields=True):
    """Base for components' configurations."""
