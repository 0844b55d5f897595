"""The whole platform from its images in compose (deploy/compose/compose.yaml, podman-compose):
one journey over HTTP, as a trial user would take it: register, create an organisation, open a
support ticket, create a paper bot, place an order and see it filled from the simulated market.
Built by `make images`; run by `make test-deploy` (docs/deployment.md)."""

from __future__ import annotations

from typing import Any

import httpx
from plutarc_testkit.waiting import wait_until

from .compose import ComposePlatform, open_ticket, organisation, post_when_known, user

SPEC = {
    "timeframe": "1h",
    "components": [
        {"component": "ma_crossover", "params": {"fast": 9, "slow": 21}},
        {"component": "fixed_fraction", "params": {"fraction": 0.02}},
    ],
}


def test_every_container_is_non_root_read_only_and_healthy(platform: ComposePlatform) -> None:
    names = platform.podman("ps", "--filter", f"name={platform.project}_", "--format", "{{.Names}}")
    assert len(names.stdout.split()) == 11, names.stdout
    for name in names.stdout.split():
        uid = platform.podman("exec", name, "id", "-u").stdout.strip()
        assert uid == "10001", (name, uid)
        ro = platform.podman("inspect", "--format", "{{.HostConfig.ReadonlyRootfs}}", name)
        assert ro.stdout.strip() == "true", name
        if not name.endswith(("_market-data_1", "_candles_1")):  # no ops port, no health check
            health = platform.podman("healthcheck", "run", name)
            assert health.returncode == 0, (name, health.stdout, health.stderr)


def test_a_trial_journey_over_http(platform: ComposePlatform) -> None:
    with httpx.Client(base_url=platform.base_url, timeout=30) as anonymous:
        assert anonymous.get("/").status_code == 200  # the dashboard, from the api image
        token = user(anonymous, "trial")
    auth = {"Authorization": f"Bearer {token}"}
    with httpx.Client(base_url=platform.base_url, timeout=30, headers=auth) as http:
        ws = organisation(http, "Trial desk")

        open_ticket(http, ws, "Where do fills show?")

        r = post_when_known(http, f"{ws}/strategies", {"name": "Trend", "spec": SPEC})
        config = {
            "name": "Paper BTC",
            "strategy": {"strategy_id": r.json()["strategy_id"], "version": 1},
            "market": {"venue": "binance", "symbol": "BTC/USDT"},
        }
        r = post_when_known(http, f"{ws}/bots", {"config": config})
        bot = f"{ws}/bots/{r.json()['bot_id']}"
        assert r.json()["mode"] == "paper"
        r = http.post(f"{bot}/start")
        assert r.status_code == 200, r.text

        order: dict[str, Any] = {}

        def placed() -> bool:
            """Retried while the gateway has not yet seen the bot started (`bot_not_running`)."""
            r = http.post(
                f"{bot}/orders", json={"side": "buy", "type": "market", "quantity": "0.1"}
            )
            if r.status_code == 422 and r.json()["code"] == "exchange.bot_not_running":
                return False
            assert r.status_code == 201, r.text
            assert r.json()["status"] != "rejected", r.text
            order.update(r.json())
            return True

        wait_until(placed, timeout=90, interval=1.0, what="a paper market order accepted")
        fills = wait_until(
            lambda: http.get(f"{bot}/fills").json().get("items"),
            timeout=90,
            interval=0.5,
            what="the order's fill from the simulated market",
        )
        assert fills[0]["order_id"] == order["order_id"]
        assert float(fills[0]["quantity"]) > 0
