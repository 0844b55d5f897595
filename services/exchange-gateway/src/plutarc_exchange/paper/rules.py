"""A market's trading rules as the paper engine checks them, and how they are read from ccxt."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

ZERO = Decimal(0)
ONE = Decimal(1)

# ccxt's precision modes (ccxt.base.decimal_to_precision), as plain numbers so no ccxt import.
DECIMAL_PLACES = 2
SIGNIFICANT_DIGITS = 3
TICK_SIZE = 4


def dec(value: object) -> Decimal:
    """A Decimal from a string, an int or a float (a float through its shortest repr, so 0.1 is
    0.1 and not its binary expansion)."""
    if isinstance(value, Decimal):
        return value
    if isinstance(value, float):
        return Decimal(repr(value))
    return Decimal(str(value))


def text(value: Decimal) -> str:
    """A decimal as the contracts want it: plain notation, no exponent, no trailing zeros."""
    if not value:
        return "0"
    return format(value.normalize(), "f")


@dataclass(frozen=True, slots=True)
class MarketRules:
    """What a venue enforces on one market. Fee rates are fractions (0.001 is 0.1 %); a negative
    maker rate is a rebate. Zero for ``min_amount`` or ``min_notional`` means no minimum.
    Quantities are in the venue's unit: the base currency, or contracts of ``contract_size`` base
    each (a linear contract; the notional is quantity x contract size x price)."""

    base: str
    quote: str
    price_tick: Decimal
    amount_step: Decimal
    min_amount: Decimal = ZERO
    min_notional: Decimal = ZERO
    maker_fee: Decimal = ZERO
    taker_fee: Decimal = ZERO
    contract_size: Decimal = ONE

    def __post_init__(self) -> None:
        if self.price_tick <= 0 or self.amount_step <= 0 or self.contract_size <= 0:
            raise ValueError("price_tick, amount_step and contract_size must be positive")
        if self.taker_fee < 0 or self.taker_fee >= 1 or self.maker_fee <= -1 or self.maker_fee >= 1:
            raise ValueError("fee rates must be fractions below 1 (taker not negative)")

    @property
    def reserve_fee(self) -> Decimal:
        """The rate a buy reserves its fee at: the higher of maker and taker, never below 0."""
        return max(self.maker_fee, self.taker_fee, ZERO)

    def on_tick(self, price: Decimal) -> bool:
        return price > 0 and price % self.price_tick == 0

    def on_step(self, amount: Decimal) -> bool:
        return amount > 0 and amount % self.amount_step == 0

    @classmethod
    def from_ccxt_market(
        cls, market: Mapping[str, Any], *, precision_mode: int | None = TICK_SIZE
    ) -> MarketRules:
        """Rules from a ccxt unified market (what ``load_markets`` returns or ``set_markets``
        accepts). ``precision_mode`` is the exchange's ``precisionMode``: ``TICK_SIZE`` (every
        plutarc venue in ccxt 4.5.83) or ``DECIMAL_PLACES`` (older snapshots, such as some of
        ccxt's own static markets). ``None`` guesses per value, an ``int`` as decimal places and
        a float or string as a tick size, which misreads a tick of 1 written as the integer 1."""
        precision = market.get("precision") or {}
        limits = market.get("limits") or {}
        tick = _step(precision.get("price"), precision_mode, "price")
        step = _step(precision.get("amount"), precision_mode, "amount")
        min_amount = _limit(limits, "amount")
        min_notional = _limit(limits, "cost")
        return cls(
            base=str(market["base"]),
            quote=str(market["quote"]),
            price_tick=tick,
            amount_step=step,
            min_amount=min_amount,
            min_notional=min_notional,
            maker_fee=dec(market.get("maker") or 0),
            taker_fee=dec(market.get("taker") or 0),
            contract_size=dec(market.get("contractSize") or 1),
        )


def _step(value: object, mode: int | None, what: str) -> Decimal:
    if value is None:
        raise ValueError(f"the market has no {what} precision")
    if mode is None:
        mode = (
            DECIMAL_PLACES if isinstance(value, int) and not isinstance(value, bool) else TICK_SIZE
        )
    if mode == TICK_SIZE:
        step = dec(value)
    elif mode == DECIMAL_PLACES:
        places = dec(value)
        if places != places.to_integral_value():
            raise ValueError(f"{what} precision {value!r} is not a number of decimal places")
        step = Decimal(1).scaleb(-int(places))
    else:
        raise ValueError(
            f"ccxt precision mode {mode} is not supported (tick size or decimal places)"
        )
    if step <= 0:
        raise ValueError(f"{what} precision {value!r} is not positive")
    return step


def _limit(limits: Mapping[str, Any], name: str) -> Decimal:
    entry = limits.get(name) or {}
    low = entry.get("min")
    return dec(low) if low else ZERO
