"""Abuse limits: token buckets per API token and per client address, and login throttling."""

from __future__ import annotations

import math
import time
from collections import deque
from collections.abc import Callable


class TokenBuckets:
    """`rate` requests per second with bursts up to `burst`, per key; memory bounded by `max_keys`."""

    def __init__(
        self,
        rate: float,
        burst: int,
        now: Callable[[], float] = time.monotonic,
        max_keys: int = 100_000,
    ) -> None:
        self.rate, self.burst, self.now, self.max_keys = rate, float(burst), now, max_keys
        self._buckets: dict[str, tuple[float, float]] = {}

    def take(self, key: str) -> float:
        """0 if allowed (and a token is taken); otherwise the seconds to wait before retrying."""
        now = self.now()
        tokens, last = self._buckets.get(key, (self.burst, now))
        tokens = min(self.burst, tokens + (now - last) * self.rate)
        if tokens >= 1:
            if len(self._buckets) >= self.max_keys and key not in self._buckets:
                self._buckets.clear()  # a flood of new keys: start over rather than grow without bound
            self._buckets[key] = (tokens - 1, now)
            return 0.0
        self._buckets[key] = (tokens, now)
        return (1 - tokens) / self.rate


class LoginThrottle:
    """At most `limit` failed logins per key within `window` seconds; then wait until the oldest ages out."""

    def __init__(
        self, limit: int, window: float, now: Callable[[], float] = time.monotonic
    ) -> None:
        self.limit, self.window, self.now = limit, window, now
        self._failures: dict[str, deque[float]] = {}

    def _recent(self, key: str) -> deque[float]:
        failures = self._failures.setdefault(key, deque())
        cutoff = self.now() - self.window
        while failures and failures[0] <= cutoff:
            failures.popleft()
        return failures

    def retry_after(self, key: str) -> int:
        failures = self._recent(key)
        if len(failures) < self.limit:
            return 0
        return max(1, math.ceil(failures[0] + self.window - self.now()))

    def failed(self, key: str) -> None:
        self._recent(key).append(self.now())

    def succeeded(self, key: str) -> None:
        self._failures.pop(key, None)


class Limits:
    """The API's abuse limits, as the request dependencies use them."""

    def __init__(self, settings: object) -> None:
        s: object = settings
        self.per_token = TokenBuckets(s.token_rate, s.token_burst)  # type: ignore[attr-defined]
        self.per_ip = TokenBuckets(s.ip_rate, s.ip_burst)  # type: ignore[attr-defined]
        self.logins = LoginThrottle(s.login_failures, s.login_window_seconds)  # type: ignore[attr-defined]

    async def take_ip(self, address: str) -> float:
        return self.per_ip.take(address)

    async def take_token(self, actor: str) -> float:
        return self.per_token.take(actor)
