"""The exchange context's part of the API: the gateway's sealing key, venue connections, and each
bot's orders, fills, positions, balances and PnL (now and over time), and its market's candles, with the read models they answer from. Loaded
through the `plutarc.api` entry point `exchange`."""

from __future__ import annotations

from plutarc_api.module import ApiModule
from plutarc_contracts import exchange as x
from plutarc_contracts.market import CANDLES_TOPIC, market_topics

from . import routes_candles, routes_connections, routes_orders
from .candles import CandlesProjection
from .models import BotsProjection, ConnectionsProjection, OrdersProjection
from .pnl import PnlProjection

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
        routers=[routes_connections.router, routes_orders.router, routes_candles.router],
        projections=[
            ConnectionsProjection(),
            BotsProjection(),
            OrdersProjection(),
            CandlesProjection(),
            PnlProjection(),
        ],
        contexts=[x.exchange_topics()],
        topics=[t for t in market_topics() if t.name == CANDLES_TOPIC],
        visibility=visibility,
    )
