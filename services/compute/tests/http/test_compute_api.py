"""The compute API over HTTP (identity, the platform and the API on real Kafka, a stand-in compute
service answering its commands, e2e/fake_compute.py): hosts listed and paged, a bot's host with its
window and next wake, the usage statement, the sleep policy set (with an Idempotency-Key) and an
operator's wake; a viewer reads and cannot manage, a trader cannot manage either; bad input is
refused with stable codes and changes nothing; OpenAPI states each route's permission."""

from __future__ import annotations

import sys
from collections.abc import AsyncIterator
from datetime import datetime, timedelta, timezone
from decimal import Decimal
from pathlib import Path
from typing import Any

import httpx
import pytest
from plutarc_compute.api.routes import Pricing

_ROOT = Path(__file__).resolve().parents[4]
if str(_ROOT) not in sys.path:
    sys.path.append(str(_ROOT))

from e2e.conftest import Platform, running_platform  # noqa: E402
from e2e.fake_compute import FakeCompute, FakePrices, fake_compute, seed  # noqa: E402
from e2e.test_support_over_http import org_with  # noqa: E402

pytestmark = pytest.mark.kafka


@pytest.fixture
async def platform(kafka_bootstrap: str, tmp_path: Path) -> AsyncIterator[Platform]:
    async with running_platform(kafka_bootstrap, tmp_path) as running:
        yield running


@pytest.fixture
async def compute(kafka_bootstrap: str) -> AsyncIterator[FakeCompute]:
    async with fake_compute(kafka_bootstrap) as fake:
        yield fake


@pytest.fixture(autouse=True)
def prices(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(Pricing, "prices", FakePrices())


def problem(r: httpx.Response) -> tuple[int, str]:
    assert r.headers["content-type"] == "application/problem+json", r.text
    return r.status_code, str(r.json()["code"])


async def people(platform: Platform) -> tuple[str, str, str, str]:
    owner, _, _ = await platform.user("owner")
    trader, _, _ = await platform.user("trader")
    viewer, _, _ = await platform.user("viewer")
    ws = await org_with(platform, owner, **{trader: "trader", viewer: "viewer"})
    return ws, owner, trader, viewer


async def test_hosts_a_host_and_the_usage_statement(
    platform: Platform, compute: FakeCompute
) -> None:
    ws, _owner, _trader, viewer = await people(platform)
    now = await seed(platform, compute, ws, "ws-elsewhere")
    async with platform.client(viewer) as http:
        base = f"/v1/workspaces/{ws}"
        listed = (await http.get(f"{base}/hosts")).json()
        assert [(h["bot_id"], h["state"]) for h in listed["items"]] == [
            (f"{ws}-a", "asleep"),
            (f"{ws}-b", "new"),
        ]
        assert listed["next_cursor"] is None
        first = (await http.get(f"{base}/hosts", params={"limit": 1})).json()
        second = (
            await http.get(f"{base}/hosts", params={"limit": 1, "cursor": first["next_cursor"]})
        ).json()
        assert [h["bot_id"] for h in first["items"] + second["items"]] == [f"{ws}-a", f"{ws}-b"]
        for bad in ({"cursor": "not-ours"}, {"state": "dozing"}, {"limit": 0}):
            r = await http.get(f"{base}/hosts", params=bad)
            assert problem(r) == (422, "request.invalid"), bad
        asleep = (await http.get(f"{base}/hosts", params={"state": "asleep"})).json()
        assert [h["bot_id"] for h in asleep["items"]] == [f"{ws}-a"]

        a = (await http.get(f"{base}/bots/{ws}-a/host")).json()
        assert (a["state"], a["address"], a["size"], a["provider"]) == (
            "asleep",
            "203.0.113.7",
            "t3.small",
            "aws",
        )
        tomorrow = now + timedelta(days=1)
        assert datetime.fromisoformat(a["window"]["starts_at"]) == tomorrow
        assert datetime.fromisoformat(a["next_wake_at"]) == tomorrow - timedelta(minutes=2)
        assert (a["host_id"], a["up_since"], a["misses"]) == (None, None, [])
        b = (await http.get(f"{base}/bots/{ws}-b/host")).json()
        assert [m["state"] for m in b["misses"]] == ["new"]

        r = await http.get(f"{base}/bots/ws-elsewhere-x/host")
        assert problem(r) == (404, "compute.host_not_found"), "another workspace's bot"
        r = await http.get(f"{base}/bots/nobody/host")
        assert problem(r) == (404, "compute.host_not_found")

        period = {
            "from": (now - timedelta(days=1)).isoformat(),
            "to": (now + timedelta(days=1)).isoformat(),
        }
        statement = (await http.get(f"{base}/usage", params=period)).json()
        assert statement["currency"] == "USD"
        assert statement["from"] == period["from"].replace("+00:00", "Z")
        lines = {line["bot_id"]: line for line in statement["bots"]}
        assert sorted(lines) == [f"{ws}-a", f"{ws}-b"]
        a_line = lines[f"{ws}-a"]
        assert (a_line["compute_hours"], a_line["compute_cost"]) == ("2.00", "0.0416")
        assert Decimal(a_line["address_hours"]) == pytest.approx(Decimal(4), abs=Decimal("0.02"))
        assert Decimal(a_line["always_on_hours"]) == pytest.approx(Decimal(5), abs=Decimal("0.02"))
        assert Decimal(a_line["saved_hours"]) == Decimal(a_line["always_on_hours"]) - 2
        total = statement["total"]
        assert Decimal(total["cost"]) == sum(Decimal(line["cost"]) for line in lines.values())
        assert (a_line["priced"], lines[f"{ws}-b"]["priced"]) == (True, False), (
            "bot-b never ran: the size of its always-on host is not known"
        )
        assert total["priced"] is False

        cut = now - timedelta(hours=3)
        for start in (cut, cut.astimezone(timezone(timedelta(hours=5)))):
            params = {"from": start.isoformat(), "to": period["to"]}
            lines = {
                b["bot_id"]: b
                for b in (await http.get(f"{base}/usage", params=params)).json()["bots"]
            }
            assert lines[f"{ws}-a"]["compute_hours"] == "1.00", f"one hour after {start}"

        for bad, code in [
            ({"from": period["to"], "to": period["from"]}, "compute.invalid_period"),
            (
                {"from": "2026-12-01T00:00:00", "to": "2026-12-02T00:00:00"},
                "compute.invalid_period",
            ),
            (
                {"from": "2025-01-01T00:00:00Z", "to": "2026-12-01T00:00:00Z"},
                "compute.period_too_long",
            ),
            (
                {"from": "9999-12-31T23:00:00-05:00", "to": "9999-12-31T23:30:00-05:00"},
                "compute.invalid_period",
            ),
            ({"from": "yesterday", "to": period["to"]}, "request.invalid"),
            ({"to": period["to"]}, "request.invalid"),
        ]:
            r = await http.get(f"{base}/usage", params=bad)
            assert problem(r) == (422, code), bad


async def test_sleep_policy_and_wake_who_may_and_bad_input(
    platform: Platform, compute: FakeCompute
) -> None:
    ws, owner, trader, viewer = await people(platform)
    await seed(platform, compute, ws, "ws-elsewhere-2")
    base = f"/v1/workspaces/{ws}"
    policy = f"{base}/compute/sleep-policy"
    async with (
        platform.client(owner) as http,
        platform.client(trader) as trading,
        platform.client(viewer) as reading,
    ):
        assert (await reading.get(policy)).json()["drain_deadline_minutes"] == 0
        for who in (reading, trading):
            r = await who.put(policy, json={"drain_deadline_minutes": 30})
            assert problem(r) == (403, "access.forbidden")
            r = await who.post(f"{base}/bots/{ws}-a/host/wake")
            assert problem(r) == (403, "access.forbidden")
        assert compute.handled == [], "a refused request sends nothing"

        key = {"Idempotency-Key": "policy-1"}
        r = await http.put(policy, json={"drain_deadline_minutes": 30}, headers=key)
        assert r.status_code == 200, r.text
        assert (r.json()["drain_deadline_minutes"], r.json()["set_at"] is not None) == (30, True)
        again = await http.put(policy, json={"drain_deadline_minutes": 30}, headers=key)
        assert (again.status_code, again.json()) == (200, r.json())
        r = await http.put(policy, json={"drain_deadline_minutes": 45}, headers=key)
        assert problem(r) == (422, "request.idempotency_key_reused")
        for body in (
            {"drain_deadline_minutes": -1},
            {"drain_deadline_minutes": 7 * 24 * 60 + 1},
            {"drain_deadline_minutes": "30"},
            {"drain_deadline_minutes": 30, "extra": 1},
            {},
        ):
            r = await http.put(policy, json=body)
            assert problem(r) == (422, "request.invalid"), body
        assert compute.handled == ["compute.set_sleep_policy"]
        assert (await reading.get(policy)).json()["drain_deadline_minutes"] == 30

        r = await http.post(f"{base}/bots/{ws}-a/host/wake", headers={"Idempotency-Key": "w1"})
        assert r.status_code == 200, r.text
        assert r.json() == {"bot_id": f"{ws}-a", "state": "waking", "requested": True}
        r = await http.post(f"{base}/bots/ws-elsewhere-2-x/host/wake")
        assert problem(r) == (404, "compute.host_not_found")
        assert compute.handled == ["compute.set_sleep_policy", "compute.wake_host"]
        assert (await reading.get(f"{base}/bots/{ws}-a/host")).json()["state"] == "waking"


async def test_openapi_states_each_routes_permission(platform: Platform) -> None:
    async with platform.client() as http:
        paths: dict[str, Any] = (await http.get("/openapi.json")).json()["paths"]
    ws = "/v1/workspaces/{workspace_id}"
    expected = {
        (f"{ws}/hosts", "get"): "compute:read",
        (f"{ws}/bots/{{bot_id}}/host", "get"): "compute:read",
        (f"{ws}/usage", "get"): "compute:read",
        (f"{ws}/compute/sleep-policy", "get"): "compute:read",
        (f"{ws}/compute/sleep-policy", "put"): "compute:manage_sessions",
        (f"{ws}/bots/{{bot_id}}/host/wake", "post"): "compute:manage_sessions",
    }
    for (path, method), permission in expected.items():
        assert paths[path][method]["x-permission"] == permission, path
    put = paths[f"{ws}/compute/sleep-policy"]["put"]
    assert any(p["name"] == "Idempotency-Key" for p in put["parameters"])
    assert "422" in put["responses"]
