"""The strategy component library: signals, entry and exit rules and one position sizer, as data
(`plutarc_contracts.bots.StrategySpec`) compiled into a pure, deterministic `Strategy` that turns
closed candles into order intents. See docs/strategies.md."""

from .engine import Strategy
from .library import COMPONENTS, DEFAULT_CASH, compile
from .model import (
    DECIMAL,
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
    dec,
)

__all__ = [
    "COMPONENTS",
    "DECIMAL",
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
    "dec",
]
