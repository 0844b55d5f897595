"""Paper balances of one account: free and reserved per currency, and the net position in the
market's base currency (what reduce-only orders are checked against)."""

from __future__ import annotations

from decimal import Decimal

from plutarc_contracts.exchange import Balance

from .rules import ZERO, text


class InsufficientFunds(Exception):
    pass


class Account:
    __slots__ = ("free", "position", "reserved")

    def __init__(self) -> None:
        self.free: dict[str, Decimal] = {}
        self.reserved: dict[str, Decimal] = {}
        self.position = ZERO

    def deposit(self, currency: str, amount: Decimal) -> None:
        if amount <= 0:
            raise ValueError("a deposit must be positive")
        self.free[currency] = self.free.get(currency, ZERO) + amount

    def reserve(self, currency: str, amount: Decimal) -> None:
        free = self.free.get(currency, ZERO)
        if free < amount:
            raise InsufficientFunds(f"{text(amount)} {currency} needed, {text(free)} free")
        self.free[currency] = free - amount
        self.reserved[currency] = self.reserved.get(currency, ZERO) + amount

    def release(self, currency: str, amount: Decimal) -> None:
        if amount:
            self.reserved[currency] -= amount
            self.free[currency] = self.free.get(currency, ZERO) + amount

    def can_pay(self, currency: str, amount: Decimal) -> bool:
        return self.free.get(currency, ZERO) >= amount

    def settle(self, pay: str, paid: Decimal, get: str, got: Decimal) -> None:
        """A fill: ``paid`` leaves the free ``pay`` balance, ``got`` arrives in ``get``."""
        self.free[pay] = self.free.get(pay, ZERO) - paid
        self.free[get] = self.free.get(get, ZERO) + got

    def balances(self) -> list[Balance]:
        names = sorted(set(self.free) | set(self.reserved))
        return [
            Balance(
                currency=name,
                free=text(self.free.get(name, ZERO)),
                reserved=text(self.reserved.get(name, ZERO)),
            )
            for name in names
        ]
