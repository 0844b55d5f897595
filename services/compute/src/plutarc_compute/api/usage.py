"""A workspace's usage statement for a period [from, to): per bot and in total, the hours its host
ran and its address was kept, what they cost, and what an always-on host would have cost.

Pure arithmetic over the read models' rows (docs/compute-api.md, "The usage statement"):

- compute hours: the overlap of each host-up interval with [from, as_of), `as_of` = min(now, to)
  (an interval still open counts up to `as_of`), each priced at its provider's and size's rate;
- address hours: the same for the address intervals, at the provider's address rate;
- always-on hours: the overlap of the bot's lifetime (first seen to its address released) with
  [from, as_of), priced as one host of the bot's last size plus its address, all the time;
- saved: always-on less used, in hours (compute) and in money (compute and address).

Each bot's figures are rounded (hours to 0.01, USD to 0.0001, half up) and the totals are the sums
of the rounded figures, so the statement adds up as printed.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from decimal import ROUND_HALF_UP, Decimal
from typing import Protocol

CURRENCY = "USD"
HOURS = Decimal("0.01")
MONEY = Decimal("0.0001")
MAX_PERIOD = timedelta(days=366)
MICROS_PER_HOUR = Decimal(3_600_000_000)
ONE_MICROSECOND = timedelta(microseconds=1)


class Prices(Protocol):
    """USD per hour of a host of `size` at `provider`, and of an address kept there."""

    def hourly(self, provider: str, size: str) -> Decimal: ...

    def address_hourly(self, provider: str) -> Decimal: ...


class PriceTable:
    """The compute service's price table (`plutarc_compute.pricing`), imported on first use."""

    def hourly(self, provider: str, size: str) -> Decimal:
        from plutarc_compute import pricing  # type: ignore[attr-defined, unused-ignore]

        return Decimal(pricing.hourly(provider, size))

    def address_hourly(self, provider: str) -> Decimal:
        from plutarc_compute import pricing  # type: ignore[attr-defined, unused-ignore]

        return Decimal(pricing.address_hourly(provider))


class PeriodError(ValueError):
    def __init__(self, code: str, detail: str) -> None:
        super().__init__(detail)
        self.code, self.detail = code, detail


@dataclass(frozen=True)
class Interval:
    bot_id: str
    kind: str
    """`host` or `address`."""
    started_at: datetime
    ended_at: datetime | None
    provider: str
    size: str | None = None


@dataclass(frozen=True)
class BotLife:
    bot_id: str
    provider: str | None
    size: str | None
    first_seen_at: datetime
    released_at: datetime | None


@dataclass
class Line:
    bot_id: str
    provider: str | None
    size: str | None
    compute_hours: Decimal = Decimal(0)
    compute_cost: Decimal = Decimal(0)
    address_hours: Decimal = Decimal(0)
    address_cost: Decimal = Decimal(0)
    always_on_hours: Decimal = Decimal(0)
    always_on_cost: Decimal = Decimal(0)
    priced: bool = True
    """False when a price was not in the table (its cost is counted as 0)."""

    @property
    def cost(self) -> Decimal:
        return self.compute_cost + self.address_cost

    @property
    def saved_hours(self) -> Decimal:
        return self.always_on_hours - self.compute_hours

    @property
    def saved_cost(self) -> Decimal:
        return self.always_on_cost - self.cost


@dataclass
class Statement:
    workspace_id: str
    start: datetime
    end: datetime
    as_of: datetime
    lines: list[Line] = field(default_factory=list)

    def total(self) -> Line:
        out = Line(bot_id="", provider=None, size=None)
        for line in self.lines:
            out.compute_hours += line.compute_hours
            out.compute_cost += line.compute_cost
            out.address_hours += line.address_hours
            out.address_cost += line.address_cost
            out.always_on_hours += line.always_on_hours
            out.always_on_cost += line.always_on_cost
            out.priced = out.priced and line.priced
        return out


def in_utc(start: datetime, end: datetime) -> tuple[datetime, datetime]:
    """The period's ends in UTC (as the read models store instants), checked (`check_period`)."""
    check_period(start, end)
    try:
        return start.astimezone(UTC), end.astimezone(UTC)
    except OverflowError:
        raise PeriodError("compute.invalid_period", "the period is out of range") from None


def check_period(start: datetime, end: datetime) -> None:
    """A period is [from, to): both with a time zone, `from` before `to`, at most 366 days."""
    if start.utcoffset() is None or end.utcoffset() is None:
        raise PeriodError(
            "compute.invalid_period",
            "give `from` and `to` with a time zone, e.g. 2026-12-01T00:00Z",
        )
    if start >= end:
        raise PeriodError("compute.invalid_period", "`from` must be before `to`")
    if end - start > MAX_PERIOD:
        raise PeriodError("compute.period_too_long", "a statement covers at most 366 days")


def _micros(start: datetime, end: datetime | None, lo: datetime, hi: datetime) -> int:
    """Microseconds of [start, end) inside [lo, hi) (an open end: up to hi)."""
    first = max(start, lo)
    last = hi if end is None else min(end, hi)
    return 0 if last <= first else (last - first) // ONE_MICROSECOND


def _hours(start: datetime, end: datetime | None, lo: datetime, hi: datetime) -> Decimal:
    return Decimal(_micros(start, end, lo, hi)) / MICROS_PER_HOUR


def _round(value: Decimal, step: Decimal) -> Decimal:
    return value.quantize(step, rounding=ROUND_HALF_UP)


def _price(line: Line, prices: Prices, provider: str, size: str | None) -> Decimal:
    """The host's rate (`size`), or the address's (`size` None); 0, marked unpriced, if unknown."""
    try:
        if size is None:
            return Decimal(prices.address_hourly(provider))
        return Decimal(prices.hourly(provider, size))
    except (LookupError, ValueError, ArithmeticError, ImportError):
        line.priced = False
        return Decimal(0)


def statement(
    workspace_id: str,
    start: datetime,
    end: datetime,
    now: datetime,
    bots: Iterable[BotLife],
    intervals: Iterable[Interval],
    prices: Prices,
) -> Statement:
    """The statement of `workspace_id`'s bots over [start, end) as of `now`."""
    check_period(start, end)
    as_of = max(start, min(now, end))
    out = Statement(workspace_id, start, end, as_of)
    exact: dict[str, dict[str, Decimal]] = {}
    lines: dict[str, Line] = {}
    for bot in bots:
        line = lines[bot.bot_id] = Line(bot.bot_id, bot.provider, bot.size)
        hours = _hours(bot.first_seen_at, bot.released_at, start, as_of)
        rate = Decimal(0)
        if bot.provider is None or bot.size is None:
            line.priced = hours == 0
        else:
            rate = _price(line, prices, bot.provider, bot.size)
            rate += _price(line, prices, bot.provider, None)
        exact[bot.bot_id] = {"always_on_hours": hours, "always_on_cost": hours * rate}
    used: dict[tuple[str, str, str, str | None], int] = {}
    for i in intervals:
        lines.setdefault(i.bot_id, Line(i.bot_id, i.provider, i.size))
        micros = _micros(i.started_at, i.ended_at, start, as_of)
        if micros:
            size = (i.size or "") if i.kind == "host" else None
            key = (i.bot_id, i.kind, i.provider, size)
            used[key] = used.get(key, 0) + micros
    for (bot_id, kind, provider, size), micros in used.items():
        hours = Decimal(micros) / MICROS_PER_HOUR
        rate = _price(lines[bot_id], prices, provider, size)
        name = "compute" if kind == "host" else "address"
        found = exact.setdefault(bot_id, {})
        found[f"{name}_hours"] = found.get(f"{name}_hours", Decimal(0)) + hours
        found[f"{name}_cost"] = found.get(f"{name}_cost", Decimal(0)) + hours * rate
    for bot_id in sorted(lines):
        line = lines[bot_id]
        figures = exact.get(bot_id, {})
        for name in ("compute_hours", "address_hours", "always_on_hours"):
            setattr(line, name, _round(figures.get(name, Decimal(0)), HOURS))
        for name in ("compute_cost", "address_cost", "always_on_cost"):
            setattr(line, name, _round(figures.get(name, Decimal(0)), MONEY))
        out.lines.append(line)
    return out
