"""The bots context's calls on the gateway API (docs/bots.md#api): the strategy library and bots.
Every write carries an Idempotency-Key and may be resent with it."""

from __future__ import annotations

from typing import Any

from .client import PlutarcClient, _seg
from .client import keyed_write as _write


def _strategies(workspace_id: str) -> str:
    return f"/v1/workspaces/{_seg(workspace_id)}/strategies"


def _bots(workspace_id: str) -> str:
    return f"/v1/workspaces/{_seg(workspace_id)}/bots"


def _page(client: PlutarcClient, path: str, limit: int) -> dict[str, Any]:
    return dict(client._read(path, {"limit": limit}))


# -- strategies -------------------------------------------------------------------------------------
def list_strategies(client: PlutarcClient, ws: str, *, limit: int = 50) -> dict[str, Any]:
    return _page(client, _strategies(ws), limit)


def strategy(client: PlutarcClient, ws: str, strategy_id: str) -> dict[str, Any]:
    return dict(client._read(f"{_strategies(ws)}/{_seg(strategy_id)}"))


def strategy_version(
    client: PlutarcClient, ws: str, strategy_id: str, version: int
) -> dict[str, Any]:
    return dict(client._read(f"{_strategies(ws)}/{_seg(strategy_id)}/versions/{version}"))


def strategy_versions(
    client: PlutarcClient, ws: str, strategy_id: str, *, limit: int = 50
) -> dict[str, Any]:
    return _page(client, f"{_strategies(ws)}/{_seg(strategy_id)}/versions", limit)


def create_strategy(client: PlutarcClient, ws: str, body: dict[str, Any]) -> dict[str, Any]:
    out = _write(client, "POST", _strategies(ws), body)
    if out is None:
        raise LookupError("accepted late: list the workspace's strategies to find it")
    return dict(out)


def publish(
    client: PlutarcClient, ws: str, strategy_id: str, body: dict[str, Any]
) -> dict[str, Any]:
    path = f"{_strategies(ws)}/{_seg(strategy_id)}/versions"
    out = _write(client, "POST", path, body)
    return dict(out) if out is not None else strategy(client, ws, strategy_id)


def copy_strategy(client: PlutarcClient, ws: str, body: dict[str, Any]) -> dict[str, Any]:
    out = _write(client, "POST", f"{_strategies(ws)}/copies", body)
    if out is None:
        raise LookupError("accepted late: list the workspace's strategies to find the copy")
    return dict(out)


def delete_strategy(client: PlutarcClient, ws: str, strategy_id: str) -> None:
    _write(client, "DELETE", f"{_strategies(ws)}/{_seg(strategy_id)}", None)


# -- bots -------------------------------------------------------------------------------------------
def list_bots(client: PlutarcClient, ws: str, *, limit: int = 50) -> dict[str, Any]:
    return _page(client, _bots(ws), limit)


def bot(client: PlutarcClient, ws: str, bot_id: str) -> dict[str, Any]:
    return dict(client._read(f"{_bots(ws)}/{_seg(bot_id)}"))


def bot_at(client: PlutarcClient, ws: str, bot_id: str, at: str) -> dict[str, Any]:
    return dict(client._read(f"{_bots(ws)}/{_seg(bot_id)}/versions/at", {"at": at}))


def bot_versions(client: PlutarcClient, ws: str, bot_id: str, *, limit: int = 50) -> dict[str, Any]:
    return _page(client, f"{_bots(ws)}/{_seg(bot_id)}/versions", limit)


def create_bot(client: PlutarcClient, ws: str, body: dict[str, Any]) -> dict[str, Any]:
    out = _write(client, "POST", _bots(ws), body)
    if out is None:
        raise LookupError("accepted late: list the workspace's bots to find it")
    return dict(out)


def bot_write(
    client: PlutarcClient,
    ws: str,
    bot_id: str,
    what: str,
    body: dict[str, Any] | None,
    method: str = "POST",
) -> dict[str, Any]:
    """`config` (PUT), `mode`, `start`, `stop`: the bot as it is after."""
    out = _write(client, method, f"{_bots(ws)}/{_seg(bot_id)}/{what}", body)
    return dict(out) if out is not None else bot(client, ws, bot_id)


def delete_bot(client: PlutarcClient, ws: str, bot_id: str) -> None:
    _write(client, "DELETE", f"{_bots(ws)}/{_seg(bot_id)}", None)
