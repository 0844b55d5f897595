"""The permission catalogue, as data: 5 roles, 34 permissions, and which role grants what.

This is the single source of truth for authorization vocabulary. The Rego policy
(``deploy/policy/plutarc/authz.rego``) reads it as ``data.plutarc.catalogue`` (generated into
``deploy/policy/plutarc/data.json`` by ``scripts/gen_policy_data.py``), and services use the same
names in commands and events. Keeping it as plain data here, rather than as rules in the policy,
means a role's grants can be listed, diffed and documented without running a policy engine.

Grants are cumulative: each role holds everything the role below it holds, plus its own additions.
That makes "nobody grants a role above their own" meaningful: a higher rank always means a superset.
"""

from __future__ import annotations

import re
from typing import Any, Final, Literal, TypeGuard, get_args

Role = Literal["owner", "admin", "manager", "trader", "viewer"]

ROLES: Final[tuple[Role, ...]] = get_args(Role)
"""Every role, highest rank first."""

PERMISSION_RE: Final = re.compile(r"[a-z][a-z_]*:[a-z][a-z_]*")
"""``resource:action``, lower-case words joined by underscores."""

PERMISSIONS: Final[dict[str, str]] = {
    "workspace:read": "See the workspace, its name and settings",
    "workspace:update": "Rename the workspace and change its settings",
    "workspace:archive": "Archive the workspace, stopping every bot in it",
    "workspace:transfer_ownership": "Hand the workspace's ownership to another member",
    "members:read": "List the workspace's members and their roles",
    "members:remove": "Remove a member from the workspace",
    "invitations:read": "List pending invitations",
    "invitations:create": "Invite someone, with a role no higher than your own",
    "invitations:revoke": "Revoke a pending invitation",
    "roles:assign": "Change another member's role, to one no higher than your own",
    "bots:read": "See bots, their configuration, status and history",
    "bots:create": "Create a bot",
    "bots:update": "Change a bot's configuration",
    "bots:delete": "Delete a bot",
    "bots:start_stop": "Start and stop bots",
    "trading:paper": "Switch a bot to paper or testnet trading",
    "trading:live": "Switch a bot to live trading with real capital",
    "strategies:read": "See strategies and their versions",
    "strategies:create": "Create a strategy",
    "strategies:update": "Publish a new version of a strategy",
    "strategies:delete": "Delete a strategy",
    "exchange_connections:read": "See exchange connections (never their secrets)",
    "exchange_connections:manage": "Add, rotate and remove exchange API keys",
    "risk:read": "See risk limits and breaches",
    "risk:update": "Change risk limits",
    "compute:read": "See compute usage and sessions",
    "compute:manage_sessions": "Start and stop compute sessions",
    "support:read": "Read the workspace's support tickets",
    "support:create": "Open a support ticket",
    "audit:read": "Read the audit log",
    "audit:export": "Export the audit log",
    "billing:read": "See invoices and the plan",
    "billing:manage": "Change the plan and payment details",
    "api_tokens:manage": "Create and revoke your own API tokens",
}
"""Permission name -> one-line description (shown in docs/permissions.md and error messages)."""

_ADDED: Final[dict[Role, tuple[str, ...]]] = {
    "viewer": (
        "workspace:read",
        "members:read",
        "bots:read",
        "strategies:read",
        "exchange_connections:read",
        "risk:read",
        "compute:read",
        "support:read",
        "support:create",
    ),
    "trader": (
        "bots:create",
        "bots:update",
        "bots:start_stop",
        "trading:paper",
        "strategies:create",
        "strategies:update",
        "api_tokens:manage",
    ),
    "manager": (
        "bots:delete",
        "strategies:delete",
        "trading:live",
        "exchange_connections:manage",
        "risk:update",
        "compute:manage_sessions",
        "invitations:read",
        "invitations:create",
        "invitations:revoke",
        "audit:read",
    ),
    "admin": (
        "workspace:update",
        "members:remove",
        "roles:assign",
        "audit:export",
        "billing:read",
        "billing:manage",
    ),
    "owner": ("workspace:archive", "workspace:transfer_ownership"),
}
"""What each role adds on top of the role just below it."""

OWNER_ONLY: Final = frozenset({"workspace:archive", "workspace:transfer_ownership"})
"""Granted to owners only; the policy also denies them explicitly for any other role.

The policy spells these rules out itself (rules belong in the policy, vocabulary in the data);
these constants exist so tests can derive the expected decisions independently of Rego.
"""

ESCALATION_GUARDED: Final = frozenset({"roles:assign", "invitations:create"})
"""Permissions that hand a role to someone: the target role may not outrank the actor."""


def _cumulative() -> dict[str, frozenset[str]]:
    held: set[str] = set()
    out: dict[str, frozenset[str]] = {}
    for role in reversed(ROLES):  # lowest first, so each role starts from the one below
        held.update(_ADDED[role])
        out[role] = frozenset(held)
    return out


_GRANTS: Final = _cumulative()
_RANK: Final[dict[str, int]] = {role: len(ROLES) - i for i, role in enumerate(ROLES)}


def is_role(value: object) -> TypeGuard[Role]:
    """True for one of the five role names (a narrowing helper for untrusted strings)."""
    return value in _GRANTS


def role_rank(role: str) -> int:
    """owner=5, admin=4, manager=3, trader=2, viewer=1; raises KeyError for anything else."""
    if role not in _RANK:
        raise KeyError(f"unknown role {role!r}")
    return _RANK[role]


def grants(role: str) -> frozenset[str]:
    """Every permission the role holds (cumulative); an unknown role holds nothing."""
    return _GRANTS.get(role, frozenset())


def catalogue_data() -> dict[str, Any]:
    """The catalogue as the JSON document the policy reads at ``data.plutarc.catalogue``.

    Grants are sorted lists (JSON has no sets) so the generated file is stable across runs.
    """
    return {
        "roles": {
            role: {"rank": role_rank(role), "grants": sorted(_GRANTS[role])} for role in ROLES
        },
        "permissions": dict(sorted(PERMISSIONS.items())),
    }
