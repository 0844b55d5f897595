"""Shared steps of the exchange API's tests."""

from __future__ import annotations

from typing import Any

import httpx

from e2e.test_role_matrix import SPEC, bot_config

KEYS = {"api_key": "AKIA-clear-api-key-0001", "secret": "clear-secret-value-0001"}


async def created(http: httpx.AsyncClient, url: str, body: dict[str, Any]) -> dict[str, Any]:
    r = await http.post(url, json=body)
    assert r.status_code == 201, r.text
    return dict(r.json())


async def paper_bot(http: httpx.AsyncClient, ws: str, **config: Any) -> str:
    """A strategy and a running paper bot on binance BTC/USDT (`config` overrides fields)."""
    base = f"/v1/workspaces/{ws}"
    strategy = await created(http, f"{base}/strategies", {"name": "Trend", "spec": SPEC})
    bot = await created(
        http, f"{base}/bots", {"config": {**bot_config(strategy["strategy_id"]), **config}}
    )
    r = await http.post(f"{base}/bots/{bot['bot_id']}/start")
    assert r.status_code == 200, r.text
    return str(bot["bot_id"])


def problem(r: httpx.Response) -> tuple[int, str]:
    assert r.headers["content-type"] == "application/problem+json", r.text
    return r.status_code, str(r.json()["code"])
