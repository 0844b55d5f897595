"""Bots over HTTP on the running platform (identity, bots and the API on real Kafka): the strategy
library with versions and copies, bots with versions, the mode switch and who may make it, the
window the service publishes, the limits in force; bad input refused with stable codes, nothing
changed."""

from __future__ import annotations

import json
from typing import Any

import pytest
from plutarc_testkit.waiting import until

from .conftest import Platform
from .sse import audit, live
from .test_role_matrix import SPEC, bot_config
from .test_support_over_http import org_with

pytestmark = pytest.mark.kafka


async def created(http: Any, url: str, body: dict[str, Any]) -> dict[str, Any]:
    r = await http.post(url, json=body)
    assert r.status_code == 201, r.text
    return dict(r.json())


async def test_a_bot_from_strategy_to_live(platform: Platform) -> None:
    owner, _, _ = await platform.user("owner")
    trader, _, _ = await platform.user("trader")
    manager, manager_id, _ = await platform.user("manager")
    ws = await org_with(platform, owner, **{trader: "trader", manager: "manager"})
    base = f"/v1/workspaces/{ws}"
    async with platform.client(owner) as http:
        risk = {"max_position": "1000", "max_open_orders": 8}
        r = await http.put(f"{base}/settings", json={"risk": risk})
        assert r.status_code == 200, r.text
        assert r.json()["risk"] == {"max_position": "1000", "max_open_orders": "8"}
    async with platform.client(trader) as http, platform.client(manager) as boss:
        strategy = await created(http, f"{base}/strategies", {"name": "Trend", "spec": SPEC})
        sid = strategy["strategy_id"]
        assert (strategy["latest_version"], strategy["spec"]) == (1, SPEC)
        v2 = await created(
            http, f"{base}/strategies/{sid}/versions", {"spec": {**SPEC, "timeframe": "4h"}}
        )
        assert v2["version"] == 2
        v1 = (await http.get(f"{base}/strategies/{sid}/versions/1")).json()
        assert v1["spec"] == SPEC, "a version never changes"

        config = {**bot_config(sid), "risk": {"max_position": "500"}}
        async with live(http, ws) as stream:
            bot = await created(http, f"{base}/bots", {"config": config})
            [seen] = await stream.wait_for("bots.bot_created")
        bid = bot["bot_id"]
        assert bid in json.dumps(seen.data), "a member with bots:read sees the bot created live"
        assert (bot["mode"], bot["state"], bot["version"]) == ("paper", "stopped", 1)
        assert bot["limits_in_force"]["max_position"] == "500"
        assert bot["workspace_limits"]["max_position"] == "1000"
        assert bot["limits_in_force"]["max_open_orders"] == 8, "the workspace's default"

        # a trader may not go live; a manager must confirm
        r = await http.post(f"{base}/bots/{bid}/mode", json={"mode": "live", "confirm_live": True})
        assert (r.status_code, r.json()["code"]) == (403, "access.forbidden")
        r = await boss.post(f"{base}/bots/{bid}/mode", json={"mode": "live"})
        assert (r.status_code, r.json()["code"]) == (422, "bots.live_not_confirmed")
        r = await boss.post(f"{base}/bots/{bid}/mode", json={"mode": "live", "confirm_live": True})
        assert r.status_code == 200, r.text
        now_live = r.json()
        assert (now_live["mode"], now_live["version"], now_live["config"]) == (
            "live",
            2,
            bot["config"],
        )

        versions = (await http.get(f"{base}/bots/{bid}/versions")).json()["items"]
        assert [(v["version"], v["change"], v["mode"]) for v in versions] == [
            (2, "mode", "live"),
            (1, "created", "paper"),
        ]
        assert versions[0]["actor"] == f"user:{manager_id}"
        # the audit log shows who took it live
        async with platform.client(owner) as auditor:
            entries = await audit(auditor, ws)
        [went_live] = [e for e in entries if e["action"] == "bots.bot_mode_changed"]
        assert went_live["actor"] == f"user:{manager_id}"
        then = versions[1]["at"]
        r = await http.get(f"{base}/bots/{bid}/versions/at", params={"at": then})
        assert (r.json()["version"], r.json()["mode"]) == (1, "paper")

        # started, an always-on bot gets its window from the service's timer
        r = await http.post(f"{base}/bots/{bid}/start")
        assert r.status_code == 200 and r.json()["state"] == "running", r.text

        async def window() -> Any:
            return (await http.get(f"{base}/bots/{bid}")).json()["window"]

        await until(window, what="the bot's trading window published", timeout=30)
        assert (await window())["ends_at"] is None


async def test_bad_input_is_refused_with_a_code_and_changes_nothing(platform: Platform) -> None:
    owner, _, _ = await platform.user("owner")
    ws = await org_with(platform, owner)
    base = f"/v1/workspaces/{ws}"
    async with platform.client(owner) as http:
        r = await http.put(f"{base}/settings", json={"risk": {"max_position": "1000"}})
        assert r.status_code == 200, r.text
        bad_specs = [
            ({**SPEC, "components": [{"component": "martingale"}]}, "bots.unknown_component"),
            (
                {**SPEC, "components": [{"component": "ma_crossover", "params": {"fast": "x"}}]},
                "bots.invalid_component_config",
            ),
        ]
        for spec, code in bad_specs:
            r = await http.post(f"{base}/strategies", json={"name": "Bad", "spec": spec})
            assert r.status_code == 422, r.text
            assert r.headers["content-type"] == "application/problem+json"
            assert r.json()["code"] == code
        sid = (await created(http, f"{base}/strategies", {"name": "T", "spec": SPEC}))[
            "strategy_id"
        ]
        bad_configs = [
            ({"risk": {"max_position": "2000"}}, "bots.limit_exceeds_workspace"),
            ({"sessions": {"time_zone": "Mars/Olympus"}}, "bots.unknown_time_zone"),
            (
                {
                    "sessions": {
                        "always_on": False,
                        "windows": [{"days": ["mon"], "start": "16:00", "end": "08:00"}],
                    }
                },
                "bots.window_ends_before_start",
            ),
            ({"strategy": {"strategy_id": "nope", "version": 1}}, "bots.invalid_id"),
        ]
        for fields, code in bad_configs:
            r = await http.post(f"{base}/bots", json={"config": {**bot_config(sid), **fields}})
            assert r.json()["code"] == code, r.text
        r = await http.post(f"{base}/bots", json={"config": {"name": "x"}})
        assert (r.status_code, r.json()["code"]) == (422, "request.invalid")
        r = await http.get(f"{base}/bots/x/versions/at", params={"at": "2026-01-01T00:00:00"})
        assert (r.status_code, r.json()["code"]) == (422, "request.invalid")
        assert (await http.get(f"{base}/bots")).json()["items"] == [], "nothing was created"
