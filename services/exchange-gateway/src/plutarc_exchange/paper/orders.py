"""Orders as the engine holds them: what the gateway sends, what it can ask back, and the engine's
own record of an open order and of our resting orders by price."""

from __future__ import annotations

from bisect import bisect_left, insort
from dataclasses import dataclass
from decimal import Decimal
from typing import Literal

from plutarc_contracts.exchange import PlaceOrder

from .book import Suspect
from .rules import ZERO

Status = Literal["pending", "open", "partially_filled", "filled", "cancelled", "rejected"]


@dataclass(frozen=True, slots=True)
class PaperOrder:
    """An order as the gateway hands it to the engine. ``account`` is the paper account (one per
    bot) whose balances it uses."""

    order_id: str
    side: Literal["buy", "sell"]
    type: Literal["market", "limit"]
    quantity: Decimal
    price: Decimal | None = None
    post_only: bool = False
    reduce_only: bool = False
    account: str = "default"

    @classmethod
    def from_place_order(cls, order_id: str, command: PlaceOrder, *, account: str) -> PaperOrder:
        """The paper order for a bot's ``PlaceOrder`` command, under the id the gateway gave it."""
        return cls(
            order_id=order_id,
            side=command.side,
            type=command.type,
            quantity=Decimal(command.quantity),
            price=None if command.price is None else Decimal(command.price),
            post_only=command.post_only,
            reduce_only=command.reduce_only,
            account=account,
        )


@dataclass(frozen=True, slots=True)
class OrderView:
    order_id: str
    account: str
    status: Status
    filled: Decimal
    remaining: Decimal
    queue_ahead: Decimal


class Live:
    __slots__ = (
        "buy",
        "filled",
        "fills",
        "order",
        "price",
        "queue",
        "remaining",
        "reserved",
        "status",
        "unit",
    )

    def __init__(self, order: PaperOrder) -> None:
        self.order = order
        self.buy = order.side == "buy"
        self.price = order.price if order.price is not None else ZERO
        self.remaining = order.quantity
        self.filled = ZERO
        self.fills = 0
        self.queue = ZERO
        self.unit = ZERO  # reserved per unit of quantity (quote for a buy, base for a sell)
        self.reserved = ZERO
        self.status: Status = "pending"


class Cancel:
    __slots__ = ("order_id",)

    def __init__(self, order_id: str) -> None:
        self.order_id = order_id


class Resting:
    """Our resting orders on one side, by price, each price's orders in arrival order."""

    __slots__ = ("at", "buys", "prices")

    def __init__(self, *, buys: bool) -> None:
        self.buys = buys
        self.prices: list[Decimal] = []
        self.at: dict[Decimal, list[Live]] = {}

    def cancels(self, price: Decimal, suspect: Suspect | None, displayed: Decimal) -> None:
        """Take what is left of an expired suspect at ``price`` as cancels, spread evenly over
        the orders that stood there (the volume ahead of each shrinks in proportion), and hold
        every queue there to what is ``displayed``."""
        share = suspect.amount / suspect.standing if suspect is not None else ZERO
        for live in self.at.get(price, ()):
            ahead = live.queue
            if share > 0:
                ahead = ahead - ahead * share if share < 1 else ZERO
            live.queue = ahead if ahead < displayed else displayed

    def add(self, live: Live) -> None:
        queue = self.at.get(live.price)
        if queue is None:
            insort(self.prices, live.price)
            self.at[live.price] = [live]
        else:
            queue.append(live)

    def remove(self, live: Live) -> None:
        queue = self.at[live.price]
        queue.remove(live)
        if not queue:
            del self.at[live.price]
            del self.prices[bisect_left(self.prices, live.price)]

    def reached_by(self, price: Decimal) -> list[Live]:
        """Orders a trade at ``price`` reaches, best price first: buys at or above it, sells at
        or below it."""
        out: list[Live] = []
        if self.buys:
            for p in reversed(self.prices):
                if p < price:
                    break
                out.extend(self.at[p])
        else:
            for p in self.prices:
                if p > price:
                    break
                out.extend(self.at[p])
        return out
