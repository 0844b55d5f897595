"""The platform as the exchange API's tests and the CLI's use it: its exchange gateway
(e2e/exchange_gateway.py) holds the sealing key `sealing`."""

from __future__ import annotations

from collections.abc import AsyncIterator
from dataclasses import dataclass
from pathlib import Path

import pytest
from plutarc_exchange.sealing import SealingKey

from .conftest import Platform, running_platform
from .exchange_gateway import sealing_key


@dataclass
class Exchange:
    platform: Platform
    sealing: SealingKey


@pytest.fixture
async def exchange(kafka_bootstrap: str, tmp_path: Path) -> AsyncIterator[Exchange]:
    async with running_platform(kafka_bootstrap, tmp_path) as platform:
        yield Exchange(platform, sealing_key(tmp_path / "exchange"))
