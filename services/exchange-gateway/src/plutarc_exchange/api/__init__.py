"""The exchange context's part of the API: the gateway's sealing key, venue connections, and each
bot's orders, fills, positions, balances and PnL, with the read models they answer from. Loaded
through the `plutarc.api` entry point `exchange`."""

from __future__ import annotations

from plutarc_api.module import ApiModule
from plutarc_contracts import exchange as x

from . import routes_connections, routes_orders
from .models import BotsProjection, ConnectionsProjection, OrdersProjection

CONNECTION_EVENTS = frozenset({"exchange.connection_added", "exchange.connection_removed"})


def visibility(event_type: str) -> str | None:
    """Who sees the event live: connections with `exchange_connections:read`; orders, fills,
    positions, halts and the bot's egress with `bots:read`. The sealing key is no workspace's."""
    if event_type in CONNECTION_EVENTS:
        return "exchange_connections:read"
    if event_type in x.EVENTS and event_type != "exchange.sealing_key_published":
        return "bots:read"
    return None


def module() -> ApiModule:
    return ApiModule(
        name="exchange",
        routers=[routes_connections.router, routes_orders.router],
        projections=[ConnectionsProjection(), BotsProjection(), OrdersProjection()],
        contexts=[x.exchange_topics()],
        visibility=visibility,
    )
