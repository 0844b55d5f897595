"""The compute context's part of the API: each bot's host (state, address, next wake, the planned
window), the workspace's usage statement and sleep policy, and an operator's wake, with the read
models they answer from. Loaded through the `plutarc.api` entry point `compute`."""

from __future__ import annotations

from plutarc_api.module import ApiModule
from plutarc_contracts import compute as c

from . import routes
from .models import HostsProjection


def visibility(event_type: str) -> str | None:
    """Who sees the event live: every compute event with `compute:read`."""
    return "compute:read" if event_type in c.EVENTS else None


def module() -> ApiModule:
    return ApiModule(
        name="compute",
        routers=[routes.router],
        projections=[HostsProjection()],
        contexts=[c.compute_topics()],
        visibility=visibility,
    )
