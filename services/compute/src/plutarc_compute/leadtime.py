"""How long before a window's start a bot's host is woken, per provider.

The lead time is learnt from the provider's recent wakes (``HostProvisioned.took_ms``): the p95 of
the last ``window`` measurements times ``factor`` plus ``margin``, never below the provider's
``floor``. Until ``min_samples`` wakes were measured it is the provider's ``default``. Pure: the
service feeds it the measurements it folds from its own events (docs/compute-scheduler.md).
"""

from __future__ import annotations

import math
from collections import deque
from dataclasses import dataclass, field
from datetime import timedelta


@dataclass(frozen=True)
class ProviderLead:
    """One provider's lead-time rule, in seconds."""

    default: float
    """Used until enough wakes were measured."""
    floor: float
    """The lead time is never shorter."""


DEFAULT_PROVIDERS: dict[str, ProviderLead] = {
    "local": ProviderLead(default=30.0, floor=10.0),
    "memory": ProviderLead(default=30.0, floor=5.0),
    "aws": ProviderLead(default=300.0, floor=120.0),
}
"""Pulumi's local provider wakes in seconds (bench: p95 under 4 s); an EC2 instance with an EIP
association and a user-data boot takes minutes."""


@dataclass(frozen=True)
class LeadTimeSettings:
    """Settings-friendly (plain values): the service builds it from its typed settings."""

    factor: float = 1.5
    """The p95 is multiplied by this ..."""
    margin_seconds: float = 10.0
    """... and this is added."""
    window: int = 200
    """How many recent wakes per provider are kept."""
    min_samples: int = 5
    """Below this many measurements, the provider's default applies."""
    providers: dict[str, ProviderLead] = field(default_factory=lambda: dict(DEFAULT_PROVIDERS))
    unknown: ProviderLead = ProviderLead(default=300.0, floor=60.0)
    """A provider not named in ``providers``."""

    def __post_init__(self) -> None:
        if self.factor < 1 or self.margin_seconds < 0 or self.window < 1 or self.min_samples < 1:
            raise ValueError("factor >= 1, margin_seconds >= 0, window >= 1, min_samples >= 1")


def p95(samples: list[float]) -> float:
    """The nearest-rank 95th percentile (no interpolation: a value that was measured)."""
    ordered = sorted(samples)
    return ordered[max(0, math.ceil(0.95 * len(ordered)) - 1)]


class LeadTimes:
    """Per-provider lead times from measured provisioning times; ``lead(provider)`` is cached and
    recomputed only after a new measurement of that provider."""

    def __init__(self, settings: LeadTimeSettings | None = None) -> None:
        self.settings = settings or LeadTimeSettings()
        self._samples: dict[str, deque[float]] = {}
        self._cache: dict[str, timedelta] = {}

    def record(self, provider: str, took_ms: int) -> None:
        """One wake of ``provider`` took ``took_ms`` from request to the provider's answer."""
        if took_ms < 0:
            raise ValueError(f"took_ms must be >= 0, got {took_ms}")
        samples = self._samples.get(provider)
        if samples is None:
            samples = self._samples[provider] = deque(maxlen=self.settings.window)
        samples.append(took_ms / 1000)
        self._cache.pop(provider, None)

    def lead(self, provider: str) -> timedelta:
        cached = self._cache.get(provider)
        if cached is None:
            cached = self._cache[provider] = timedelta(seconds=self.seconds(provider))
        return cached

    def seconds(self, provider: str) -> float:
        s = self.settings
        rule = s.providers.get(provider, s.unknown)
        samples = self._samples.get(provider)
        if samples is None or len(samples) < s.min_samples:
            return max(rule.default, rule.floor)
        return max(rule.floor, p95(list(samples)) * s.factor + s.margin_seconds)

    def measured(self, provider: str) -> int:
        samples = self._samples.get(provider)
        return 0 if samples is None else len(samples)

    def snapshot(self) -> dict[str, float]:
        """Every provider known (configured or measured) and its lead time in seconds."""
        names = set(self.settings.providers) | set(self._samples)
        return {name: self.seconds(name) for name in sorted(names)}
