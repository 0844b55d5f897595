"""The paper fill engine: fills paper orders from a venue's public book and trades as the venue
would, queue position, consumed liquidity, fees, rules, latency and balances included. Pure and
deterministic; see docs/paper-engine.md."""

from .engine import (
    BAD_PRECISION,
    BELOW_MIN_AMOUNT,
    BELOW_MIN_NOTIONAL,
    CANCEL_NOT_OPEN,
    DUPLICATE,
    INSUFFICIENT_FUNDS,
    INVALID,
    NO_LIQUIDITY,
    POST_ONLY_WOULD_TAKE,
    REDUCE_ONLY_WOULD_INCREASE,
    PaperEngine,
)
from .latency import LatencyModel
from .orders import OrderView, PaperOrder
from .rules import DECIMAL_PLACES, TICK_SIZE, MarketRules

__all__ = [
    "BAD_PRECISION",
    "BELOW_MIN_AMOUNT",
    "BELOW_MIN_NOTIONAL",
    "CANCEL_NOT_OPEN",
    "DECIMAL_PLACES",
    "DUPLICATE",
    "INSUFFICIENT_FUNDS",
    "INVALID",
    "NO_LIQUIDITY",
    "POST_ONLY_WOULD_TAKE",
    "REDUCE_ONLY_WOULD_INCREASE",
    "TICK_SIZE",
    "LatencyModel",
    "MarketRules",
    "OrderView",
    "PaperEngine",
    "PaperOrder",
]
