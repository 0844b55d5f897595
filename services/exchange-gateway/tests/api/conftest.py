"""The platform (identity, support, bots and the API on real Kafka) with an exchange gateway
beside it (tests/api/gateway.py), for the exchange API module's tests and the CLI's."""

from __future__ import annotations

import asyncio
import sys
from collections.abc import AsyncIterator
from dataclasses import dataclass
from pathlib import Path

import pytest
from plutarc_exchange.api.models import sealing_key
from plutarc_exchange.sealing import SealingKey
from plutarc_runtime.service import Service
from plutarc_runtime.settings import RuntimeSettings
from plutarc_testkit.waiting import until
from sqlalchemy import select

_ROOT = Path(__file__).resolve().parents[4]
if str(_ROOT) not in sys.path:
    sys.path.append(str(_ROOT))

from e2e.conftest import (  # noqa: E402
    FAST_GROUPS,
    Platform,
    _started,
    fresh_identity_topics,
    running_platform,
)

from .gateway import gateway_spec  # noqa: E402


@dataclass
class Exchange:
    platform: Platform
    gateway: Service
    sealing: SealingKey


@pytest.fixture
async def exchange(kafka_bootstrap: str, tmp_path: Path) -> AsyncIterator[Exchange]:
    await fresh_identity_topics(kafka_bootstrap, ("exchange",))
    sealing = SealingKey.load_or_create(tmp_path / "exchange" / "sealing-key")
    async with running_platform(kafka_bootstrap, tmp_path) as platform:
        gateway = Service(
            gateway_spec(tmp_path / "exchange", sealing),
            RuntimeSettings(kafka_bootstrap=kafka_bootstrap, data_dir=tmp_path / "exchange"),
            consumer_overrides=FAST_GROUPS,
        )
        stop = asyncio.Event()
        task = asyncio.create_task(gateway.run(stop))
        try:
            await _started("exchange-gateway", gateway, task)
            await until(
                lambda: platform.api.reader.one(select(sealing_key)),
                what="the sealing key in the API's read model",
                timeout=30,
            )
            yield Exchange(platform, gateway, sealing)
        finally:
            stop.set()
            await asyncio.wait_for(task, 30)
