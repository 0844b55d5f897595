"""Fixtures: each fake venue with the settings that point the real ccxt client at it."""

from __future__ import annotations

import random
from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass, field
from typing import Any

import pytest
from plutarc_exchange.venues.client import VenueClient
from plutarc_exchange.venues.retry import RetryPolicy
from plutarc_testkit.venues.base import FakeVenue
from plutarc_testkit.venues.binance import FakeBinance
from plutarc_testkit.venues.bybit import FakeBybit
from plutarc_testkit.venues.okx import FakeOkx

CREDENTIALS = {"apiKey": "test-key", "secret": "test-secret", "password": "test-passphrase"}


@dataclass(frozen=True)
class Case:
    venue: str
    fake: type[FakeVenue]
    kind: str
    symbol: str
    limit_price: str
    amount: str


CASES = [
    Case("binance", FakeBinance, "spot", "BTC/USDT", "50000", "0.01"),
    Case("bybit", FakeBybit, "spot", "BTC/USDT", "50000", "0.01"),
    Case("bybit", FakeBybit, "perpetual", "BTC/USDT:USDT", "50000", "0.01"),
    Case("okx", FakeOkx, "spot", "BTC/USDT", "50000", "0.01"),
    Case("okx", FakeOkx, "perpetual", "BTC/USDT:USDT", "50000", "1"),
]
SPOT_CASES = [c for c in CASES if c.kind == "spot"]


def case_id(case: Case) -> str:
    return f"{case.venue}-{case.kind}"


@dataclass
class Sleeps:
    """An injected sleep: records what would have been slept and returns at once."""

    waits: list[float] = field(default_factory=list)

    async def __call__(self, seconds: float) -> None:
        self.waits.append(seconds)


@pytest.fixture
def sleeps() -> Sleeps:
    return Sleeps()


ClientFactory = Callable[..., VenueClient]


@pytest.fixture
async def make_client(sleeps: Sleeps) -> AsyncIterator[ClientFactory]:
    made: list[VenueClient] = []

    def make(case: Case, fake: FakeVenue, **overrides: Any) -> VenueClient:
        settings: dict[str, Any] = {
            "url_override": fake.base_url,
            "timeout_ms": 2_000,
            "throttle": False,
            "retry": RetryPolicy(budget_s=10.0, base_s=0.2, cap_s=2.0, max_attempts=6),
            "sleep": sleeps,
            "rng": random.Random(7),
        }
        settings.update(overrides)
        credentials = settings.pop("credentials", CREDENTIALS)
        environment = settings.pop("environment", "live")
        client = VenueClient(case.venue, environment, case.kind, credentials, **settings)
        client.exchange.timeout_on_exit = 0  # ccxt lingers 250 ms on close for TLS shutdowns
        made.append(client)
        return client

    yield make
    for client in made:
        await client.close()
