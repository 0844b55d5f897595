"""Operators hear from the compute service through support's Telegram: a host kept up past its
window because its bot is still exposed, a host released at the workspace's deadline with the bot
still exposed, a wake that gave up, and a window its bot missed.

Support subscribes to `compute.events.v1` (`COMPUTE_ALERTS`, reactions to another context's
events) and records one `telegram` intent per fact; the key makes each alert once. `compute_text`
renders them (HTML, every value escaped). Replies to these alerts open nothing: they name no
ticket.
"""

from __future__ import annotations

import html
from typing import Any

from plutarc_contracts import compute as c
from plutarc_runtime.handling import Intent, Occurred, Reaction

COMPUTE_KINDS = ("host_deferred", "drain_deadline", "wake_gave_up", "window_missed")


def _positions(items: list[c.Exposure]) -> str:
    return ", ".join(f"{p.symbol} {p.quantity}" for p in items) or "none"


def on_sleep_deferred(e: Occurred) -> list[Intent]:
    p = e.payload
    assert isinstance(p, c.SleepDeferred)
    body: dict[str, Any] = {
        "kind": "host_deferred",
        "workspace_id": p.workspace_id,
        "bot_id": p.bot_id,
        "reason": p.reason,
        "positions": _positions(p.positions),
        "open_orders": p.open_orders,
        "window_ends_at": p.window_ends_at.isoformat(),
        "deadline": p.deadline.isoformat() if p.deadline else None,
    }
    key = f"host_deferred:{p.bot_id}:{p.window_ends_at.isoformat()}"
    return [Intent("telegram", key=key, body=body)]


def on_drain_deadline(e: Occurred) -> list[Intent]:
    p = e.payload
    assert isinstance(p, c.DrainDeadlineReached)
    body: dict[str, Any] = {
        "kind": "drain_deadline",
        "workspace_id": p.workspace_id,
        "bot_id": p.bot_id,
        "positions": _positions(p.positions),
        "open_orders": p.open_orders,
    }
    return [Intent("telegram", key=f"drain_deadline:{e.event_id or e.at.isoformat()}", body=body)]


def on_provisioning_failed(e: Occurred) -> list[Intent]:
    p = e.payload
    assert isinstance(p, c.ProvisioningFailed)
    if p.next_size is not None:
        return []  # retried: the operator hears only when it gives up
    body: dict[str, Any] = {
        "kind": "wake_gave_up",
        "workspace_id": p.workspace_id,
        "bot_id": p.bot_id,
        "size": p.size,
        "error": p.error[:300],
    }
    return [Intent("telegram", key=f"wake_gave_up:{e.event_id or e.at.isoformat()}", body=body)]


def on_window_missed(e: Occurred) -> list[Intent]:
    p = e.payload
    assert isinstance(p, c.WindowMissed)
    body: dict[str, Any] = {
        "kind": "window_missed",
        "workspace_id": p.workspace_id,
        "bot_id": p.bot_id,
        "window_starts_at": p.window_starts_at.isoformat(),
        "state": p.state,
    }
    key = f"window_missed:{p.bot_id}:{p.window_starts_at.isoformat()}"
    return [Intent("telegram", key=key, body=body)]


COMPUTE_ALERTS: dict[type[Any], Reaction] = {
    c.SleepDeferred: on_sleep_deferred,
    c.DrainDeadlineReached: on_drain_deadline,
    c.ProvisioningFailed: on_provisioning_failed,
    c.WindowMissed: on_window_missed,
}


def compute_text(body: dict[str, Any], workspace_name: str | None = None) -> str:
    e = html.escape
    workspace = e(str(body["workspace_id"]))
    if workspace_name:
        workspace = f"{e(workspace_name)} ({workspace})"
    bot = e(str(body["bot_id"]))
    kind = body["kind"]
    if kind == "host_deferred":
        deadline = body.get("deadline")
        lines = [
            "🟠 <b>Host kept up after its window</b>",
            f"The bot still holds {e(str(body['positions']))}, "
            f"{int(body['open_orders'])} open order(s); its host sleeps once it is flat"
            + (f", at the latest {e(str(deadline))}." if deadline else "."),
        ]
    elif kind == "drain_deadline":
        lines = [
            "🔴 <b>Host released at the deadline with the bot exposed</b>",
            f"Positions: {e(str(body['positions']))}; open orders: {int(body['open_orders'])}. "
            "The gateway keeps them; nothing manages them until the next window.",
        ]
    elif kind == "wake_gave_up":
        lines = [
            "🔴 <b>A bot's host could not be woken</b>",
            f"Last size tried: {e(str(body['size']))}. Error: {e(str(body['error']))}",
        ]
    else:
        lines = [
            "🟠 <b>A bot missed its window</b>",
            f"Window start {e(str(body['window_starts_at']))}; "
            f"its host was {e(str(body['state']))}.",
        ]
    lines += [f"Workspace: {workspace}", f"bot {bot}"]
    return "\n".join(lines)
