"""The exchange context's calls on the gateway API (docs/exchange-api.md): venue connections, and a
bot's orders, fills and positions. Every write carries an Idempotency-Key and may be resent with it.

A venue's keys are sealed here, on the user's machine, to the gateway's public key (a libsodium
sealed box, as the gateway's `plutarc_exchange.sealing` opens them): only the sealed form is sent.
"""

from __future__ import annotations

import base64
import json
from typing import Any

from nacl.public import PublicKey, SealedBox

from .client import PlutarcClient, _seg
from .client import keyed_write as _write


def seal(public_key: str, keys: dict[str, str]) -> str:
    """`keys` (`api_key`, `secret`, and optionally `password`, `uid`) sealed to `public_key`."""
    box = SealedBox(PublicKey(base64.urlsafe_b64decode(public_key.encode())))
    sealed = box.encrypt(json.dumps(keys, separators=(",", ":")).encode())
    return base64.urlsafe_b64encode(sealed).decode()


def _connections(workspace_id: str) -> str:
    return f"/v1/workspaces/{_seg(workspace_id)}/connections"


def _bot(workspace_id: str, bot_id: str) -> str:
    return f"/v1/workspaces/{_seg(workspace_id)}/bots/{_seg(bot_id)}"


def _page(client: PlutarcClient, path: str, params: dict[str, Any]) -> dict[str, Any]:
    return dict(client._read(path, {k: v for k, v in params.items() if v is not None}))


# -- connections ------------------------------------------------------------------------------------
def sealing_key(client: PlutarcClient, ws: str) -> dict[str, Any]:
    return dict(client._read(f"/v1/workspaces/{_seg(ws)}/exchange/sealing-key"))


def list_connections(client: PlutarcClient, ws: str, *, limit: int = 50) -> dict[str, Any]:
    return _page(client, _connections(ws), {"limit": limit})


def connection(client: PlutarcClient, ws: str, connection_id: str) -> dict[str, Any]:
    return dict(client._read(f"{_connections(ws)}/{_seg(connection_id)}"))


def add_connection(
    client: PlutarcClient, ws: str, venue: str, label: str, keys: dict[str, dict[str, str]]
) -> dict[str, Any]:
    """Seal `keys` (per environment) to the gateway's current key, then add the connection."""
    key = sealing_key(client, ws)
    sealed = {env: seal(key["public_key"], k) for env, k in keys.items()}
    body = {"venue": venue, "label": label, "key_id": key["key_id"], "sealed": sealed}
    out = _write(client, "POST", _connections(ws), body)
    if out is None:
        raise LookupError("accepted late: list the workspace's connections to find it")
    return dict(out)


def remove_connection(client: PlutarcClient, ws: str, connection_id: str) -> dict[str, Any]:
    out = _write(client, "DELETE", f"{_connections(ws)}/{_seg(connection_id)}", None)
    return dict(out) if out is not None else {"connection_id": connection_id, "removed": True}


# -- orders -----------------------------------------------------------------------------------------
def list_orders(
    client: PlutarcClient, ws: str, bot_id: str, *, status: str | None, limit: int
) -> dict[str, Any]:
    return _page(client, f"{_bot(ws, bot_id)}/orders", {"status": status, "limit": limit})


def order(client: PlutarcClient, ws: str, bot_id: str, order_id: str) -> dict[str, Any]:
    return dict(client._read(f"{_bot(ws, bot_id)}/orders/{_seg(order_id)}"))


def place(client: PlutarcClient, ws: str, bot_id: str, body: dict[str, Any]) -> dict[str, Any]:
    out = _write(client, "POST", f"{_bot(ws, bot_id)}/orders", body)
    if out is None:
        raise LookupError("accepted late: list the bot's orders to find it")
    return dict(out)


def cancel(client: PlutarcClient, ws: str, bot_id: str, order_id: str) -> dict[str, Any]:
    out = _write(client, "DELETE", f"{_bot(ws, bot_id)}/orders/{_seg(order_id)}", None)
    return dict(out) if out is not None else order(client, ws, bot_id, order_id)


def cancel_all(client: PlutarcClient, ws: str, bot_id: str) -> dict[str, Any]:
    out = _write(client, "DELETE", f"{_bot(ws, bot_id)}/orders", None)
    return dict(out) if out is not None else {"requested": [], "cancelled": []}


def fills(
    client: PlutarcClient, ws: str, bot_id: str, *, order_id: str | None, limit: int
) -> dict[str, Any]:
    return _page(client, f"{_bot(ws, bot_id)}/fills", {"order_id": order_id, "limit": limit})


def positions(client: PlutarcClient, ws: str, bot_id: str) -> dict[str, Any]:
    return dict(client._read(f"{_bot(ws, bot_id)}/positions"))


def pnl(
    client: PlutarcClient, ws: str, bot_id: str, *, mode: str | None, limit: int
) -> dict[str, Any]:
    return _page(client, f"{_bot(ws, bot_id)}/pnl", {"mode": mode, "limit": limit})
