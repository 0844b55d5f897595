"""A compiled strategy: candles in, intents out, and the strategy's own book of what it holds.

Per candle, every rule reads the candle in the order of ``spec.components``; then the exits they
proposed are taken (in that order), then the entries (in that order), each entry sized by the
sizer from the equity after the exits; when an ``exit`` component (a stop) sold, the candle
takes no entry at all. Long only: a sell never exceeds what the strategy holds.

**Paper fills.** By default (``paper=True``) every intent is taken as filled when it is emitted:
a market order at the candle's close, a limit order at its price; the book changes at once and
the rules see the new lots on the next candle. The real fills come later from the exchange
gateway (issue 11): with ``paper=False`` intents stay pending until `Strategy.on_fill` reports
their execution (or `Strategy.on_cancel` drops them), and a component with an entry pending gets
no other entry meanwhile.
"""

from __future__ import annotations

from collections.abc import Hashable
from decimal import Decimal
from typing import Literal

from .model import DECIMAL, Book, Candle, Fill, Intent, Lot, Proposal, Rule, Sizer, dec


class _Pending:
    """An intent not filled yet: an entry holds ``quantity * price`` of the cash back."""

    __slots__ = ("action", "index", "lots", "price", "quantity")

    def __init__(
        self,
        action: Literal["enter", "exit"],
        index: int,
        lots: list[tuple[int, Hashable]],
        quantity: Decimal,
        price: Decimal,
    ) -> None:
        self.action = action
        self.index = index
        self.lots = lots
        self.quantity = quantity
        self.price = price


class Strategy:
    """Built by `compile`; one instance per bot run. ``on_candle`` must get closed candles in
    order; it is deterministic: the same candles give the same intents, byte for byte."""

    def __init__(
        self,
        *,
        timeframe: str,
        names: list[str],
        kinds: list[str],
        rules: list[Rule | None],
        sizer: Sizer,
        cash: Decimal,
        paper: bool = True,
    ) -> None:
        self.timeframe = timeframe
        self.names = names
        self.kinds = kinds
        self.book = Book(cash, len(rules))
        self.sizer = sizer
        self.paper = paper
        self._rules = [(i, rule) for i, rule in enumerate(rules) if rule is not None]
        for i, rule in self._rules:
            rule.lots = self.book.lots[i]
        self._next_lot = 0
        self._pending: dict[str, _Pending] = {}
        self._last_time: int | None = None
        self.skipped = 0
        """Entries the sizer refused (too little cash or under the minimum notional)."""

    def on_candle(self, candle: Candle) -> list[Intent]:
        """The intents decided at the close of ``candle``. Raises ValueError for a candle that is
        not after the previous one (a repeated candle would count twice in every indicator)."""
        last = self._last_time
        if last is not None and candle.open_time <= last:
            raise ValueError(f"candle {candle.open_time} is not after candle {last}")
        self._last_time = candle.open_time
        proposed: list[tuple[int, Proposal]] | None = None
        book = self.book
        for i, rule in self._rules:
            props = rule.on_candle(candle, book)
            if props:
                if proposed is None:
                    proposed = []
                proposed.extend((i, p) for p in props)
        if proposed is None:
            return []
        return self._decide(candle, proposed)

    def _decide(self, candle: Candle, proposed: list[tuple[int, Proposal]]) -> list[Intent]:
        out: list[Intent] = []
        close = dec(candle.close)
        for i, p in proposed:
            if p.action == "exit":
                self._exit(candle, i, p, close, out)
        if any(self.kinds[x.index] == "exit" for x in out):
            return out  # an exit rule (a stop) fired: no entry on this candle
        if not self.sizer.can_enter(self.book.cash):
            self.skipped += sum(p.action == "enter" for _, p in proposed)
            return out
        equity = self.book.equity(close)
        for i, p in proposed:
            if p.action == "enter":
                self._enter(candle, i, p, close, equity, out)
        return out

    def _exit(self, candle: Candle, i: int, p: Proposal, close: Decimal, out: list[Intent]) -> None:
        book = self.book
        owners = range(len(book.lots)) if self.kinds[i] == "exit" else range(i, i + 1)
        selling: list[tuple[int, Hashable]] = []
        for owner in owners:
            own = book.lots[owner]
            if p.lot is None:
                selling.extend((owner, key) for key in own)
            elif p.lot in own:
                selling.append((owner, p.lot))
        selling = [(o, k) for o, k in selling if not self._is_pending_exit(o, k)]
        if not selling:
            return
        quantity = sum((book.lots[o][k].quantity for o, k in selling), Decimal(0))
        intent = self._intent(candle, i, "sell", p, quantity, out)
        price = p.price if p.price is not None else close
        if self.paper:
            book.cash = DECIMAL.add(book.cash, DECIMAL.multiply(quantity, price))
            book.held = DECIMAL.subtract(book.held, quantity)
            for o, k in selling:
                del book.lots[o][k]
        else:
            self._pending[intent.id] = _Pending("exit", i, selling, quantity, price)

    def _enter(
        self,
        candle: Candle,
        i: int,
        p: Proposal,
        close: Decimal,
        equity: Decimal,
        out: list[Intent],
    ) -> None:
        book = self.book
        if not self.paper and any(
            e.index == i and e.action == "enter" for e in self._pending.values()
        ):
            return
        price = p.price if p.price is not None else close
        quantity = self.sizer.size(equity=equity, cash=book.cash, price=price)
        if quantity is None:
            self.skipped += 1
            return
        key = p.lot
        if key is None:
            key = self._next_lot
            self._next_lot += 1
        intent = self._intent(candle, i, "buy", p, quantity, out)
        book.cash = DECIMAL.subtract(book.cash, DECIMAL.multiply(quantity, price))
        if self.paper:
            book.lots[i][key] = Lot(quantity, price)
            book.held = DECIMAL.add(book.held, quantity)
        else:
            self._pending[intent.id] = _Pending("enter", i, [(i, key)], quantity, price)

    def _intent(
        self,
        candle: Candle,
        i: int,
        side: Literal["buy", "sell"],
        p: Proposal,
        quantity: Decimal,
        out: list[Intent],
    ) -> Intent:
        intent = Intent(
            id=f"{candle.open_time}-{len(out)}",
            candle_time=candle.open_time,
            side=side,
            kind="market" if p.price is None else "limit",
            price=p.price,
            quantity=quantity,
            component=self.names[i],
            index=i,
            reason=p.reason,
        )
        out.append(intent)
        return intent

    def _is_pending_exit(self, owner: int, key: Hashable) -> bool:
        return any(e.action == "exit" and (owner, key) in e.lots for e in self._pending.values())

    # --- real fills (paper=False) ------------------------------------------------------------------
    def on_fill(self, fill: Fill) -> None:
        """An execution of a pending intent (it may come in parts). A buy adds to its lot at the
        average price of its fills; a sell takes the lots it was for, oldest first."""
        pending = self._pending.get(fill.intent_id)
        if pending is None:
            return
        book = self.book
        quantity = min(fill.quantity, pending.quantity)
        pending.quantity = DECIMAL.subtract(pending.quantity, quantity)
        if pending.action == "enter":
            # The cash held at the intent's price comes back; the fill's price is paid.
            book.cash = DECIMAL.add(
                book.cash,
                DECIMAL.multiply(quantity, DECIMAL.subtract(pending.price, fill.price)),
            )
            owner, key = pending.lots[0]
            book.held = DECIMAL.add(book.held, quantity)
            lot = book.lots[owner].get(key)
            if lot is None:
                book.lots[owner][key] = Lot(quantity, fill.price)
            else:
                cost = DECIMAL.add(
                    DECIMAL.multiply(lot.quantity, lot.price),
                    DECIMAL.multiply(quantity, fill.price),
                )
                lot.quantity = DECIMAL.add(lot.quantity, quantity)
                lot.price = DECIMAL.divide(cost, lot.quantity)
        else:
            book.cash = DECIMAL.add(book.cash, DECIMAL.multiply(quantity, fill.price))
            left = quantity
            for owner, key in list(pending.lots):
                lot = book.lots[owner].get(key)
                if lot is None:
                    pending.lots.remove((owner, key))
                    continue
                taken = min(lot.quantity, left)
                lot.quantity = DECIMAL.subtract(lot.quantity, taken)
                book.held = DECIMAL.subtract(book.held, taken)
                left = DECIMAL.subtract(left, taken)
                if lot.quantity <= 0:
                    del book.lots[owner][key]
                    pending.lots.remove((owner, key))
                if left <= 0:
                    break
        if pending.quantity <= 0:
            del self._pending[fill.intent_id]

    def on_cancel(self, intent_id: str) -> None:
        """A pending intent will not fill any further: an entry gives back the cash it held."""
        pending = self._pending.pop(intent_id, None)
        if pending is not None and pending.action == "enter":
            self.book.cash = DECIMAL.add(
                self.book.cash, DECIMAL.multiply(pending.quantity, pending.price)
            )
