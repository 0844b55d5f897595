"""The usage statement's arithmetic (the worked example of docs/compute-api.md): intervals clipped
to the period, an open one counted up to min(now, to), the address priced while the bot sleeps,
always-on over the bot's lifetime in the period, savings, rounding that adds up, unknown prices
marked, and bad periods refused with stable codes."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from decimal import Decimal

import pytest
from plutarc_compute.api.usage import BotLife, Interval, PeriodError, statement

START = datetime(2026, 12, 1, tzinfo=UTC)
END = datetime(2026, 12, 3, tzinfo=UTC)
NOW = datetime(2026, 12, 2, 12, tzinfo=UTC)


def at(day: int, hour: float) -> datetime:
    return datetime(2026, 11, 30, tzinfo=UTC) + timedelta(days=day, hours=hour)


class FakePrices:
    HOSTS = {("aws", "t3.small"): Decimal("0.0208"), ("local", "small"): Decimal(0)}
    ADDRESSES = {"aws": Decimal("0.005"), "local": Decimal(0)}

    def hourly(self, provider: str, size: str) -> Decimal:
        return self.HOSTS[(provider, size)]

    def address_hourly(self, provider: str) -> Decimal:
        return self.ADDRESSES[provider]


def example() -> tuple[list[BotLife], list[Interval]]:
    bots = [
        BotLife("bot-a", "aws", "t3.small", at(-10, 0), None),
        BotLife("bot-b", "local", "small", at(2, 0), None),
    ]
    intervals = [
        Interval("bot-a", "host", at(0, 23), at(1, 9), "aws", "t3.small"),
        Interval("bot-a", "host", at(1, 23), at(2, 9), "aws", "t3.small"),
        Interval("bot-a", "host", at(2, 11), None, "aws", "t3.small"),
        Interval("bot-a", "address", at(-10, 0), None, "aws"),
        Interval("bot-b", "host", at(2, 6), at(2, 8.5), "local", "small"),
        Interval("bot-b", "address", at(2, 6), None, "local"),
    ]
    return bots, intervals


def test_the_worked_example() -> None:
    bots, intervals = example()
    found = statement("ws-1", START, END, NOW, bots, intervals, FakePrices())
    assert found.as_of == NOW
    a, b = found.lines
    assert (a.bot_id, a.compute_hours, a.compute_cost) == (
        "bot-a",
        Decimal("20.00"),
        Decimal("0.4160"),
    )
    assert (a.address_hours, a.address_cost, a.cost) == (
        Decimal("36.00"),
        Decimal("0.1800"),
        Decimal("0.5960"),
    )
    assert (a.always_on_hours, a.always_on_cost) == (Decimal("36.00"), Decimal("0.9288"))
    assert (a.saved_hours, a.saved_cost) == (Decimal("16.00"), Decimal("0.3328"))
    assert (b.compute_hours, b.address_hours, b.always_on_hours) == (
        Decimal("2.50"),
        Decimal("6.00"),
        Decimal("12.00"),
    )
    assert (b.cost, b.saved_hours, b.saved_cost) == (Decimal(0), Decimal("9.50"), Decimal(0))
    total = found.total()
    assert (total.compute_hours, total.cost, total.always_on_cost, total.saved_cost) == (
        Decimal("22.50"),
        Decimal("0.5960"),
        Decimal("0.9288"),
        Decimal("0.3328"),
    )
    assert total.priced


def test_a_period_over_counts_nothing_after_it_ends() -> None:
    bots, intervals = example()
    later = datetime(2026, 12, 9, tzinfo=UTC)
    found = statement("ws-1", START, END, later, bots, intervals, FakePrices())
    a = found.lines[0]
    assert found.as_of == END
    assert a.compute_hours == Decimal(9 + 10 + 13)
    assert a.always_on_hours == Decimal(48)


def test_a_period_in_the_future_is_all_zero() -> None:
    bots, intervals = example()
    found = statement("ws-1", END, END + timedelta(days=1), NOW, bots, intervals, FakePrices())
    assert found.as_of == END
    assert found.total().always_on_hours == 0 and found.total().compute_hours == 0


def test_a_bot_released_in_the_period_is_always_on_only_while_it_existed() -> None:
    bots = [BotLife("bot-c", "aws", "t3.small", at(-3, 0), at(1, 6))]
    found = statement("ws-1", START, END, NOW, bots, [], FakePrices())
    [c] = found.lines
    assert c.always_on_hours == Decimal(6)
    assert c.compute_hours == 0 and c.saved_hours == Decimal(6)


def test_an_unknown_price_is_marked_and_counted_as_nothing() -> None:
    bots = [BotLife("bot-d", "aws", "huge", at(1, 0), None)]
    intervals = [Interval("bot-d", "host", at(1, 0), at(1, 2), "aws", "huge")]
    found = statement("ws-1", START, END, NOW, bots, intervals, FakePrices())
    [d] = found.lines
    assert d.compute_hours == Decimal(2) and d.compute_cost == 0
    assert not d.priced and not found.total().priced


@pytest.mark.parametrize(
    ("start", "end", "code"),
    [
        (END, START, "compute.invalid_period"),
        (START, START, "compute.invalid_period"),
        (START.replace(tzinfo=None), END, "compute.invalid_period"),
        (START, START + timedelta(days=367), "compute.period_too_long"),
    ],
)
def test_bad_periods_are_refused(start: datetime, end: datetime, code: str) -> None:
    with pytest.raises(PeriodError) as caught:
        statement("ws-1", start, end, NOW, [], [], FakePrices())
    assert caught.value.code == code


def test_the_default_prices_are_the_services_table() -> None:
    """PriceTable reads plutarc_compute.pricing (prices.json): an unknown size is unpriced."""
    from plutarc_compute.api.usage import PriceTable

    table = PriceTable()
    assert table.hourly("aws", "t3.small") > 0
    assert table.address_hourly("local") == 0
    bots = [BotLife("bot-e", "aws", "no-such-size", at(1, 0), None)]
    intervals = [Interval("bot-e", "host", at(1, 0), at(1, 1), "aws", "no-such-size")]
    [e] = statement("ws-1", START, END, NOW, bots, intervals, table).lines
    assert (e.compute_hours, e.compute_cost, e.priced) == (Decimal(1), Decimal(0), False)
    assert e.address_hours == 0
