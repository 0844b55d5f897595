"""Identity's part of the API: its routes, its read models, bearer authentication and the
memberships the shared authorizer decides with. Loaded through the `plutarc.api` entry point."""

from __future__ import annotations

from plutarc_api.module import ApiModule
from plutarc_contracts.identity import CREDENTIAL_EVENTS, identity_topics

from . import routes_audit, routes_auth, routes_members, routes_workspaces
from .access import authenticate
from .models import AccountsProjection, SqlMemberships, WorkspacesProjection

# Who sees an identity event live, on the workspace's stream.
VISIBLE = {
    "identity.workspace_": "workspace:read",
    "identity.member_": "members:read",
    "identity.ownership_": "members:read",
    "identity.invitation_": "invitations:read",
    "identity.api_token_": "audit:read",
}


def visibility(event_type: str) -> str | None:
    if event_type in CREDENTIAL_EVENTS:
        return None
    for prefix, permission in VISIBLE.items():
        if event_type.startswith(prefix):
            return permission
    return "audit:read" if event_type.startswith("identity.") else None


def module() -> ApiModule:
    return ApiModule(
        name="identity",
        routers=[
            routes_auth.router,
            routes_workspaces.router,
            routes_members.router,
            routes_audit.router,
        ],
        projections=[AccountsProjection(), WorkspacesProjection()],
        contexts=[identity_topics()],
        visibility=visibility,
        authenticate=authenticate,
        memberships=SqlMemberships,
    )
