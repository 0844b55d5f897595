"""The exchange gateway's command handlers, one function per command, found by class in `handlers`.

An order names a bot; it is routed by the bot's current mode (`Bots`, followed from the bots
service) to the paper engine, or, through an intent carried out by the venue adapter, to the
venue's testnet or live endpoint. The risk gate (`risk.check`) runs first for every mode. A refused
order is recorded as ``exchange.order_rejected`` with its code and nothing reaches any venue; the
command itself is accepted (its reply says ``status: rejected``), so every outcome of an order is
an event on the orders topic. Bad input, an unknown bot or a caller without the permission are
rejected commands that change nothing.
"""

from __future__ import annotations

from datetime import datetime
from decimal import Decimal
from uuid import UUID

from plutarc_access.workspaces import Workspaces
from plutarc_contracts import exchange as x
from plutarc_contracts.bots import effective_limits
from plutarc_runtime.handling import Accepted, Context, Handler, Intent

from . import risk
from .domain import KEYRING_ID, BotAccount, Connection, KeyRing, errors
from .routing import Paper, Route, Venues, route_for
from .sealing import Credentials, SealingKey
from .vault import Vault
from .views import BotInfo, Bots

SERVICE = "exchange-gateway"


def parse_id(value: str, field: str) -> UUID:
    try:
        return UUID(value)
    except ValueError:
        raise errors.InvalidInput(
            f"`{field}` must be a UUID", field=field, code="exchange.invalid_id"
        ) from None


def _refused(
    account: BotAccount, order_id: str, code: str, reason: str, at: datetime
) -> dict[str, str]:
    """Record the order as rejected; the command's reply says so with the code."""
    account.reject(order_id, code, reason, at)
    return {"order_id": order_id, "status": "rejected", "code": code, "reason": reason}


def _amount(value: str | None) -> Decimal | None:
    return None if value is None else Decimal(value)


class _Handlers:
    def __init__(
        self,
        bots: Bots,
        workspaces: Workspaces,
        sealing: SealingKey,
        vault: Vault,
        paper: Paper,
        venues: Venues,
        paper_balances: dict[str, Decimal],
    ) -> None:
        self.bots, self.workspaces = bots, workspaces
        self.sealing, self.vault = sealing, vault
        self.paper, self.venues = paper, venues
        self.paper_balances = paper_balances

    # -- lookups ------------------------------------------------------------------------------------
    def _active(self, workspace_id: str) -> None:
        if self.workspaces.archived(workspace_id):
            raise errors.WorkspaceArchived(f"workspace {workspace_id} is archived")

    def _bot(self, workspace_id: str, bot_id: str) -> BotInfo:
        parse_id(bot_id, "bot_id")
        bot = self.bots.get(bot_id)
        if bot is None or bot.deleted or bot.workspace_id != workspace_id:
            raise errors.BotNotFound(f"no bot {bot_id} in workspace {workspace_id}", field="bot_id")
        return bot

    def _connection(self, ctx: Context, workspace_id: str, connection_id: str) -> Connection:
        found = ctx.store.find(Connection, parse_id(connection_id, "connection_id"))
        if found is None or found.removed or found.workspace_id != workspace_id:
            raise errors.ConnectionNotFound(
                f"no connection {connection_id} in workspace {workspace_id}", field="connection_id"
            )
        return found

    def _account(self, ctx: Context, workspace_id: str, bot_id: str) -> BotAccount:
        found = ctx.store.find(BotAccount, parse_id(bot_id, "bot_id"))
        return found or BotAccount.open(workspace_id=workspace_id, bot_id=UUID(bot_id))

    def _act_for_bot(self, ctx: Context, bot: BotInfo, bot_id: str, permission: str) -> str:
        """The bot's own host acts for it (`bot:<id>`); a member needs `permission`."""
        actor = ctx.command.actor
        if actor.startswith("bot:"):
            if actor != f"bot:{bot_id}":
                raise errors.NotThisBot(f"{actor} may not act for bot {bot_id}")
            return actor
        ctx.require(bot.workspace_id, permission)
        return actor

    # -- keys and connections -----------------------------------------------------------------------
    def publish_sealing_key(self, p: x.PublishSealingKey, ctx: Context) -> Accepted:
        ctx.require_system(SERVICE)
        ring = ctx.store.find(KeyRing, KEYRING_ID) or KeyRing.new()
        changed = ring.publish(p.key_id, p.public_key, ctx.now)
        return Accepted([ring] if changed else [], {"key_id": p.key_id})

    def add_connection(self, p: x.AddConnection, ctx: Context) -> Accepted:
        ctx.require(p.workspace_id, "exchange_connections:manage")
        self._active(p.workspace_id)
        connection_id = parse_id(p.connection_id, "connection_id")
        if ctx.store.find(Connection, connection_id) is not None:
            raise errors.ConnectionExists(f"connection {p.connection_id} exists")
        if not p.credentials:
            raise errors.InvalidInput(
                "no credentials: give live or testnet keys", field="credentials"
            )
        if "testnet" in p.credentials and not self.venues.has_testnet(p.venue):
            raise errors.NoTestnet(
                f"{p.venue} has no testnet: trade it on paper, which works on every venue",
                field="credentials.testnet",
            )
        opened: dict[str, Credentials] = {
            env: self.sealing.open(p.key_id, sealed) for env, sealed in p.credentials.items()
        }
        self.vault.store(p.connection_id, opened)
        first = opened.get("live") or opened["testnet"]
        connection = Connection.add(
            connection_id=connection_id,
            workspace_id=p.workspace_id,
            venue=p.venue,
            label=p.label,
            environments=sorted(opened),
            fingerprint=first.fingerprint(),
            added_by=ctx.command.actor,
            at=ctx.now,
        )
        return Accepted([connection], {"connection_id": p.connection_id})

    def remove_connection(self, p: x.RemoveConnection, ctx: Context) -> Accepted:
        ctx.require(p.workspace_id, "exchange_connections:manage")
        connection = self._connection(ctx, p.workspace_id, p.connection_id)
        self.vault.shred(p.connection_id)
        connection.remove(ctx.command.actor, ctx.now)
        return Accepted([connection], {"connection_id": p.connection_id, "key_destroyed": True})

    # -- the bot's host -----------------------------------------------------------------------------
    def attach_egress(self, p: x.AttachEgress, ctx: Context) -> Accepted:
        bot = self._bot(p.workspace_id, p.bot_id)
        self._act_for_bot(ctx, bot, p.bot_id, "compute:manage_sessions")
        account = self._account(ctx, p.workspace_id, p.bot_id)
        account.attach_egress(p.proxy_url, p.address, ctx.now)
        return Accepted([account], {"bot_id": p.bot_id})

    def detach_egress(self, p: x.DetachEgress, ctx: Context) -> Accepted:
        bot = self._bot(p.workspace_id, p.bot_id)
        self._act_for_bot(ctx, bot, p.bot_id, "compute:manage_sessions")
        account = self._account(ctx, p.workspace_id, p.bot_id)
        if account.egress is None:
            return Accepted([], {"bot_id": p.bot_id})
        account.detach_egress(ctx.now)
        return Accepted([account], {"bot_id": p.bot_id})

    # -- orders -------------------------------------------------------------------------------------
    def place_order(self, p: x.PlaceOrder, ctx: Context) -> Accepted:
        bot = self._bot(p.workspace_id, p.bot_id)
        live = bot.mode == "live"
        self._act_for_bot(ctx, bot, p.bot_id, "trading:live" if live else "trading:paper")
        self._active(p.workspace_id)
        if (p.type == "limit") != (p.price is not None):
            raise errors.InvalidInput(
                "a limit order has a price and a market order none", field="price"
            )
        if p.post_only and p.type != "limit":
            raise errors.InvalidInput("only a limit order can be post-only", field="post_only")
        order_id = ctx.command.command_id
        account = self._account(ctx, p.workspace_id, p.bot_id)
        resumed = self._resume(ctx, bot, account) if bot.mode == "paper" else []
        market = bot.config.market
        starting = self.paper_balances if bot.mode == "paper" else {}
        book = account.book(bot.mode, market.symbol, starting, ctx.now)
        limits = effective_limits(bot.config.risk, self.workspaces.risk(p.workspace_id))
        reference = _amount(p.price) or self.paper.reference_price(
            market.venue, market.symbol, p.side
        )
        route: Route | None = None
        refusal = risk.check(
            p, bot=bot, account=account, book=book, limits=limits, reference=reference, now=ctx.now
        )
        if refusal is None and bot.mode != "paper":
            route, refusal = route_for(bot, account, self.venues, ctx, self._connection)
        if refusal is not None:
            return Accepted(
                [account, *resumed],
                _refused(account, order_id, refusal.code, refusal.reason, ctx.now),
            )
        accepted = x.OrderAccepted(
            workspace_id=p.workspace_id,
            bot_id=p.bot_id,
            order_id=order_id,
            client_order_id=self.venues.client_order_id(market.venue, order_id),
            mode=bot.mode,  # type: ignore[arg-type]
            venue=market.venue,
            symbol=market.symbol,
            side=p.side,
            type=p.type,
            quantity=p.quantity,
            price=p.price,
            post_only=p.post_only,
            reduce_only=p.reduce_only,
        )
        daily = _amount(limits.daily_loss_limit)
        if route is None:
            try:
                reports = self.paper.submit(p.bot_id, market, accepted, book, ctx.now)
            except LookupError as exc:  # no market rules: neither the venue nor a snapshot
                reason = f"paper cannot trade {market.symbol} on {market.venue}: {exc}"
                refused = _refused(account, order_id, "paper.unknown_market", reason, ctx.now)
                return Accepted([account, *resumed], refused)
            mine = next((r for r in reports if r.order_id == order_id and r.rejected_code), None)
            if mine is not None and mine.rejected_code is not None:
                rest = [r for r in reports if r is not mine]
                refused = _refused(
                    account, order_id, mine.rejected_code, mine.rejected_reason, ctx.now
                )
                others = _distinct(resumed, self._apply(ctx, account, rest, daily))
                return Accepted([account, *others], refused)
            account.accept(accepted, ctx.now)
            others = _distinct(resumed, self._apply(ctx, account, reports, daily))
            status = "filled" if order_id not in account.orders else "open"
            return Accepted([account, *others], {"order_id": order_id, "status": status})
        account.accept(accepted, ctx.now)
        intent = Intent(
            adapter="venue",
            key=accepted.client_order_id,
            body={"action": "place", "order": _order_body(accepted), **route.body()},
        )
        return Accepted([account], {"order_id": order_id, "status": "sent"}, [intent])

    def _apply(
        self, ctx: Context, account: BotAccount, reports: list[x.VenueReport], daily: Decimal | None
    ) -> list[BotAccount]:
        """Apply the paper engine's reports to their bots' accounts: the engine is shared by every
        bot on the market, so one bot's order may let another's in flight arrive and fill."""
        touched: dict[str, BotAccount] = {}
        for report in reports:
            if report.rejected_code is not None and report.rejected_code.startswith("cancel."):
                continue  # a cancel that found the order done: the fill said so already
            owner = self.paper.owner(report.order_id)
            if owner is None:
                continue
            if owner[1] == account.bot_id:
                account.report(report, daily, ctx.now)
                continue
            other = touched.get(owner[1]) or self._account(ctx, owner[0], owner[1])
            touched[owner[1]] = other
            bot = self.bots.get(owner[1])
            limit = None
            if bot is not None:
                risk = effective_limits(bot.config.risk, self.workspaces.risk(owner[0]))
                limit = _amount(risk.daily_loss_limit)
            other.report(report, limit, ctx.now)
        return list(touched.values())

    def _resume(self, ctx: Context, bot: BotInfo, account: BotAccount) -> list[BotAccount]:
        """Put the bot's open paper orders that no engine holds back into the engines: the
        engines live in memory, so after a restart they hold none. What they do on arrival is
        applied; the other accounts it touched are returned."""
        waiting = [
            (order_id, order)
            for order_id, order in sorted(account.orders.items())
            if order.mode == "paper" and not self.paper.holds(order_id)
        ]
        book = account.books.get("paper")
        if not waiting or book is None:
            return []
        try:
            reports = self.paper.resume(
                account.workspace_id, account.bot_id, bot.config.market, book, waiting, ctx.now
            )
        except LookupError:  # the market's rules are gone: the orders stay open, said by the API
            return []
        limits = effective_limits(bot.config.risk, self.workspaces.risk(bot.workspace_id))
        return self._apply(ctx, account, reports, _amount(limits.daily_loss_limit))

    def resume_paper_orders(self, p: x.ResumePaperOrders, ctx: Context) -> Accepted:
        ctx.require_system(SERVICE)
        account = ctx.store.find(BotAccount, parse_id(p.bot_id, "bot_id"))
        bot = self.bots.get(p.bot_id)
        if bot is None or account is None or account.workspace_id != p.workspace_id:
            return Accepted([], {"bot_id": p.bot_id, "resumed": 0})
        before = {oid for oid, o in account.orders.items() if not self.paper.holds(oid)}
        others = self._resume(ctx, bot, account)
        resumed = sum(1 for oid in before if self.paper.holds(oid))
        return Accepted([account, *others], {"bot_id": p.bot_id, "resumed": resumed})

    def cancel_order(self, p: x.CancelOrder, ctx: Context) -> Accepted:
        bot = self._bot(p.workspace_id, p.bot_id)
        self._act_for_bot(ctx, bot, p.bot_id, "trading:paper")
        account = self._account(ctx, p.workspace_id, p.bot_id)
        order = account.order(p.order_id)
        return self._cancel(ctx, bot, account, [(p.order_id, order.mode, order.client_order_id)])

    def cancel_all_orders(self, p: x.CancelAllOrders, ctx: Context) -> Accepted:
        bot = self._bot(p.workspace_id, p.bot_id)
        self._act_for_bot(ctx, bot, p.bot_id, "trading:paper")
        account = self._account(ctx, p.workspace_id, p.bot_id)
        targets = [(oid, o.mode, o.client_order_id) for oid, o in sorted(account.orders.items())]
        return self._cancel(ctx, bot, account, targets)

    def _cancel(
        self, ctx: Context, bot: BotInfo, account: BotAccount, targets: list[tuple[str, str, str]]
    ) -> Accepted:
        """Paper cancels go to the engine (they reach it after the venue's latency, so a fill may
        still come first); testnet and live ones become venue intents. The order stays open until
        the venue (or the engine) confirms."""
        intents: list[Intent] = []
        touched: list[BotAccount] = []
        if any(mode == "paper" for _, mode, _ in targets):
            touched = self._resume(ctx, bot, account)
        limits = effective_limits(bot.config.risk, self.workspaces.risk(bot.workspace_id))
        for order_id, mode, client_id in targets:
            if mode == "paper":
                reports = self.paper.cancel(account.bot_id, bot.config.market, order_id, ctx.now)
                touched += self._apply(ctx, account, reports, _amount(limits.daily_loss_limit))
            else:
                intents.append(
                    Intent(
                        adapter="venue",
                        key=f"cancel:{client_id}",
                        body={
                            "action": "cancel",
                            "order_id": order_id,
                            "client_order_id": client_id,
                            "bot_id": account.bot_id,
                            "workspace_id": account.workspace_id,
                            "mode": mode,
                        },
                    )
                )
        result = {
            "requested": [t[0] for t in targets],
            "cancelled": [t[0] for t in targets if t[0] not in account.orders],
        }
        return Accepted([account, *_distinct(touched)], result, intents)

    def record_venue_reports(self, p: x.RecordVenueReports, ctx: Context) -> Accepted:
        ctx.require_system(SERVICE)
        bot = self.bots.get(p.bot_id)
        account = self._account(ctx, p.workspace_id, p.bot_id)
        daily = None
        if bot is not None:
            limits = effective_limits(bot.config.risk, self.workspaces.risk(p.workspace_id))
            daily = _amount(limits.daily_loss_limit)
        for report in p.reports:
            account.report(report, daily, ctx.now)
        return Accepted([account], {"bot_id": p.bot_id})


def _distinct(*groups: list[BotAccount]) -> list[BotAccount]:
    """The accounts of ``groups``, each once, in order."""
    seen: dict[UUID, BotAccount] = {}
    for group in groups:
        for account in group:
            seen.setdefault(account.id, account)
    return list(seen.values())


def _order_body(order: x.OrderAccepted) -> dict[str, object]:
    return {
        "order_id": order.order_id,
        "client_order_id": order.client_order_id,
        "bot_id": order.bot_id,
        "workspace_id": order.workspace_id,
        "mode": order.mode,
        "venue": order.venue,
        "symbol": order.symbol,
        "side": order.side,
        "type": order.type,
        "quantity": order.quantity,
        "price": order.price,
        "post_only": order.post_only,
        "reduce_only": order.reduce_only,
    }


def handlers(
    bots: Bots,
    workspaces: Workspaces,
    sealing: SealingKey,
    vault: Vault,
    paper: Paper,
    venues: Venues,
    paper_balances: dict[str, Decimal],
) -> dict[type, Handler]:
    h = _Handlers(bots, workspaces, sealing, vault, paper, venues, paper_balances)
    return {
        x.PublishSealingKey: h.publish_sealing_key,
        x.AddConnection: h.add_connection,
        x.RemoveConnection: h.remove_connection,
        x.AttachEgress: h.attach_egress,
        x.DetachEgress: h.detach_egress,
        x.PlaceOrder: h.place_order,
        x.CancelOrder: h.cancel_order,
        x.CancelAllOrders: h.cancel_all_orders,
        x.RecordVenueReports: h.record_venue_reports,
        x.ResumePaperOrders: h.resume_paper_orders,
    }
