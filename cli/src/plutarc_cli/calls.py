"""The shape most workspace commands share: one call in the chosen workspace, then either the
answer as JSON (``--json``) or a table or a line for people (`client_cmd` for the rest)."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, TypeVar

from .client import Membership, PlutarcClient
from .client_cmd import _json, _session, _workspace

T = TypeVar("T")


def _with_workspace(
    api_url: str | None, workspace: str | None, call: Callable[[PlutarcClient, str], T]
) -> tuple[Membership, T]:
    """``call(client, workspace_id)`` in the workspace ``--workspace`` names (or the current
    one), logged in to ``api_url``; the workspace's membership (its name, the caller's role)
    and the answer."""
    with _session(api_url) as ctx:
        ws = _workspace(ctx, workspace)
        return ws, call(ctx.client, ws["workspace_id"])


def _in_workspace(
    api_url: str | None, workspace: str | None, call: Callable[[PlutarcClient, str], T]
) -> T:
    """`_with_workspace`'s answer alone."""
    return _with_workspace(api_url, workspace, call)[1]


def _printed_json(value: Any, as_json: bool) -> bool:
    """With ``--json``, print ``value`` as JSON and say so: the command has nothing to add."""
    if as_json:
        _json(value)
    return as_json
