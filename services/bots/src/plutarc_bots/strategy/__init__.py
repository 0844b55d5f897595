"""The strategy component library: signals, entry and exit rules and one position sizer, as data
(`plutarc_contracts.bots.StrategySpec`) compiled into a pure, deterministic `Strategy` that turns
closed candles into order intents. See docs/strategies.md."""

from .engine import Strategy
from .library import COMPONENTS, DEFAULT_CASH, compile
from .model import (
    KINDS,
    NOTHING,
    Book,
    Candle,
    ComponentType,
    Config,
    ConfigProblem,
    Fill,
    Intent,
    Kind,
    Lot,
    Proposal,
    Rule,
    Sizer,
)

__all__ = [
    "COMPONENTS",
    "DEFAULT_CASH",
    "KINDS",
    "NOTHING",
    "Book",
    "Candle",
    "ComponentType",
    "Config",
    "ConfigProblem",
    "Fill",
    "Intent",
    "Kind",
    "Lot",
    "Proposal",
    "Rule",
    "Sizer",
    "Strategy",
    "compile",
]
