"""Support's part of the API: tickets for members, the operators' side, the notification feed,
and the read models they answer from (with the names of users and workspaces, `directory`).
Loaded through the `plutarc.api` entry point `support`."""

from __future__ import annotations

from plutarc_api.module import ApiModule
from plutarc_contracts import identity as i
from plutarc_contracts import support as s

from . import routes_feed, routes_operator_events, routes_operators, routes_tickets
from .directory import DirectoryProjection
from .models import NotesProjection, OperatorsProjection, TicketsProjection, is_operator

SEEN_WITH = "support:read"
"""Who sees a workspace's support events live: members who may read its tickets."""
NEVER = frozenset(
    {"support.operator_granted", "support.operator_revoked"}  # platform-level, no workspace
)


def visibility(event_type: str) -> str | None:
    """A ticket's public events are seen with `support:read`; an internal note never."""
    if not s.is_user_visible(event_type) or event_type in NEVER:
        return None
    return SEEN_WITH if event_type in s.EVENTS else None


def module() -> ApiModule:
    return ApiModule(
        name="support",
        routers=[
            routes_tickets.router,
            routes_operators.router,
            routes_operator_events.router,
            routes_feed.router,
        ],
        projections=[
            TicketsProjection(),
            NotesProjection(),
            OperatorsProjection(),
            DirectoryProjection(),
        ],
        contexts=[s.support_topics()],
        topics=[i.identity_topics().events],  # the names of users and workspaces
        visibility=visibility,
        operators=is_operator,
    )
