"""The paper fill engine: one market of one venue, any number of paper accounts.

Pure and deterministic: no I/O, no wall clock, no global random. Time is what the caller says
(``now`` of a submit or cancel, ``at`` of market data); the latency generator is seeded. Every
method returns the `VenueReport`s it produced, in the order they happened. The model is described
in docs/paper-engine.md.
"""

from __future__ import annotations

import hashlib
import heapq
import random
from collections.abc import Iterable
from datetime import datetime, timedelta
from decimal import ROUND_DOWN, Decimal

from plutarc_contracts.exchange import Balance, Fill, Liquidity, VenueReport
from plutarc_contracts.market import BookUpdate, Level, Trade

from .accounts import Account, InsufficientFunds
from .book import BookSide, Suspect
from .latency import LatencyModel
from .orders import Cancel, Live, OrderView, PaperOrder, Resting, Status
from .rules import ONE, ZERO, MarketRules, text

FEE_QUANTUM = Decimal("1e-12")
"""Fees are cut (rounded toward zero) to this, so a fee never exceeds what a buy reserved."""

BAD_PRECISION = "order.bad_precision"
BELOW_MIN_AMOUNT = "order.below_min_amount"
BELOW_MIN_NOTIONAL = "order.below_min_notional"
INSUFFICIENT_FUNDS = "order.insufficient_funds"
POST_ONLY_WOULD_TAKE = "order.post_only_would_take"
REDUCE_ONLY_WOULD_INCREASE = "order.reduce_only_would_increase"
NO_LIQUIDITY = "order.no_liquidity"
INVALID = "order.invalid"
DUPLICATE = "order.duplicate"
CANCEL_NOT_OPEN = "cancel.order_not_open"


def _reject(order_id: str, code: str, reason: str) -> VenueReport:
    return VenueReport(order_id=order_id, rejected_code=code, rejected_reason=reason)


def _fill_id(order_id: str, n: int) -> str:
    suffix = f".{n}"
    if len(order_id) + len(suffix) <= 64:
        return order_id + suffix
    return hashlib.blake2b(order_id.encode(), digest_size=16).hexdigest() + suffix


def _levels(levels: Iterable[Level]) -> dict[Decimal, Decimal]:
    out = {}
    for p, a in levels:
        amount = Decimal(a)
        if amount > 0:
            out[Decimal(p)] = amount
    return out


class PaperEngine:
    """Fills paper orders of one market from its public book and trades.

    Call ``on_book`` and ``on_trade`` with the market's data in the order it arrived, ``submit``
    and ``cancel`` as orders come; ``advance`` lets time pass when no data does (an order in
    flight arrives). Times must be timezone-aware."""

    def __init__(
        self,
        rules: MarketRules,
        *,
        latency: LatencyModel | None = None,
        seed: int = 0,
        book_trade_lag: timedelta = timedelta(seconds=1),
    ) -> None:
        self.rules = rules
        self.book_trade_lag = book_trade_lag
        self.latency = latency or LatencyModel()
        self.now: datetime | None = None
        self._rng = random.Random(seed)
        self._bids = BookSide(bids=True, lag=book_trade_lag)
        self._asks = BookSide(bids=False, lag=book_trade_lag)
        self._buys = Resting(buys=True)
        self._sells = Resting(buys=False)
        self._orders: dict[str, Live] = {}
        self._accounts: dict[str, Account] = {}
        self._pending: list[tuple[datetime, int, Live | Cancel]] = []
        self._last_arrival: dict[str, datetime] = {}
        self._seq = 0

    # --- accounts and queries -------------------------------------------------------------------
    def deposit(self, account: str, currency: str, amount: Decimal | str) -> None:
        self._account(account).deposit(currency, Decimal(amount))

    def balances(self, account: str) -> list[Balance]:
        return self._account(account).balances()

    def free(self, account: str, currency: str) -> Decimal:
        return self._account(account).free.get(currency, ZERO)

    def reserved(self, account: str, currency: str) -> Decimal:
        return self._account(account).reserved.get(currency, ZERO)

    def position(self, account: str) -> Decimal:
        """Net quantity the account's fills bought, in the market's unit (negative: sold)."""
        return self._account(account).position

    def order(self, order_id: str) -> OrderView | None:
        """A pending or open order; the engine forgets an order once it is done (its reports are
        the record)."""
        live = self._orders.get(order_id)
        if live is None:
            return None
        return OrderView(
            order_id, live.order.account, live.status, live.filled, live.remaining, live.queue
        )

    def open_orders(self, account: str | None = None) -> list[OrderView]:
        views = (self.order(order_id) for order_id in self._orders)
        return [v for v in views if v is not None and account in (None, v.account)]

    def best_bid(self) -> Decimal | None:
        """The best bid with liquidity paper orders have not taken."""
        return self._bids.best()

    def best_ask(self) -> Decimal | None:
        return self._asks.best()

    # --- inputs ---------------------------------------------------------------------------------
    def submit(self, order: PaperOrder, now: datetime) -> list[VenueReport]:
        """Send an order. Rules that do not depend on the market (precision, minimums on a limit
        order, malformed orders) reject it at once; the rest is decided when it reaches the venue,
        after its latency, against the book as it is then."""
        reports = self._advance(now)
        refusal = self._check(order)
        if refusal is not None:
            reports.append(_reject(order.order_id, *refusal))
            return reports
        live = Live(order)
        self._orders[order.order_id] = live
        self._send(order.account, live, now)
        reports.extend(self._advance(now))
        return reports

    def cancel(self, order_id: str, now: datetime) -> list[VenueReport]:
        """Ask to cancel; it reaches the venue after the account's earlier requests."""
        reports = self._advance(now)
        live = self._orders.get(order_id)
        self._send(live.order.account if live else "", Cancel(order_id), now)
        reports.extend(self._advance(now))
        return reports

    def cancel_all(self, account: str, now: datetime) -> list[VenueReport]:
        """Cancel every pending or open order of ``account``, one cancel each."""
        reports = self._advance(now)
        for order_id, live in list(self._orders.items()):
            if live.order.account == account:
                self._send(account, Cancel(order_id), now)
        reports.extend(self._advance(now))
        return reports

    def advance(self, now: datetime) -> list[VenueReport]:
        """Let time pass to ``now``: orders and cancels due by then reach the venue."""
        return self._advance(now)

    def on_book(self, update: BookUpdate) -> list[VenueReport]:
        reports = self._advance(update.at)
        now = self.now
        assert now is not None
        if update.snapshot:
            for side, resting, levels in (
                (self._bids, self._buys, update.bids),
                (self._asks, self._sells, update.asks),
            ):
                for price, old, expired in side.replace(_levels(levels), now, resting.at.keys()):
                    self._requeue(side, resting, price, old, expired)
            return reports
        for side, resting, levels in (
            (self._bids, self._buys, update.bids),
            (self._asks, self._sells, update.asks),
        ):
            watched = resting.at
            for p, a in levels:
                price = Decimal(p)
                old, expired = side.put(price, Decimal(a), now)
                if price in watched:
                    self._requeue(side, resting, price, old, expired)
        return reports

    def on_trade(self, trade: Trade) -> list[VenueReport]:
        """A public trade fills our resting orders it reaches, within its volume: an order at a
        better price than the trade's fully (the trade went through it), an order at the trade's
        price only with what is left after the queue ahead of it."""
        reports = self._advance(trade.at)
        price = Decimal(trade.price)
        amount = Decimal(trade.amount)
        book, resting = (
            (self._asks, self._sells) if trade.side == "buy" else (self._bids, self._buys)
        )
        assert self.now is not None
        expired = book.note_trade(price, amount, self.now)
        if expired is not None:
            resting.cancels(price, expired, book.displayed(price))
        reached = resting.reached_by(price)
        pool = amount
        step = self.rules.amount_step
        for live in reached:
            if live.price == price:
                ahead = live.queue
                take = pool - ahead if pool > ahead else ZERO
                live.queue = ahead - amount if ahead > amount else ZERO
            else:
                take = pool
                live.queue = ZERO
            if take <= 0:
                continue
            if take >= live.remaining:
                take = live.remaining
            elif take % step:
                take = take // step * step
                if not take:
                    continue
            pool -= take
            fill = self._fill(live, live.price, take, "maker")
            if not live.remaining:
                (self._buys if live.buy else self._sells).remove(live)
                self._done(live, "filled")
            else:
                live.status = "partially_filled"
            reports.append(VenueReport(order_id=live.order.order_id, fills=[fill]))
        return reports

    # --- time -----------------------------------------------------------------------------------
    def _send(self, account: str, action: Live | Cancel, now: datetime) -> None:
        arrival = now + self.latency.sample(self._rng)
        last = self._last_arrival.get(account)
        if last is not None and arrival < last:
            arrival = last  # one connection: requests reach the venue in the order they were sent
        self._last_arrival[account] = arrival
        self._seq += 1
        heapq.heappush(self._pending, (arrival, self._seq, action))

    def _advance(self, to: datetime) -> list[VenueReport]:
        reports: list[VenueReport] = []
        pending = self._pending
        if not pending or pending[0][0] > to:
            if self.now is None or to > self.now:
                self.now = to
            return reports
        while pending and pending[0][0] <= to:
            arrival, _, action = heapq.heappop(pending)
            if self.now is None or arrival > self.now:
                self.now = arrival
            if isinstance(action, Cancel):
                reports.append(self._cancel_arrives(action.order_id))
            else:
                reports.append(self._order_arrives(action))
        if self.now is None or to > self.now:
            self.now = to
        return reports

    # --- orders ---------------------------------------------------------------------------------
    def _account(self, name: str) -> Account:
        account = self._accounts.get(name)
        if account is None:
            account = self._accounts[name] = Account()
        return account

    def _check(self, order: PaperOrder) -> tuple[str, str] | None:
        rules = self.rules
        if order.order_id in self._orders:
            return DUPLICATE, "an order with this id is already pending or open"
        if order.side not in ("buy", "sell") or order.type not in ("market", "limit"):
            return INVALID, f"unknown side {order.side!r} or type {order.type!r}"
        quantity, price = order.quantity, order.price
        if not quantity.is_finite() or quantity <= 0:
            return INVALID, "the quantity must be a positive number"
        if order.type == "market":
            if price is not None:
                return INVALID, "a market order takes no price"
            if order.post_only:
                return INVALID, "a market order cannot be post-only"
        elif price is None or not price.is_finite() or price <= 0:
            return INVALID, "a limit order needs a positive price"
        if not rules.on_step(quantity):
            return (
                BAD_PRECISION,
                f"quantity {text(quantity)} is not a multiple of {text(rules.amount_step)}",
            )
        if price is not None and not rules.on_tick(price):
            return (
                BAD_PRECISION,
                f"price {text(price)} is not a multiple of {text(rules.price_tick)}",
            )
        if quantity < rules.min_amount:
            return (
                BELOW_MIN_AMOUNT,
                f"quantity {text(quantity)} is below the minimum {text(rules.min_amount)}",
            )
        if price is not None and quantity * price * rules.contract_size < rules.min_notional:
            notional = quantity * price * rules.contract_size
            return BELOW_MIN_NOTIONAL, (
                f"notional {text(notional)} is below the minimum {text(rules.min_notional)}"
            )
        return None

    def _order_arrives(self, live: Live) -> VenueReport:
        order = live.order
        rules = self.rules
        account = self._account(order.account)
        opposite = self._asks if live.buy else self._bids
        if order.reduce_only:
            room = -account.position if live.buy else account.position
            if room < order.quantity:
                return self._refuse(
                    live,
                    REDUCE_ONLY_WOULD_INCREASE,
                    f"the position is {text(account.position)}: a reduce-only {order.side} of "
                    f"{text(order.quantity)} would grow or flip it",
                )
        if order.type == "market":
            plan = self._plan(opposite, order.quantity, None)
            if not plan:
                return self._refuse(
                    live, NO_LIQUIDITY, f"no {'asks' if live.buy else 'bids'} to take"
                )
            if order.quantity * plan[0][0] * rules.contract_size < rules.min_notional:
                return self._refuse(
                    live,
                    BELOW_MIN_NOTIONAL,
                    f"notional {text(order.quantity * plan[0][0] * rules.contract_size)} at the "
                    "best price is below "
                    f"the minimum {text(rules.min_notional)}",
                )
            if live.buy:
                notional = sum((p * q for p, q in plan), ZERO) * rules.contract_size
                need = notional + self._fee(notional, rules.taker_fee)
                currency = rules.quote
            else:
                need, currency = order.quantity * rules.contract_size, rules.base
            if not account.can_pay(currency, need):
                return self._refuse(
                    live,
                    INSUFFICIENT_FUNDS,
                    f"{text(need)} {currency} needed, {text(account.free.get(currency, ZERO))} free",
                )
        else:
            price = live.price
            best = opposite.best()
            crosses = best is not None and (best <= price if live.buy else best >= price)
            if crosses and order.post_only:
                return self._refuse(
                    live,
                    POST_ONLY_WOULD_TAKE,
                    f"the best {'ask' if live.buy else 'bid'} is {text(best or ZERO)}",
                )
            size = rules.contract_size
            live.unit = price * size * (ONE + rules.reserve_fee) if live.buy else size
            currency = rules.quote if live.buy else rules.base
            try:
                account.reserve(currency, order.quantity * live.unit)
            except InsufficientFunds as exc:
                return self._refuse(live, INSUFFICIENT_FUNDS, str(exc))
            live.reserved = order.quantity * live.unit
            plan = self._plan(opposite, order.quantity, price) if crosses else []
        fills = []
        for p, q in plan:
            opposite.take(p, q)
            fills.append(self._fill(live, p, q, "taker"))
        venue_id = "paper-" + order.order_id
        if not live.remaining:
            self._done(live, "filled")
            return VenueReport(order_id=order.order_id, fills=fills, venue_order_id=venue_id)
        if order.type == "market":
            self._done(live, "cancelled")
            return VenueReport(
                order_id=order.order_id, fills=fills, cancelled=True, venue_order_id=venue_id
            )
        live.status = "partially_filled" if fills else "open"
        side, resting = (self._bids, self._buys) if live.buy else (self._asks, self._sells)
        assert self.now is not None
        expired = side.expire(live.price, self.now)
        if expired is not None:
            resting.cancels(live.price, expired, side.displayed(live.price))
        live.queue = side.available(live.price) + side.suspected(live.price)
        resting.add(live)
        return VenueReport(order_id=order.order_id, fills=fills, venue_order_id=venue_id)

    def _cancel_arrives(self, order_id: str) -> VenueReport:
        live = self._orders.get(order_id)
        if live is None or live.status not in ("open", "partially_filled"):
            return _reject(
                order_id, CANCEL_NOT_OPEN, "the order is not open (unknown, filled or cancelled)"
            )
        (self._buys if live.buy else self._sells).remove(live)
        self._account(live.order.account).release(
            self.rules.quote if live.buy else self.rules.base, live.reserved
        )
        live.reserved = ZERO
        self._done(live, "cancelled")
        return VenueReport(order_id=order_id, cancelled=True)

    def _refuse(self, live: Live, code: str, reason: str) -> VenueReport:
        self._done(live, "rejected")
        return _reject(live.order.order_id, code, reason)

    def _done(self, live: Live, status: Status) -> None:
        live.status = status
        del self._orders[live.order.order_id]

    def _plan(
        self, side: BookSide, quantity: Decimal, limit: Decimal | None
    ) -> list[tuple[Decimal, Decimal]]:
        plan = []
        left = quantity
        for price, available in side.walk():
            if limit is not None and (price < limit if side.bids else price > limit):
                break
            take = available if available < left else left
            plan.append((price, take))
            left -= take
            if not left:
                break
        return plan

    @staticmethod
    def _fee(notional: Decimal, rate: Decimal) -> Decimal:
        if not rate:
            return ZERO
        return (notional * rate).quantize(FEE_QUANTUM, ROUND_DOWN)

    def _fill(self, live: Live, price: Decimal, quantity: Decimal, liquidity: Liquidity) -> Fill:
        rules = self.rules
        account = self._account(live.order.account)
        base = quantity * rules.contract_size
        notional = price * base
        fee = self._fee(notional, rules.taker_fee if liquidity == "taker" else rules.maker_fee)
        if live.unit:
            part = live.reserved if quantity >= live.remaining else quantity * live.unit
            account.release(rules.quote if live.buy else rules.base, part)
            live.reserved -= part
        if live.buy:
            account.settle(rules.quote, notional + fee, rules.base, base)
            account.position += quantity
        else:
            account.settle(rules.base, base, rules.quote, notional - fee)
            account.position -= quantity
        live.remaining -= quantity
        live.filled += quantity
        live.fills += 1
        assert self.now is not None
        return Fill(
            fill_id=_fill_id(live.order.order_id, live.fills),
            quantity=text(quantity),
            price=text(price),
            fee=text(fee),
            fee_currency=rules.quote,
            liquidity=liquidity,
            at=self.now,
        )

    def _requeue(
        self,
        side: BookSide,
        resting: Resting,
        price: Decimal,
        old: Decimal,
        expired: Suspect | None,
    ) -> None:
        """The displayed amount at a price where our orders rest changed (from ``old``). A suspect
        there that expired first counts as cancels against the level as it stood; the volume
        ahead is then held to what is displayed plus what trades may still explain."""
        if expired is not None:
            resting.cancels(price, expired, old)
        ceiling = side.displayed(price) + side.suspected(price)
        for live in resting.at[price]:
            if live.queue > ceiling:
                live.queue = ceiling
