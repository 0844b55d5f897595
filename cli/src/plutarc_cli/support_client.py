"""Support's calls on the gateway API (docs/support.md#api): tickets for members, the operators'
side, the notification feed. Every write carries an Idempotency-Key and may be resent with it."""

from __future__ import annotations

from typing import Any

from .client import PlutarcClient, _seg
from .client import keyed_write as _write


def _tickets(workspace_id: str) -> str:
    return f"/v1/workspaces/{_seg(workspace_id)}/support/tickets"


def list_tickets(
    client: PlutarcClient,
    workspace_id: str,
    *,
    status: str | None = None,
    cursor: str | None = None,
    limit: int = 50,
) -> dict[str, Any]:
    params: dict[str, Any] = {"limit": limit}
    if status:
        params["status"] = status
    if cursor:
        params["cursor"] = cursor
    return dict(client._read(_tickets(workspace_id), params))


def ticket(client: PlutarcClient, workspace_id: str | None, ticket_id: str) -> dict[str, Any]:
    """One ticket with its thread: in a workspace, or (None) any, as an operator."""
    if workspace_id is None:
        return dict(client._read(f"/v1/support/tickets/{_seg(ticket_id)}"))
    return dict(client._read(f"{_tickets(workspace_id)}/{_seg(ticket_id)}"))


def open_ticket(client: PlutarcClient, workspace_id: str, body: dict[str, Any]) -> dict[str, Any]:
    out = _write(client, "POST", _tickets(workspace_id), body)
    if out is None:
        raise LookupError("accepted late: list the workspace's tickets to find it")
    return dict(out)


def reply(
    client: PlutarcClient, workspace_id: str | None, ticket_id: str, text: str
) -> dict[str, Any]:
    path = (
        f"/v1/support/tickets/{_seg(ticket_id)}/messages"
        if workspace_id is None
        else f"{_tickets(workspace_id)}/{_seg(ticket_id)}/messages"
    )
    out = _write(client, "POST", path, {"body": text})
    return dict(out) if out is not None else ticket(client, workspace_id, ticket_id)


def set_status(
    client: PlutarcClient, workspace_id: str | None, ticket_id: str, status: str
) -> dict[str, Any]:
    path = (
        f"/v1/support/tickets/{_seg(ticket_id)}/status"
        if workspace_id is None
        else f"{_tickets(workspace_id)}/{_seg(ticket_id)}/status"
    )
    out = _write(client, "POST", path, {"status": status})
    return dict(out) if out is not None else ticket(client, workspace_id, ticket_id)


def queue(client: PlutarcClient, *, assignee: str | None = None, limit: int = 50) -> dict[str, Any]:
    params: dict[str, Any] = {"limit": limit}
    if assignee:
        params["assignee"] = assignee
    return dict(client._read("/v1/support/queue", params))


def notes(client: PlutarcClient, ticket_id: str) -> list[dict[str, Any]]:
    return list(client._read(f"/v1/support/tickets/{_seg(ticket_id)}/notes"))


def add_note(client: PlutarcClient, ticket_id: str, text: str) -> dict[str, Any] | None:
    out = _write(client, "POST", f"/v1/support/tickets/{_seg(ticket_id)}/notes", {"body": text})
    return dict(out) if out is not None else None


def stats(client: PlutarcClient, since: str | None, until: str | None) -> dict[str, Any]:
    params = {k: v for k, v in (("since", since), ("until", until)) if v}
    return dict(client._read("/v1/support/stats", params))


def assign(client: PlutarcClient, ticket_id: str, operator_id: str) -> dict[str, Any]:
    path = f"/v1/support/tickets/{_seg(ticket_id)}/assignee"
    out = _write(client, "PUT", path, {"operator_id": operator_id})
    return dict(out) if out is not None else ticket(client, None, ticket_id)


def notifications(client: PlutarcClient, *, limit: int = 50) -> dict[str, Any]:
    return dict(client._read("/v1/me/notifications", {"limit": limit}))
