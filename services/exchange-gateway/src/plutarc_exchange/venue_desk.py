"""Testnet and live orders at the venues: the ``venue`` adapter that carries out the order intents
the handlers record, and the follower that polls each open venue order for fills.

Each client is ccxt's (through `VenueClient`) for one connection, environment and egress proxy:
the bot's traffic leaves through its own host, and the keys come from the vault only here, at the
moment of the call. Placing is idempotent (the client order id is derived from the order id, and
after a timeout the order is looked up by it before any retry). What the venue says becomes
``exchange.record_venue_reports`` through the service's own command path: a fill id is the venue
order id and the cumulative filled quantity, so a report seen twice is counted once.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Callable
from dataclasses import dataclass
from decimal import Decimal
from typing import Any
from uuid import NAMESPACE_URL, uuid5

import msgspec
from plutarc_contracts import exchange as x
from plutarc_contracts.system import IntentRecorded
from plutarc_runtime.clock import Clock
from plutarc_runtime.intents import PermanentFailure, RetryLater
from plutarc_runtime.service import Execute

from .vault import Vault
from .venues.capabilities import capability_table
from .venues.client import OrderRequest, VenueClient, VenueOrder
from .venues.errors import VenueError
from .views import Bots

log = logging.getLogger(__name__)
ACTOR = "system:exchange-gateway"
REPORT_NS = uuid5(NAMESPACE_URL, "https://plutarc.dev/exchange/venue-reports")


@dataclass
class VenueOrderView:
    workspace_id: str
    bot_id: str
    mode: str
    venue: str
    symbol: str
    client_order_id: str
    venue_order_id: str | None = None
    filled: Decimal = Decimal(0)
    cost: Decimal = Decimal(0)


class VenueOrders:
    """Read model of the service's own events: the open testnet and live orders, and each bot's
    egress proxy (the follower polls through it)."""

    event_types = frozenset(
        {
            "exchange.order_accepted",
            "exchange.order_filled",
            "exchange.order_cancelled",
            "exchange.order_rejected",
            "exchange.egress_attached",
            "exchange.egress_detached",
        }
    )

    def __init__(self) -> None:
        self.orders: dict[str, VenueOrderView] = {}
        self.egress: dict[str, str] = {}
        self.connections: dict[str, str] = {}

    def apply(self, env: Any) -> None:
        p = env.payload
        match p:
            case x.OrderAccepted() if p.mode != "paper":
                self.orders[p.order_id] = VenueOrderView(
                    p.workspace_id, p.bot_id, p.mode, p.venue, p.symbol, p.client_order_id
                )
            case x.OrderFilled() if p.status == "filled":
                self.orders.pop(p.order_id, None)
            case x.OrderCancelled() | x.OrderRejected():
                self.orders.pop(p.order_id, None)
            case x.EgressAttached():
                self.egress[p.bot_id] = p.proxy_url
            case x.EgressDetached():
                self.egress.pop(p.bot_id, None)


ClientFactory = Callable[..., VenueClient]


class VenueDesk:
    """The ``venue`` adapter (``await desk(intent)``) and, as an `Inbound`, the fill follower."""

    name = "venue-desk"

    def __init__(
        self,
        vault: Vault,
        bots: Bots,
        orders: VenueOrders,
        clock: Clock,
        *,
        venue_urls: dict[str, str] | None = None,
        poll_every: float = 2.0,
        client: ClientFactory = VenueClient,
        client_options: dict[str, Any] | None = None,
    ) -> None:
        self.vault, self.bots, self.orders, self.clock = vault, bots, orders, clock
        self.venue_urls = venue_urls or {}
        self.poll_every = poll_every
        self._client = client
        self._options = client_options or {}
        self._clients: dict[tuple[str, str, str, str], VenueClient] = {}
        self._execute: Execute | None = None
        self._fees = {v: c.fees for v, c in capability_table().venues.items()}

    # -- clients ------------------------------------------------------------------------------------
    def client(
        self, venue: str, kind: str, environment: str, connection_id: str, proxy: str
    ) -> VenueClient:
        key = (connection_id, environment, kind, proxy)
        found = self._clients.get(key)
        if found is None:
            keys = self.vault.read(connection_id, environment)
            if keys is None:
                raise PermanentFailure(f"connection {connection_id} holds no {environment} keys")
            found = self._client(
                venue,
                environment,
                kind,
                keys.for_ccxt(),
                proxy_url=proxy,
                url_override=self.venue_urls.get(venue),
                **self._options,
            )
            self._clients[key] = found
        return found

    async def close(self) -> None:
        for client in self._clients.values():
            with contextlib.suppress(Exception):
                await client.close()
        self._clients.clear()

    # -- the adapter --------------------------------------------------------------------------------
    async def __call__(self, intent: IntentRecorded) -> dict[str, Any]:
        body = intent.body
        if self._execute is None:
            raise RetryLater("the venue desk is not running yet", 1.0)
        if body["action"] == "place":
            return await self._place(body)
        return await self._cancel(body)

    async def _place(self, body: dict[str, Any]) -> dict[str, Any]:
        order = body["order"]
        kind = "perpetual" if ":" in order["symbol"] else "spot"
        client = self.client(
            order["venue"], kind, body["environment"], body["connection_id"], body["proxy_url"]
        )
        try:
            # An earlier attempt (before a timeout, or before this process restarted) may have
            # reached the venue: look for the order by its client id first, always. One request
            # more per order buys "never twice" in every case the adapter can be retried in.
            placed = await client.find_order(order["client_order_id"], order["symbol"])
            placed = placed or await client.place_order(
                OrderRequest(
                    command_id=order["order_id"],
                    symbol=order["symbol"],
                    side=order["side"],
                    type=order["type"],
                    amount=order["quantity"],
                    price=order["price"],
                    post_only=order["post_only"],
                    reduce_only=order["reduce_only"],
                )
            )
        except VenueError as exc:
            if exc.retry_safe or exc.outcome_unknown:
                raise
            await self._record(
                order["workspace_id"],
                order["bot_id"],
                [
                    x.VenueReport(
                        order_id=order["order_id"], rejected_code=exc.code, rejected_reason=str(exc)
                    )
                ],
            )
            return {"rejected": exc.code}
        view = self.orders.orders.get(order["order_id"])
        if view is not None:
            view.venue_order_id = placed.id
        await self._follow_one(order["order_id"], placed)
        return {"venue_order_id": placed.id, "status": placed.status}

    async def _cancel(self, body: dict[str, Any]) -> dict[str, Any]:
        view = self.orders.orders.get(body["order_id"])
        if view is None:
            return {"status": "closed already"}
        client = self._client_for(view)
        if client is None:
            raise RetryLater("the bot's host is not awake", 5.0)
        found = await client.find_order(view.client_order_id, view.symbol)
        if found is None:
            raise PermanentFailure(f"order {view.client_order_id} is not at the venue")
        if found.status in ("open", "partially_filled"):
            found = await client.cancel_order(found.id, view.symbol)
        await self._follow_one(body["order_id"], found, cancelled=True)
        return {"status": found.status}

    def _client_for(self, view: VenueOrderView) -> VenueClient | None:
        """The client of the bot's connection through its egress now; None while asleep."""
        proxy = self.orders.egress.get(view.bot_id)
        bot = self.bots.get(view.bot_id)
        if proxy is None or bot is None or bot.config.connection_id is None:
            return None
        kind = "perpetual" if ":" in view.symbol else "spot"
        return self.client(view.venue, kind, view.mode, bot.config.connection_id, proxy)

    # -- following fills ----------------------------------------------------------------------------
    async def _follow_one(self, order_id: str, found: VenueOrder, cancelled: bool = False) -> None:
        view = self.orders.orders.get(order_id)
        if view is None:
            return
        reports = self._reports(order_id, view, found, cancelled)
        if reports:
            await self._record(view.workspace_id, view.bot_id, reports)

    def _reports(
        self, order_id: str, view: VenueOrderView, found: VenueOrder, cancelled: bool
    ) -> list[x.VenueReport]:
        filled = Decimal(found.filled or 0)
        fills: list[x.Fill] = []
        if filled > view.filled:
            average = Decimal(found.average or found.price or 0)
            cost = filled * average
            quantity, price = filled - view.filled, (cost - view.cost) / (filled - view.filled)
            kind = "perpetual" if ":" in view.symbol else "spot"
            rate = Decimal(self._fees[view.venue][kind].taker)  # type: ignore[index]
            fills.append(
                x.Fill(
                    fill_id=f"{found.id}:{filled.normalize():f}",
                    quantity=f"{quantity.normalize():f}",
                    price=f"{price.quantize(Decimal('1e-12')).normalize():f}",
                    fee=f"{(quantity * price * rate).quantize(Decimal('1e-12')).normalize():f}",
                    fee_currency=view.symbol.split("/")[1].split(":")[0],
                    liquidity="taker",
                    at=self.clock.now(),
                )
            )
            view.filled, view.cost = filled, cost
        closed = cancelled or found.status in ("cancelled", "rejected")
        if not fills and not closed:
            return []
        return [
            x.VenueReport(
                order_id=order_id,
                fills=fills,
                cancelled=closed and found.status != "filled",
                venue_order_id=found.id,
            )
        ]

    async def _record(self, workspace_id: str, bot_id: str, reports: list[x.VenueReport]) -> None:
        assert self._execute is not None
        command = x.RecordVenueReports(workspace_id=workspace_id, bot_id=bot_id, reports=reports)
        command_id = str(uuid5(REPORT_NS, msgspec.json.encode(command).decode()))
        await asyncio.to_thread(
            self._execute, ACTOR, command, workspace_id=workspace_id, command_id=command_id
        )

    async def run(self, execute: Execute, stop: asyncio.Event) -> None:
        self._execute = execute
        try:
            while not stop.is_set():
                with contextlib.suppress(asyncio.TimeoutError):
                    await asyncio.wait_for(stop.wait(), self.poll_every)
                await self.poll()
        finally:
            await self.close()

    async def poll(self) -> None:
        """Ask the venue about each open order; one venue failing does not hold up another."""
        for order_id, view in list(self.orders.orders.items()):
            client = self._client_for(view)
            if client is None:
                continue
            try:
                found = await client.find_order(view.client_order_id, view.symbol)
            except VenueError as exc:
                log.warning(
                    "venue poll failed: %s", exc, extra={"venue": view.venue, "code": exc.code}
                )
                continue
            if found is not None:
                await self._follow_one(order_id, found)
