"""Venue connections over HTTP (identity, bots, the exchange gateway and the API on real Kafka):
the sealing key, add in clear or sealed, list and read (no secret), remove (key destroyed, the
audit log says who); permissions, bad input with stable codes, paging, the live stream; and the
keys sent in clear appear nowhere the API writes: not in a response, a read model, a log record,
the API's own state or a Kafka message it produced."""

from __future__ import annotations

import logging
from pathlib import Path
from typing import Any

import pytest
from aiokafka import AIOKafkaConsumer
from plutarc_contracts import default_registry
from plutarc_exchange.sealing import Credentials, seal

from e2e.exchange import Exchange
from e2e.sse import audit, live
from e2e.test_support_over_http import org_with

from .helpers import KEYS, created, problem

pytestmark = pytest.mark.kafka


async def test_a_connection_added_read_and_removed(exchange: Exchange) -> None:
    platform = exchange.platform
    owner, _, _ = await platform.user("owner")
    manager, manager_id, _ = await platform.user("manager")
    viewer, _, _ = await platform.user("viewer")
    trader, _, _ = await platform.user("trader")
    ws = await org_with(platform, owner, **{manager: "manager", viewer: "viewer", trader: "trader"})
    base = f"/v1/workspaces/{ws}"
    async with (
        platform.client(manager) as http,
        platform.client(viewer) as reader,
        platform.client(trader) as other,
    ):
        key = (await reader.get(f"{base}/exchange/sealing-key")).json()
        assert (key["key_id"], key["public_key"]) == (
            exchange.sealing.key_id,
            exchange.sealing.public_key,
        )
        body = {"venue": "binance", "label": "Main", "credentials": {"testnet": KEYS}}
        async with live(reader, ws) as stream:
            made = await created(http, f"{base}/connections", body)
            [seen] = await stream.wait_for("exchange.connection_added")
        assert seen.data["after"]["connection_id"] == made["connection_id"]
        cid = made["connection_id"]
        assert made["environments"] == ["testnet"]
        assert made["fingerprint"] == Credentials(**KEYS).fingerprint()
        assert made["added_by"] == f"user:{manager_id}"

        sealed = seal(key["public_key"], Credentials(api_key="k2", secret="s2", password="p"))
        second = await created(
            http,
            f"{base}/connections",
            {
                "venue": "okx",
                "label": "Hedge",
                "key_id": key["key_id"],
                "sealed": {"live": sealed, "testnet": sealed},
            },
        )
        assert second["environments"] == ["live", "testnet"]

        first_page = (await reader.get(f"{base}/connections", params={"limit": 1})).json()
        assert [c["connection_id"] for c in first_page["items"]] == [second["connection_id"]]
        rest = await reader.get(
            f"{base}/connections", params={"limit": 1, "cursor": first_page["next_cursor"]}
        )
        assert [c["connection_id"] for c in rest.json()["items"]] == [cid]
        assert rest.json()["next_cursor"] is None
        assert (await reader.get(f"{base}/connections/{cid}")).json() == made

        r = await other.post(f"{base}/connections", json=body)
        assert problem(r) == (403, "access.forbidden"), "a trader may not add keys"
        r = await reader.delete(f"{base}/connections/{cid}")
        assert problem(r) == (403, "access.forbidden")

        r = await http.delete(f"{base}/connections/{cid}")
        assert r.status_code == 200, r.text
        assert r.json() == {"connection_id": cid, "removed": True, "key_destroyed": True}
        assert problem(await reader.get(f"{base}/connections/{cid}")) == (
            404,
            "exchange.connection_not_found",
        )
        r = await http.delete(f"{base}/connections/{cid}")
        assert problem(r) == (404, "exchange.connection_not_found")
    async with platform.client(owner) as auditor:
        entries = await audit(auditor, ws)
    [removed] = [e for e in entries if e["action"] == "exchange.connection_removed"]
    assert removed["actor"] == f"user:{manager_id}"


async def test_bad_connections_are_refused_with_a_code(exchange: Exchange) -> None:
    platform = exchange.platform
    owner, _, _ = await platform.user("owner")
    ws = await org_with(platform, owner)
    url = f"/v1/workspaces/{ws}/connections"
    sealed = seal(exchange.sealing.public_key, Credentials(**KEYS))
    cases: list[tuple[dict[str, Any], int, str]] = [
        ({"venue": "binance", "label": "x"}, 422, "request.invalid"),
        (
            {
                "venue": "binance",
                "label": "x",
                "credentials": {"live": KEYS},
                "key_id": "k",
                "sealed": {"live": sealed},
            },
            422,
            "request.invalid",
        ),
        ({"venue": "nyse", "label": "x", "credentials": {"live": KEYS}}, 422, "request.invalid"),
        (
            {"venue": "binance", "label": "x", "credentials": {"paper": KEYS}},
            422,
            "request.invalid",
        ),
        (
            {"venue": "binance", "label": "x", "credentials": {"live": {"api_key": "a"}}},
            422,
            "request.invalid",
        ),
        ({"venue": "binance", "label": "x", "sealed": {"live": sealed}}, 422, "request.invalid"),
        (
            {"venue": "binance", "label": "x", "key_id": "k-other", "sealed": {"live": sealed}},
            422,
            "exchange.unknown_sealing_key",
        ),
        (
            {
                "venue": "binance",
                "label": "x",
                "key_id": exchange.sealing.key_id,
                "sealed": {"live": "bm90LWEtYm94"},
            },
            422,
            "exchange.credentials_invalid",
        ),
        (
            {"venue": "kraken", "label": "x", "credentials": {"testnet": KEYS}},
            422,
            "exchange.no_testnet",
        ),
    ]
    async with platform.client(owner) as http:
        for body, status, code in cases:
            r = await http.post(url, json=body)
            assert problem(r) == (status, code), (body, r.text)
            assert KEYS["secret"] not in r.text and KEYS["api_key"] not in r.text
        r = await http.post(url, content=b"{not json", headers={"content-type": "application/json"})
        assert problem(r) == (400, "request.malformed")
        r = await http.get(url, params={"cursor": "nonsense"})
        assert problem(r) == (422, "request.invalid")
        assert (await http.get(url)).json()["items"] == [], "nothing was added"


async def test_keys_in_clear_appear_nowhere_the_api_writes(
    exchange: Exchange, kafka_bootstrap: str, tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    platform = exchange.platform
    owner, _, _ = await platform.user("owner")
    ws = await org_with(platform, owner)
    keys = {"api_key": "APIKEY-8c1f0d-never-in-clear", "secret": "SECRET-51aa9e-never-in-clear"}
    clear = [v.encode() for v in keys.values()]
    caplog.set_level(logging.DEBUG)
    body = {"venue": "bybit", "label": "Secret test", "credentials": {"live": keys}}
    async with platform.client(owner) as http:
        r = await http.post(f"/v1/workspaces/{ws}/connections", json=body)
        assert r.status_code == 201, r.text
        responses = [r.content]
        cid = r.json()["connection_id"]
        for path in ("connections", f"connections/{cid}", "audit"):
            responses.append((await http.get(f"/v1/workspaces/{ws}/{path}")).content)
        bad = {**body, "label": ""}
        responses.append((await http.post(f"/v1/workspaces/{ws}/connections", json=bad)).content)
    for content in responses:
        assert not any(c in content for c in clear)
    assert not any(
        c.decode() in record.getMessage() or c.decode() in str(record.args)
        for record in caplog.records
        for c in clear
    )
    data_files = [p for p in (tmp_path / "api").rglob("*") if p.is_file()]
    assert any(p.name == "api-readmodels.sqlite" for p in data_files)
    for path in data_files:
        assert not any(c in path.read_bytes() for c in clear), f"{path} holds a key in clear"

    messages = await _commands_produced(kafka_bootstrap)
    [command] = [
        m for m in messages if m.type == "exchange.add_connection" and m.workspace_id == ws
    ]
    sealed = command.payload.credentials["live"]
    opened = exchange.sealing.open(command.payload.key_id, sealed)
    assert (opened.api_key, opened.secret) == (keys["api_key"], keys["secret"]), "sealed, intact"
    raw = await _raw_messages(kafka_bootstrap)
    assert raw and not any(c in value for value in raw for c in clear)


async def _raw_messages(bootstrap: str) -> list[bytes]:
    consumer = AIOKafkaConsumer(
        "exchange.commands.v1",
        "exchange.events.v1",
        "exchange.orders.v1",
        bootstrap_servers=bootstrap,
        auto_offset_reset="earliest",
        enable_auto_commit=False,
    )
    await consumer.start()
    found: list[bytes] = []
    try:
        while True:
            batch = await consumer.getmany(timeout_ms=1500, max_records=5000)
            if not batch:
                return found
            for records in batch.values():
                found += [r.value or b"" for r in records]
    finally:
        await consumer.stop()


async def _commands_produced(bootstrap: str) -> list[Any]:
    registry = default_registry()
    consumer = AIOKafkaConsumer(
        "exchange.commands.v1",
        bootstrap_servers=bootstrap,
        auto_offset_reset="earliest",
        enable_auto_commit=False,
    )
    await consumer.start()
    found: list[Any] = []
    try:
        while True:
            batch = await consumer.getmany(timeout_ms=1500, max_records=5000)
            if not batch:
                return found
            for records in batch.values():
                found += [registry.decode_command(r.value or b"") for r in records]
    finally:
        await consumer.stop()
