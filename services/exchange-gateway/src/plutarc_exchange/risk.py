"""The risk gate: every order of every mode passes it before any venue or the paper engine.

The limits in force are the bot's capped by its workspace's (`plutarc_contracts.bots.
effective_limits`). Notionals are in the quote currency at the order's price, or for a market
order at the best price it would take (the paper engine's view of the book). An order that opens
or grows a position is an *entry*; exits (orders that reduce the position) pass the position
limit and a halt after a daily loss, so a bot can always get flat.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal

from plutarc_contracts import exchange as x
from plutarc_contracts.bots import RiskLimits

from .domain import Book, BotAccount
from .views import BotInfo


@dataclass(frozen=True)
class Refusal:
    code: str
    reason: str


def signed(side: str, quantity: Decimal) -> Decimal:
    return quantity if side == "buy" else -quantity


def is_entry(position: Decimal, change: Decimal) -> bool:
    return abs(position + change) > abs(position)


def check(
    p: x.PlaceOrder,
    *,
    bot: BotInfo,
    account: BotAccount,
    book: Book,
    limits: RiskLimits,
    reference: Decimal | None,
    now: datetime,
) -> Refusal | None:
    quantity = Decimal(p.quantity)
    if quantity <= 0:
        return Refusal("order.invalid_quantity", "the quantity must be above zero")
    change = signed(p.side, quantity)
    entry = is_entry(book.quantity, change)
    if not bot.running and entry:
        return Refusal(
            "exchange.bot_not_running", "the bot is stopped: only orders that reduce its position"
        )
    if entry and book.halted(now):
        return Refusal(
            "risk.entries_halted",
            f"the daily loss limit was breached: no new entries until {book.halted_until}",
        )
    open_orders = account.open_in(bot.mode)
    if limits.max_open_orders is not None and len(open_orders) >= limits.max_open_orders:
        return Refusal(
            "risk.max_open_orders",
            f"{len(open_orders)} orders are open; the limit is {limits.max_open_orders}",
        )
    priced = limits.max_order_notional is not None or limits.max_position is not None
    if reference is None:
        if priced:
            return Refusal(
                "risk.no_reference_price",
                "no price to check the order's notional against: no market data for the market",
            )
        return None
    notional = quantity * reference
    if limits.max_order_notional is not None and notional > Decimal(limits.max_order_notional):
        return Refusal(
            "risk.max_order_notional",
            f"the order's notional {notional.normalize():f} is above the limit "
            f"{limits.max_order_notional}",
        )
    if entry and limits.max_position is not None:
        pending = sum(
            (signed(o.side, o.remaining) for _, o in open_orders if not o.reduce_only),
            Decimal(0),
        )
        worst = max(abs(book.quantity + change), abs(book.quantity + change + pending))
        if worst * reference > Decimal(limits.max_position):
            return Refusal(
                "risk.max_position",
                f"the position would reach {(worst * reference).normalize():f} in notional, "
                f"above the limit {limits.max_position}",
            )
    return None
