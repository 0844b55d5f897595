"""The API as it is deployed: its own process, killed with SIGKILL mid-burst and started again,
and several workers behind one port sharing read models, state and limits."""

from __future__ import annotations

import asyncio
import contextlib
from pathlib import Path
from typing import Any

import httpx
import pytest
from aiokafka import AIOKafkaConsumer, TopicPartition
from plutarc_api.core_models import workspace_log
from plutarc_api.runtime import ApiRuntime
from plutarc_api.settings import ApiSettings
from plutarc_runtime.readmodels import sqlite_engine
from plutarc_runtime.readmodels.projector import offsets_of
from plutarc_testkit.waiting import until
from sqlalchemy import Engine, select

from .api_process import ApiProcess

pytestmark = [pytest.mark.kafka, pytest.mark.slow]
PASSWORD = "correct horse battery"


async def register(http: httpx.AsyncClient, name: str) -> str:
    email = f"{name}@example.com"
    r = await http.post(
        "/v1/auth/register", json={"email": email, "password": PASSWORD, "display_name": name}
    )
    assert r.status_code == 201, r.text
    r = await http.post("/v1/auth/login", json={"email": email, "password": PASSWORD})
    assert r.status_code == 200, r.text
    return str(r.json()["token"])


async def settled(platform: Any, bootstrap: str) -> None:
    """Identity has handled every command on its topic and published every event it stored."""
    consumer = AIOKafkaConsumer(bootstrap_servers=bootstrap)
    await consumer.start()
    try:
        await consumer.topics()  # fetches the cluster's metadata
        parts = [
            TopicPartition("identity.commands.v1", p)
            for p in consumer.partitions_for_topic("identity.commands.v1") or ()
        ]
        ends = await consumer.end_offsets(parts)
    finally:
        await consumer.stop()
    commands = platform.identity.consumers[0]

    def done() -> bool:
        relay = platform.identity.relay
        return all(commands.positions.get(tp, 0) >= end for tp, end in ends.items()) and (
            relay.position >= platform.identity.store.max_notification_id()
        )

    await until(done, timeout=60, what="identity settled")


def snapshot(engine: Engine, rt: ApiRuntime) -> dict[str, list[tuple[Any, ...]]]:
    """Every row of every read model, in a stable order (the log's `seq` is the order this
    process applied events in, which a rebuild may interleave differently across partitions)."""
    out: dict[str, list[tuple[Any, ...]]] = {}
    with engine.connect() as conn:
        for projection in rt.read_models.projections:
            for table in projection.metadata.sorted_tables:
                columns = [c for c in table.columns if c is not workspace_log.c.seq]
                rows = conn.execute(select(*columns)).all()
                out[table.name] = sorted(tuple(r) for r in rows)
    return out


async def caught_up_to_the_end(engine: Engine, rt: ApiRuntime, ends: dict[Any, int]) -> bool:
    with engine.connect() as conn:
        for projection in rt.read_models.projections:
            have = offsets_of(conn, projection.name)
            for key, end in ends.items():
                if key[0] in projection.topics and end and have.get(key, 0) < end:
                    return False
    return True


async def test_sigkill_during_a_burst_then_a_restart_equals_a_rebuild_from_offset_0(
    platform: Any, kafka_bootstrap: str, tmp_path: Path
) -> None:
    api = await ApiProcess(kafka_bootstrap, tmp_path / "api-proc").start()
    try:
        async with httpx.AsyncClient(base_url=api.base_url, timeout=30) as http:
            token = await register(http, "kim")
            http.headers["Authorization"] = f"Bearer {token}"
            answered = 0

            async def one(i: int) -> None:
                nonlocal answered
                with contextlib.suppress(httpx.TransportError):
                    r = await http.post("/v1/organisations", json={"name": f"Desk {i}"})
                    if r.status_code == 201:
                        answered += 1
                        ws = r.json()["workspace_id"]
                        await http.patch(f"/v1/workspaces/{ws}", json={"name": f"Desk {i}b"})

            burst = [asyncio.create_task(one(i)) for i in range(60)]
            await until(lambda: answered >= 10, timeout=60, what="part of the burst answered")
            api.kill()  # mid-burst: some commands answered, some in flight, some never sent
            await asyncio.gather(*burst, return_exceptions=True)
        await api.start()  # the same data directory: it resumes from its committed offsets
        await settled(platform, kafka_bootstrap)

        # A rebuild from offset 0 in the writer itself, and one left to the catch-up child
        # process (`plutarc_api.catchup`, as a writer far behind does): both equal the restart.
        rebuilt, by_child = (
            ApiRuntime(
                ApiSettings(
                    kafka_bootstrap=kafka_bootstrap, data_dir=tmp_path / name, catch_up_in_child=n
                )
            )
            for name, n in (("rb", 0), ("child", 1))
        )
        stop = asyncio.Event()
        tasks = [asyncio.create_task(rt.read_models.run(stop)) for rt in (rebuilt, by_child)]
        try:
            for rt in (rebuilt, by_child):
                await until(rt.read_models.caught_up.is_set, timeout=90, what="rebuild")
            assert rebuilt.read_models.status()["caught_up_in_child"] is None
            assert by_child.read_models.status()["caught_up_in_child"] > 0
            ends = await rebuilt.read_models.end_offsets()
            resumed = sqlite_engine(tmp_path / "api-proc" / "api-readmodels.sqlite")
            for engine in (rebuilt.engine, by_child.engine, resumed):
                await until(
                    lambda e=engine: caught_up_to_the_end(e, rebuilt, ends),  # type: ignore[misc]
                    timeout=60,
                    what="read models at the log's end",
                )
            restarted, fresh = snapshot(resumed, rebuilt), snapshot(rebuilt.engine, rebuilt)
            assert restarted == fresh
            assert snapshot(by_child.engine, rebuilt) == fresh
            assert len(restarted["id_workspaces"]) >= 10 + 2  # the burst's and two personal
            resumed.dispose()
        finally:
            stop.set()
            await asyncio.wait_for(asyncio.gather(*tasks), 30)
            rebuilt.engine.dispose()
            by_child.engine.dispose()
    finally:
        api.stop()


async def test_two_workers_behind_one_port_share_reads_writes_and_limits(
    platform: Any, kafka_bootstrap: str, tmp_path: Path
) -> None:
    burst = 30
    api = await ApiProcess(
        kafka_bootstrap, tmp_path / "pool", workers="2", token_rate="0.001", token_burst=str(burst)
    ).start()
    clients: dict[int, httpx.AsyncClient] = {}
    try:

        async def both_workers() -> bool:
            # A kept-alive connection stays with the worker that accepted it; each worker must
            # itself be ready (they catch up on their own).
            http = httpx.AsyncClient(base_url=api.base_url, timeout=30)
            ready = await http.get("/ready")
            worker = (await http.get("/health")).json()["worker"]
            if worker in clients or ready.status_code != 200:
                await http.aclose()
            else:
                clients[worker] = http
            return len(clients) >= 2

        await until(both_workers, timeout=60, what="connections to both ready workers")
        token = await register(next(iter(clients.values())), "wes")
        for http in clients.values():
            http.headers["Authorization"] = f"Bearer {token}"
        a, b = list(clients.values())[:2]
        used = 0
        r = await a.post("/v1/organisations", json={"name": "Written on A"})
        used += 1
        assert r.status_code == 201, r.text
        ws = r.json()["workspace_id"]
        r = await b.get(f"/v1/workspaces/{ws}")  # written on one worker, read on the other
        used += 1
        assert r.status_code == 200 and r.json()["name"] == "Written on A"
        r = await b.patch(f"/v1/workspaces/{ws}", json={"name": "Renamed on B"})
        used += 1
        assert r.status_code == 200
        r = await a.get(f"/v1/workspaces/{ws}")
        used += 1
        assert r.json()["name"] == "Renamed on B"

        key = {"Idempotency-Key": "ci-token"}
        body = {"name": "ci", "permissions": ["workspace:read"]}
        on_a = await a.post(f"/v1/workspaces/{ws}/tokens", json=body, headers=key)
        on_b = await b.post(f"/v1/workspaces/{ws}/tokens", json=body, headers=key)
        used += 2
        assert on_a.status_code == on_b.status_code == 201, on_b.text
        assert on_a.json()["token"] == on_b.json()["token"]  # the same secret, derived alike
        async with httpx.AsyncClient(base_url=api.base_url) as as_token:
            headers = {"Authorization": f"Bearer {on_b.json()['token']}"}
            assert (await as_token.get(f"/v1/workspaces/{ws}", headers=headers)).status_code == 200

        codes = [(await (a, b)[i % 2].get("/v1/me")).status_code for i in range(2 * burst)]
        assert set(codes) == {200, 429}
        assert codes.count(200) == burst - used  # one bucket for the token, across workers
    finally:
        for http in clients.values():
            await http.aclose()
        api.stop()
