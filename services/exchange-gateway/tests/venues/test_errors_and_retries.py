"""Errors at the boundary (each fake answers as its venue does and ccxt maps it; we map ccxt's
kinds to ours), retries within the budget, and idempotent placing after an unknown outcome."""

from __future__ import annotations

import asyncio
import uuid

import pytest
from plutarc_exchange.venues import errors
from plutarc_exchange.venues.client import OrderRequest
from plutarc_exchange.venues.retry import RetryPolicy

from .conftest import CASES, SPOT_CASES, Case, ClientFactory, Sleeps, case_id


def order(case: Case, command_id: str | None = None) -> OrderRequest:
    return OrderRequest(
        command_id=command_id or str(uuid.uuid4()),
        symbol=case.symbol,
        side="buy",
        type="limit",
        amount=case.amount,
        price=case.limit_price,
    )


@pytest.mark.parametrize("case", CASES, ids=case_id)
async def test_insufficient_funds(case: Case, make_client: ClientFactory, sleeps: Sleeps) -> None:
    async with case.fake() as fake:
        client = make_client(case, fake)
        await client.load_markets()
        fake.inject("insufficient_funds", only="place")
        with pytest.raises(errors.InsufficientFunds) as caught:
            await client.place_order(order(case))
        assert caught.value.code == "venue.insufficient_funds"
        assert not caught.value.retry_safe
        assert fake.orders == {}
        assert sleeps.waits == []


@pytest.mark.parametrize("case", SPOT_CASES, ids=case_id)
async def test_a_real_shortfall_is_insufficient_funds(
    case: Case, make_client: ClientFactory
) -> None:
    async with case.fake() as fake:
        client = make_client(case, fake)
        too_much = OrderRequest(
            command_id=str(uuid.uuid4()),
            symbol=case.symbol,
            side="sell",
            type="limit",
            amount="50",
            price="60000",
        )
        with pytest.raises(errors.InsufficientFunds):
            await client.place_order(too_much)


@pytest.mark.parametrize("case", CASES, ids=case_id)
async def test_rate_limit_is_retried_with_backoff(
    case: Case, make_client: ClientFactory, sleeps: Sleeps
) -> None:
    async with case.fake() as fake:
        client = make_client(case, fake)
        await client.load_markets()
        fake.inject("rate_limit", times=2, only="place")
        placed = await client.place_order(order(case))
        assert list(fake.orders) == [placed.id]
        assert len(sleeps.waits) == 2
        assert all(0 <= w <= 2.0 for w in sleeps.waits)


@pytest.mark.parametrize("case", CASES, ids=case_id)
async def test_rate_limit_past_the_budget_is_rate_limited(
    case: Case, make_client: ClientFactory, sleeps: Sleeps
) -> None:
    async with case.fake() as fake:
        client = make_client(case, fake, retry=RetryPolicy(max_attempts=3))
        await client.load_markets()
        fake.inject("rate_limit", times=10, only="balance")
        with pytest.raises(errors.RateLimited) as caught:
            await client.fetch_balance()
        assert caught.value.code == "venue.rate_limited" and caught.value.retry_safe
        assert len(sleeps.waits) == 2


@pytest.mark.parametrize("case", CASES, ids=case_id)
async def test_server_error_is_unavailable(case: Case, make_client: ClientFactory) -> None:
    async with case.fake() as fake:
        client = make_client(case, fake, retry=RetryPolicy(max_attempts=1))
        await client.load_markets()
        fake.inject("server_error", only="balance")
        with pytest.raises(errors.VenueUnavailable) as caught:
            await client.fetch_balance()
        assert caught.value.code == "venue.unavailable" and caught.value.retry_safe


@pytest.mark.parametrize("case", CASES, ids=case_id)
async def test_a_5xx_on_place_is_looked_up_then_placed_once(
    case: Case, make_client: ClientFactory, sleeps: Sleeps
) -> None:
    async with case.fake() as fake:
        client = make_client(case, fake)
        await client.load_markets()
        fake.inject("server_error", only="place")
        placed = await client.place_order(order(case))
        assert list(fake.orders) == [placed.id]
        assert len(sleeps.waits) == 1


@pytest.mark.parametrize("case", CASES, ids=case_id)
async def test_timeout_is_venue_timeout(case: Case, make_client: ClientFactory) -> None:
    async with case.fake() as fake:
        client = make_client(case, fake, timeout_ms=300, retry=RetryPolicy(max_attempts=1))
        await client.load_markets()
        fake.inject("timeout", only="balance")
        with pytest.raises(errors.VenueTimeout) as caught:
            await client.fetch_balance()
        assert caught.value.code == "venue.timeout"
        assert caught.value.retry_safe and caught.value.outcome_unknown


@pytest.mark.parametrize("case", CASES, ids=case_id)
async def test_timeout_after_accept_then_retry_leaves_exactly_one_order(
    case: Case, make_client: ClientFactory, sleeps: Sleeps
) -> None:
    async with case.fake() as fake:
        client = make_client(case, fake, timeout_ms=300)
        await client.load_markets()
        fake.inject("timeout", only="place")
        request = order(case)

        placed = await client.place_order(request)

        assert len(fake.orders) == 1
        stored = next(iter(fake.orders.values()))
        assert placed.id == stored.order_id
        assert stored.client_order_id == client.client_order_id(request.command_id)
        assert len(sleeps.waits) == 1
        found = await client.find_order(stored.client_order_id, case.symbol)
        assert found is not None and found.id == placed.id


@pytest.mark.parametrize("case", CASES, ids=case_id)
async def test_unknown_outcome_past_the_budget_says_so(
    case: Case, make_client: ClientFactory
) -> None:
    async with case.fake() as fake:
        client = make_client(case, fake, timeout_ms=300, retry=RetryPolicy(max_attempts=2))
        await client.fetch_balance()  # Bybit asks for the account type once, before any order
        fake.inject("timeout", times=5)
        with pytest.raises(errors.VenueTimeout) as caught:
            await client.place_order(order(case))
        assert caught.value.outcome_unknown
        assert len(fake.orders) == 1


@pytest.mark.parametrize("case", CASES, ids=case_id)
async def test_wrong_key_is_auth_failed(
    case: Case, make_client: ClientFactory, sleeps: Sleeps
) -> None:
    async with case.fake() as fake:
        client = make_client(
            case,
            fake,
            credentials={"apiKey": "wrong", "secret": "s", "password": "test-passphrase"},
        )
        with pytest.raises(errors.AuthFailed) as caught:
            await client.fetch_balance()
        assert caught.value.code == "venue.auth_failed" and not caught.value.retry_safe
        assert sleeps.waits == []
        assert "wrong" in {r.api_key for r in fake.requests}


async def test_one_venue_hanging_does_not_block_another(make_client: ClientFactory) -> None:
    slow_case, fast_case = CASES[0], CASES[3]
    async with slow_case.fake() as slow, fast_case.fake() as fast:
        slow_client = make_client(
            slow_case, slow, timeout_ms=1_500, retry=RetryPolicy(max_attempts=1)
        )
        fast_client = make_client(fast_case, fast)
        await slow_client.load_markets()
        slow.inject("timeout", only="balance")
        hanging = asyncio.create_task(slow_client.fetch_balance())
        balance = await asyncio.wait_for(fast_client.fetch_balance(), 1.0)
        assert not hanging.done()
        assert "USDT" in balance
        with pytest.raises(errors.VenueTimeout):
            await hanging
