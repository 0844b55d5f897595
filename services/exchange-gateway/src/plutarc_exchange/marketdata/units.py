"""Exact decimal strings for integer multiples of a market's tick or amount step."""

from __future__ import annotations

from collections.abc import Callable
from decimal import Decimal, InvalidOperation


class Units:
    """Counts of one increment (a price tick, an amount step) and their decimal strings.

    ``Units("0.01").text(12345)`` is ``"123.45"``. Strings are cached: a book repeats the same
    prices and sizes over and over, and formatting is the simulator's most frequent operation.
    """

    __slots__ = ("_cache", "_digits", "_scale", "increment", "texts")

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
        self._cache = _Texts(self._format)
        self.texts = self._cache
        """``texts[count]``: the same as `text`, one call cheaper in a hot loop."""

    def text(self, count: int) -> str:
        return self._cache[count]

    def _format(self, count: int) -> str:
        raw = count * self._scale
        if not self._digits:
            return str(raw)
        sign = "-" if raw < 0 else ""
        whole, frac = divmod(abs(raw), 10**self._digits)
        return f"{sign}{whole}.{frac:0{self._digits}d}"

    def count(self, amount: Decimal | str | float) -> int:
        """How many whole increments fit in ``amount`` (rounded down, at least zero)."""
        return max(0, int(Decimal(str(amount)) // self.increment))


class _Texts(dict[int, str]):
    """Formats a count on first use; a lookup afterwards is a plain dict hit."""

    def __init__(self, fmt: Callable[[int], str]) -> None:
        super().__init__()
        self._fmt = fmt

    def __missing__(self, count: int) -> str:
        text = self._fmt(count)
        if len(self) < 1_000_000:
            self[count] = text
        return text
