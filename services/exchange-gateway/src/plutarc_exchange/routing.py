"""Where an order goes: by the bot's mode to the paper engine, the venue's testnet or its live
endpoint. Testnet and live need a connection of the bot's workspace on the bot's venue with keys
for that environment, a venue that has a testnet (for testnet), and the bot's host awake: its
venue traffic leaves through the egress proxy on the bot's own address, never from the gateway's.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal
from typing import Protocol

from plutarc_contracts import exchange as x
from plutarc_contracts.bots import MarketRef
from plutarc_runtime.domain import Invalid, NotFound
from plutarc_runtime.handling import Context

from .domain import Book, BotAccount, Connection, OpenOrder
from .risk import Refusal
from .views import BotInfo


class Paper(Protocol):
    """The paper engines (one per bot and market), fed by the market-data topics."""

    def reference_price(self, venue: str, symbol: str, side: str) -> Decimal | None: ...

    def submit(
        self, bot_id: str, market: MarketRef, order: x.OrderAccepted, book: Book, now: datetime
    ) -> list[x.VenueReport]: ...

    def cancel(
        self, bot_id: str, market: MarketRef, order_id: str, now: datetime
    ) -> list[x.VenueReport]: ...

    def owner(self, order_id: str) -> tuple[str, str] | None: ...

    def holds(self, order_id: str) -> bool: ...

    def resume(
        self,
        workspace_id: str,
        bot_id: str,
        market: MarketRef,
        book: Book,
        orders: list[tuple[str, OpenOrder]],
        now: datetime,
    ) -> list[x.VenueReport]: ...


class Venues(Protocol):
    """The capability table: what each venue offers, as data."""

    def has_testnet(self, venue: str, kind: str = "spot") -> bool: ...

    def closed(self, venue: str) -> str | None: ...

    def client_order_id(self, venue: str, command_id: str) -> str: ...


@dataclass(frozen=True)
class Route:
    environment: str
    connection_id: str
    proxy_url: str

    def body(self) -> dict[str, str]:
        return {
            "environment": self.environment,
            "connection_id": self.connection_id,
            "proxy_url": self.proxy_url,
        }


FindConnection = Callable[[Context, str, str], Connection]


def route_for(
    bot: BotInfo,
    account: BotAccount,
    venues: Venues,
    ctx: Context,
    find: FindConnection,
) -> tuple[Route | None, Refusal | None]:
    market, environment = bot.config.market, bot.mode
    if (closed := venues.closed(market.venue)) is not None:
        return None, Refusal(
            "exchange.venue_closed",
            f"{market.venue} closed on {closed}: its markets trade on paper only",
        )
    if environment == "testnet" and not venues.has_testnet(market.venue, market.kind):
        return None, Refusal(
            "exchange.no_testnet",
            f"{market.venue} has no testnet for {market.kind} markets: switch the bot to paper, "
            "which works on every venue",
        )
    if bot.config.connection_id is None:
        return None, Refusal("exchange.no_connection", f"{environment} needs a venue connection")
    try:
        connection = find(ctx, bot.workspace_id, bot.config.connection_id)
    except (NotFound, Invalid) as exc:  # a bot may name a connection that never existed
        return None, Refusal("exchange.connection_not_found", str(exc))
    if connection.venue != market.venue:
        return None, Refusal(
            "exchange.connection_venue_mismatch",
            f"the connection is for {connection.venue}, the bot trades on {market.venue}",
        )
    if environment not in connection.environments:
        return None, Refusal(
            "exchange.connection_lacks_environment",
            f"the connection holds no {environment} keys",
        )
    if account.egress is None:
        return None, Refusal(
            "exchange.no_egress",
            "no host is awake for this bot: its testnet and live orders leave only from its own "
            "address (start it with `plutarc bot run`)",
        )
    return Route(environment, connection.connection_id, account.egress), None
