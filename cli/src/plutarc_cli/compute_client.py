"""The compute context's calls on the gateway API (docs/compute-api.md): the workspace's hosts, a
bot's host, the usage statement, the sleep policy, and an operator's wake. Every write carries an
Idempotency-Key and may be resent with it."""

from __future__ import annotations

from typing import Any

from .client import PlutarcClient, _seg
from .client import keyed_write as _write


def _ws(workspace_id: str) -> str:
    return f"/v1/workspaces/{_seg(workspace_id)}"


def list_hosts(
    client: PlutarcClient, ws: str, *, state: str | None = None, limit: int = 200
) -> dict[str, Any]:
    params = {"limit": limit, **({"state": state} if state else {})}
    return dict(client._read(f"{_ws(ws)}/hosts", params))


def host(client: PlutarcClient, ws: str, bot_id: str) -> dict[str, Any]:
    return dict(client._read(f"{_ws(ws)}/bots/{_seg(bot_id)}/host"))


def usage(client: PlutarcClient, ws: str, start: str, end: str) -> dict[str, Any]:
    return dict(client._read(f"{_ws(ws)}/usage", {"from": start, "to": end}))


def sleep_policy(client: PlutarcClient, ws: str) -> dict[str, Any]:
    return dict(client._read(f"{_ws(ws)}/compute/sleep-policy"))


def set_sleep_policy(client: PlutarcClient, ws: str, minutes: int) -> dict[str, Any]:
    path = f"{_ws(ws)}/compute/sleep-policy"
    out = _write(client, "PUT", path, {"drain_deadline_minutes": minutes})
    return dict(out) if out is not None else sleep_policy(client, ws)


def wake(client: PlutarcClient, ws: str, bot_id: str) -> dict[str, Any]:
    out = _write(client, "POST", f"{_ws(ws)}/bots/{_seg(bot_id)}/host/wake", None)
    if out is not None:
        return dict(out)
    return {"bot_id": bot_id, "state": host(client, ws, bot_id)["state"], "requested": True}
