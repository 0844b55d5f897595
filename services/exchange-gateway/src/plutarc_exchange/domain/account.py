"""A bot's account at the gateway: its open orders, and per mode its position, balances and PnL.

One stream per bot (the stream id is the bot's id), so every outcome of the bot's orders is keyed
by the bot on ``exchange.orders.v1`` and in order. Positions, balances and PnL are folded from
fills alone (average cost; fees in the quote currency lower the realised PnL), separately per mode:
a paper position is not a testnet one. Closed orders leave the state (their history is the
stream), so loading the account costs what its open orders cost, not its history.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from decimal import Decimal
from typing import Any, ClassVar
from uuid import UUID

import msgspec
from plutarc_contracts import exchange as x
from plutarc_runtime.domain import Aggregate

from . import errors

ZERO = Decimal(0)


class OpenOrder(msgspec.Struct, kw_only=True):
    mode: str
    side: str
    type: str
    quantity: Decimal
    price: Decimal | None
    filled: Decimal = ZERO
    reduce_only: bool = False
    client_order_id: str
    fill_ids: list[str] = []

    @property
    def remaining(self) -> Decimal:
        return self.quantity - self.filled


class Book(msgspec.Struct, kw_only=True):
    """One mode's position, balances and PnL, and its trading day's realised PnL."""

    symbol: str
    base: str
    quote: str
    quantity: Decimal = ZERO
    average_price: Decimal = ZERO
    realised: Decimal = ZERO
    fees: Decimal = ZERO
    balances: dict[str, Decimal] = {}
    day: str = ""
    day_pnl: Decimal = ZERO
    halted_until: datetime | None = None

    def apply_fill(self, side: str, fill: x.Fill) -> None:
        qty, price, fee = Decimal(fill.quantity), Decimal(fill.price), Decimal(fill.fee)
        signed = qty if side == "buy" else -qty
        before = self.realised
        if self.quantity == 0 or (self.quantity > 0) == (signed > 0):
            total = self.quantity + signed
            self.average_price = (abs(self.quantity) * self.average_price + qty * price) / abs(
                total
            )
            self.quantity = total
        else:
            closed = min(qty, abs(self.quantity))
            direction = 1 if self.quantity > 0 else -1
            self.realised += (price - self.average_price) * closed * direction
            self.quantity += signed
            if self.quantity == 0:
                self.average_price = ZERO
            elif (self.quantity > 0) == (signed > 0):  # went through flat to the other side
                self.average_price = price
        if fill.fee_currency == self.quote:
            self.realised -= fee
        self.fees += fee
        cash = qty * price
        self._move(self.quote, -cash if side == "buy" else cash)
        self._move(self.base, signed)
        if fill.fee_currency in (self.quote, self.base):
            self._move(fill.fee_currency, -fee)
        day = fill.at.date().isoformat()
        if day != self.day:
            self.day, self.day_pnl = day, ZERO
        self.day_pnl += self.realised - before

    def _move(self, currency: str, amount: Decimal) -> None:
        self.balances[currency] = self.balances.get(currency, ZERO) + amount

    def day_loss(self, at: datetime) -> Decimal:
        return -self.day_pnl if self.day == at.date().isoformat() and self.day_pnl < 0 else ZERO

    def halted(self, at: datetime) -> bool:
        return self.halted_until is not None and at < self.halted_until


OUT = Decimal("1e-12")


def _plain(value: Decimal) -> str:
    """As the contracts carry amounts: plain notation, at most 12 decimals (an average price is a
    quotient), no trailing zeros."""
    text = format(value.quantize(OUT).normalize(), "f")
    return "0" if text in ("-0", "") else text


def split_symbol(symbol: str) -> tuple[str, str]:
    base, _, rest = symbol.partition("/")
    return base, rest.partition(":")[0]


class BotAccount(Aggregate):
    stream_type: ClassVar[str] = "exchange.account"
    workspace_id: str
    bot_id: str
    orders: dict[str, OpenOrder]
    books: dict[str, Book]
    egress: str | None

    @classmethod
    def open(cls, *, workspace_id: str, bot_id: UUID) -> BotAccount:
        account = cls.blank(bot_id)
        account.workspace_id, account.bot_id = workspace_id, str(bot_id)
        account.orders, account.books, account.egress = {}, {}, None
        return account

    # -- reading ------------------------------------------------------------------------------------
    def book(self, mode: str, symbol: str, starting: dict[str, Decimal], at: datetime) -> Book:
        """The mode's book for `symbol`, opened (an event) with `starting` balances when the mode
        has none yet or the bot's market changed."""
        found = self.books.get(mode)
        if found is None or found.symbol != symbol:
            self._trigger(
                x.AccountOpened(
                    workspace_id=self.workspace_id,
                    bot_id=self.bot_id,
                    mode=mode,  # type: ignore[arg-type]
                    symbol=symbol,
                    balances=[
                        x.Balance(currency=c, free=_plain(v), reserved="0")
                        for c, v in sorted(starting.items())
                    ],
                ),
                at,
            )
            found = self.books[mode]
        return found

    def open_in(self, mode: str) -> list[tuple[str, OpenOrder]]:
        return [(oid, o) for oid, o in self.orders.items() if o.mode == mode]

    def order(self, order_id: str) -> OpenOrder:
        found = self.orders.get(order_id)
        if found is None:
            raise errors.OrderNotOpen(f"order {order_id} is not open", field="order_id")
        return found

    # -- verbs --------------------------------------------------------------------------------------
    def attach_egress(self, proxy_url: str, address: str, at: datetime) -> None:
        self._trigger(
            x.EgressAttached(
                workspace_id=self.workspace_id,
                bot_id=self.bot_id,
                proxy_url=proxy_url,
                address=address,
            ),
            at,
        )

    def detach_egress(self, at: datetime) -> None:
        self._trigger(x.EgressDetached(workspace_id=self.workspace_id, bot_id=self.bot_id), at)

    def accept(self, accepted: x.OrderAccepted, at: datetime) -> None:
        self._trigger(accepted, at)

    def reject(self, order_id: str, code: str, reason: str, at: datetime) -> None:
        self._trigger(
            x.OrderRejected(
                workspace_id=self.workspace_id,
                bot_id=self.bot_id,
                order_id=order_id,
                code=code,
                reason=reason[:500],
            ),
            at,
        )

    def report(self, report: x.VenueReport, daily_limit: Decimal | None, at: datetime) -> None:
        """What a venue or the paper engine said about one open order; fills seen before (a
        report delivered twice) change nothing."""
        order = self.orders.get(report.order_id)
        if order is None:
            return  # closed already: a late duplicate
        if report.rejected_code is not None:
            self.reject(report.order_id, report.rejected_code, report.rejected_reason, at)
            return
        filled_any = False
        for fill in report.fills:
            if fill.fill_id in order.fill_ids or order.remaining <= 0:
                continue
            quantity = min(Decimal(fill.quantity), order.remaining)
            if quantity != Decimal(fill.quantity):
                fill = msgspec.structs.replace(fill, quantity=_plain(quantity))
            remaining = order.remaining - quantity
            self._trigger(
                x.OrderFilled(
                    workspace_id=self.workspace_id,
                    bot_id=self.bot_id,
                    order_id=report.order_id,
                    fill=fill,
                    remaining=_plain(remaining),
                    status="filled" if remaining == 0 else "partially_filled",
                ),
                at,
            )
            filled_any = True
        if filled_any:
            book = self.books[order.mode]
            self._position(order.mode, book, at)
            self._check_daily_loss(order.mode, book, daily_limit, at)
        if report.cancelled and report.order_id in self.orders:
            self.cancel(report.order_id, "venue", at)

    def cancel(self, order_id: str, reason: str, at: datetime) -> None:
        order = self.order(order_id)
        self._trigger(
            x.OrderCancelled(
                workspace_id=self.workspace_id,
                bot_id=self.bot_id,
                order_id=order_id,
                remaining=_plain(order.remaining),
                reason=reason,  # type: ignore[arg-type]
            ),
            at,
        )

    def _position(self, mode: str, book: Book, at: datetime) -> None:
        reserved: dict[str, Decimal] = {}
        for _, order in self.open_in(mode):
            if order.side == "buy" and order.price is not None:
                reserved[book.quote] = (
                    reserved.get(book.quote, ZERO) + order.remaining * order.price
                )
            elif order.side == "sell":
                reserved[book.base] = reserved.get(book.base, ZERO) + order.remaining
        self._trigger(
            x.PositionChanged(
                workspace_id=self.workspace_id,
                bot_id=self.bot_id,
                mode=mode,  # type: ignore[arg-type]
                symbol=book.symbol,
                quantity=_plain(book.quantity),
                average_price=_plain(book.average_price),
                realised_pnl=_plain(book.realised),
                fees_paid=_plain(book.fees),
                balances=[
                    x.Balance(
                        currency=currency,
                        free=_plain(amount - reserved.get(currency, ZERO)),
                        reserved=_plain(reserved.get(currency, ZERO)),
                    )
                    for currency, amount in sorted(book.balances.items())
                ],
            ),
            at,
        )

    def _check_daily_loss(self, mode: str, book: Book, limit: Decimal | None, at: datetime) -> None:
        if limit is None or book.halted(at) or book.day_loss(at) <= limit:
            return
        midnight = datetime.combine(at.date() + timedelta(days=1), datetime.min.time(), at.tzinfo)
        self._trigger(
            x.EntriesHalted(
                workspace_id=self.workspace_id,
                bot_id=self.bot_id,
                mode=mode,  # type: ignore[arg-type]
                limit="daily_loss_limit",
                loss=_plain(book.day_loss(at)),
                threshold=_plain(limit),
                until=midnight,
            ),
            at,
        )

    # -- applying -----------------------------------------------------------------------------------
    def apply(self, payload: msgspec.Struct, at: datetime) -> None:
        p: Any = payload
        if self.version == 0:
            self.workspace_id, self.bot_id = p.workspace_id, p.bot_id
            self.orders, self.books, self.egress = {}, {}, None
        match p:
            case x.AccountOpened():
                base, quote = split_symbol(p.symbol)
                self.books[p.mode] = Book(
                    symbol=p.symbol,
                    base=base,
                    quote=quote,
                    balances={b.currency: Decimal(b.free) for b in p.balances},
                )
            case x.OrderAccepted():
                self.orders[p.order_id] = OpenOrder(
                    mode=p.mode,
                    side=p.side,
                    type=p.type,
                    quantity=Decimal(p.quantity),
                    price=None if p.price is None else Decimal(p.price),
                    reduce_only=p.reduce_only,
                    client_order_id=p.client_order_id,
                )
            case x.OrderFilled():
                order = self.orders[p.order_id]
                order.filled += Decimal(p.fill.quantity)
                order.fill_ids.append(p.fill.fill_id)
                self.books[order.mode].apply_fill(order.side, p.fill)
                if p.status == "filled":
                    del self.orders[p.order_id]
            case x.OrderCancelled():
                self.orders.pop(p.order_id, None)
            case x.OrderRejected():
                self.orders.pop(p.order_id, None)
            case x.EntriesHalted():
                self.books[p.mode].halted_until = p.until
            case x.EgressAttached():
                self.egress = p.proxy_url
            case x.EgressDetached():
                self.egress = None
            case x.PositionChanged():
                pass
