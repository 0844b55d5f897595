"""The compute API's read models and usage statement at the issue's scale: 1,000 bots, one
window a day for 30 days, each a wake and a sleep (7 events), folded by the projection into SQLite
in batches of 500; then the 30-day statement of the workspace (rows read and arithmetic) and its
response body."""

from __future__ import annotations

import statistics
import time
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from pathlib import Path
from typing import Any
from uuid import uuid4

from plutarc_compute.api import queries
from plutarc_compute.api.models import HostsProjection
from plutarc_compute.api.usage import statement
from plutarc_contracts import Envelope, default_registry
from plutarc_contracts import compute as c
from sqlalchemy import create_engine

T0 = datetime(2026, 11, 1, tzinfo=UTC)
WS = "ws-bench"


class _Prices:
    def hourly(self, provider: str, size: str) -> Decimal:
        return Decimal("0.0208")

    def address_hourly(self, provider: str) -> Decimal:
        return Decimal("0.005")


def _events(bots: int, days: int) -> Iterator[Envelope]:
    registry = default_registry()
    for day in range(days):
        for n in range(bots):
            bot = f"bot-{n:05d}"
            ids = {"workspace_id": WS, "bot_id": bot}
            start = T0 + timedelta(days=day, hours=8, minutes=n % 600)
            end = start + timedelta(hours=8)
            payloads: list[tuple[Any, datetime]] = [
                (
                    c.WindowPlanned(
                        **ids,
                        provider="aws",
                        starts_at=start,
                        ends_at=end,
                        wake_at=start - timedelta(minutes=2),
                        end_rule="flatten",
                        time_zone="UTC",
                    ),
                    start - timedelta(hours=16),
                ),
                (
                    c.ProvisioningRequested(
                        **ids, provider="aws", attempt=1, size="t3.small", reason="window"
                    ),
                    start - timedelta(minutes=2),
                ),
                (
                    c.HostProvisioned(
                        **ids,
                        provider="aws",
                        address="203.0.113.1",
                        host_id=f"i-{day}",
                        size="t3.small",
                        took_ms=50_000,
                    ),
                    start - timedelta(minutes=1),
                ),
                (c.BotStartedOnHost(**ids, address="203.0.113.1"), start),
                (c.HostDrained(**ids, reason="flat"), end),
                (c.BotStoppedOnHost(**ids), end + timedelta(seconds=5)),
                (
                    c.HostDeprovisioned(**ids, address="203.0.113.1", address_kept=True),
                    end + timedelta(minutes=1),
                ),
            ]
            for i, (payload, at) in enumerate(payloads):
                name, version = registry.type_name_of(type(payload))
                yield Envelope(
                    event_id=str(uuid4()),
                    type=name,
                    schema_version=version,
                    occurred_at=at,
                    producer="compute",
                    stream_id=bot,
                    stream_position=day * 7 + i + 1,
                    workspace_id=WS,
                    actor="system:compute",
                    correlation_id=str(uuid4()),
                    causation_id=None,
                    payload=payload,
                )


def run(base: Path, quick: bool = False, bots: int = 1_000, days: int = 30) -> Iterator[str]:
    if quick:
        bots, days = 200, 7
    path = base / "compute_api_bench.db"
    path.unlink(missing_ok=True)
    engine = create_engine(f"sqlite:///{path}")
    projection = HostsProjection()
    projection.metadata.create_all(engine)
    events = list(_events(bots, days))
    started = time.perf_counter()
    for start in range(0, len(events), 500):
        with engine.begin() as conn:
            projection.apply(conn, events[start : start + 500])
    took = time.perf_counter() - started
    yield (
        f"compute_api: projection folded {len(events):,} events ({bots:,} bots x {days} days) "
        f"in {took:.2f} s: {len(events) / took:,.0f} events/s (SQLite, batches of 500)"
    )
    period = (T0, T0 + timedelta(days=days))
    now = period[1] + timedelta(days=1)
    reads, sums, bodies = [], [], []
    for _ in range(5):
        t0 = time.perf_counter()
        with engine.connect() as conn:
            lives, spans = queries.usage_rows(conn, WS, period[0], period[1])
        t1 = time.perf_counter()
        found = statement(WS, period[0], period[1], now, lives, spans, _Prices())
        t2 = time.perf_counter()
        body = queries.usage_out(found).model_dump_json(by_alias=True)
        t3 = time.perf_counter()
        reads.append(t1 - t0)
        sums.append(t2 - t1)
        bodies.append(t3 - t2)
    total = found.total()
    yield (
        f"compute_api: {days}-day statement of {bots:,} bots ({len(spans):,} intervals): "
        f"rows read {statistics.median(reads) * 1000:.0f} ms, arithmetic "
        f"{statistics.median(sums) * 1000:.0f} ms, body {statistics.median(bodies) * 1000:.0f} ms "
        f"({len(body) / 1024:,.0f} KiB), median of 5"
    )
    yield (
        f"compute_api: {total.compute_hours} compute hours against {total.always_on_hours} "
        f"always-on; {total.cost} USD against {total.always_on_cost} (saved {total.saved_cost})"
    )
    engine.dispose()
    path.unlink(missing_ok=True)
