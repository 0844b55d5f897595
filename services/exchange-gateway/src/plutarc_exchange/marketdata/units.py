"""Exact decimal strings for integer multiples of a market's tick or amount step."""

from __future__ import annotations

from decimal import Decimal, InvalidOperation


class Units:
    """Counts of one increment (a price tick, an amount step) and their decimal strings.

    ``Units("0.01").text(12345)`` is ``"123.45"``. Strings are cached: a book repeats the same
    prices and sizes over and over, and formatting is the simulator's most frequent operation.
    """

    __slots__ = ("_cache", "_digits", "_scale", "increment")

    def __init__(self, increment: str) -> None:
        try:
            value = Decimal(increment)
        except InvalidOperation:
            raise ValueError(f"increment `{increment}` is not a decimal number") from None
        if not value.is_finite() or value <= 0:
            raise ValueError(f"increment `{increment}` must be a positive number")
        self.increment = value
        exponent = value.normalize().as_tuple().exponent
        assert isinstance(exponent, int)
        self._digits = max(0, -exponent)
        self._scale = int(value.scaleb(self._digits))
        self._cache: dict[int, str] = {}

    def text(self, count: int) -> str:
        cached = self._cache.get(count)
        if cached is not None:
            return cached
        raw = count * self._scale
        if self._digits:
            sign = "-" if raw < 0 else ""
            whole, frac = divmod(abs(raw), 10**self._digits)
            text = f"{sign}{whole}.{frac:0{self._digits}d}"
        else:
            text = str(raw)
        if len(self._cache) < 1_000_000:
            self._cache[count] = text
        return text

    def count(self, amount: Decimal | str | float) -> int:
        """How many whole increments fit in ``amount`` (rounded down, at least zero)."""
        return max(0, int(Decimal(str(amount)) // self.increment))
