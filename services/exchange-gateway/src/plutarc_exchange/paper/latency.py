"""How long an order or a cancel takes to reach a venue, drawn from a seeded generator."""

from __future__ import annotations

import math
import random
from dataclasses import dataclass
from datetime import timedelta


@dataclass(frozen=True, slots=True)
class LatencyModel:
    """Lognormal delay: half the requests take less than ``median_ms``; ``sigma`` is the spread of
    its logarithm (0 makes every delay the median); nothing is faster than ``floor_ms``. A venue's
    figures come from its capability table; ``LatencyModel()`` is no delay at all."""

    median_ms: float = 0.0
    sigma: float = 0.0
    floor_ms: float = 0.0

    def __post_init__(self) -> None:
        if self.median_ms < 0 or self.sigma < 0 or self.floor_ms < 0:
            raise ValueError("latency figures must not be negative")

    @classmethod
    def from_spread(cls, median_ms: float, spread_ms: float, floor_ms: float = 0.0) -> LatencyModel:
        """From a median and a spread in milliseconds, the spread read as the distance from the
        median to the 84th percentile (one sigma up): ``sigma = ln(1 + spread / median)``."""
        sigma = math.log1p(spread_ms / median_ms) if median_ms > 0 else 0.0
        return cls(median_ms=median_ms, sigma=sigma, floor_ms=floor_ms)

    def sample(self, rng: random.Random) -> timedelta:
        if self.median_ms == 0:
            ms = self.floor_ms
        elif self.sigma == 0:
            ms = max(self.median_ms, self.floor_ms)
        else:
            ms = max(rng.lognormvariate(math.log(self.median_ms), self.sigma), self.floor_ms)
        return timedelta(microseconds=round(ms * 1000))
