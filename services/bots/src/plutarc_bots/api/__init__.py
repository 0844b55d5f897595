"""The bots context's part of the API: the strategy library, bots, their versions, modes and
windows, and the read models they answer from. Loaded through the `plutarc.api` entry point
`bots`."""

from __future__ import annotations

from plutarc_api.module import ApiModule
from plutarc_contracts import bots as b

from . import routes_bots, routes_strategies
from .models import LibraryProjection, WorkspaceRiskProjection

STRATEGY_EVENTS = frozenset(
    {"bots.strategy_created", "bots.strategy_version_published", "bots.strategy_deleted"}
)


def visibility(event_type: str) -> str | None:
    """Who sees the event live: strategies with `strategies:read`, bots with `bots:read`."""
    if event_type in STRATEGY_EVENTS:
        return "strategies:read"
    return "bots:read" if event_type in b.EVENTS else None


def module() -> ApiModule:
    return ApiModule(
        name="bots",
        routers=[routes_strategies.router, routes_bots.router],
        projections=[LibraryProjection(), WorkspaceRiskProjection()],
        contexts=[b.bots_topics()],
        visibility=visibility,
    )
