"""Identity's part of the API: its routes, its read models, and the reads on every request's path
(bearer authentication, the memberships the shared authorizer decides with, workspace rows).
Loaded through the `plutarc.api` entry point."""

from __future__ import annotations

from plutarc_api.module import ApiModule
from plutarc_contracts.identity import CREDENTIAL_EVENTS, identity_topics

from . import routes_audit, routes_auth, routes_members, routes_workspaces
from .lookups import lookups_for
from .models import AccountsProjection, WorkspacesProjection

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
        lookups=lookups_for,
    )
