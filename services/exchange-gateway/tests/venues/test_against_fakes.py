"""The real, unchanged ccxt client through VenueClient against the fake Binance, Bybit, OKX and
BitMEX: markets, balance, orders with derived client ids, lookups, cancels."""

from __future__ import annotations

import ssl
import uuid
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from ipaddress import ip_address
from pathlib import Path

import pytest
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID
from plutarc_exchange.venues import errors
from plutarc_exchange.venues.client import OrderRequest
from plutarc_exchange.venues.retry import RetryPolicy
from plutarc_testkit.venues.okx import FakeOkx

from .conftest import CASES, SPOT_CASES, Case, ClientFactory, case_id


def limit(case: Case, **extra: object) -> OrderRequest:
    return OrderRequest(
        command_id=str(uuid.uuid4()),
        symbol=case.symbol,
        side="buy",
        type="limit",
        amount=case.amount,
        price=case.limit_price,
        **extra,  # type: ignore[arg-type]
    )


@pytest.mark.parametrize("case", CASES, ids=case_id)
async def test_markets_come_from_the_venue(case: Case, make_client: ClientFactory) -> None:
    async with case.fake() as fake:
        client = make_client(case, fake)
        assert await client.load_markets() == "venue"
        rules = client.rules(case.symbol)
        assert rules.price_tick is not None and Decimal(rules.price_tick) > 0
        assert rules.amount_step is not None and Decimal(rules.amount_step) > 0
        assert fake.requests[0].tag == "markets" or any(r.tag == "markets" for r in fake.requests)


@pytest.mark.parametrize("case", SPOT_CASES, ids=case_id)
async def test_balance(case: Case, make_client: ClientFactory) -> None:
    async with case.fake(balances={"USDT": Decimal("1234.5"), "BTC": Decimal("0.25")}) as fake:
        balance = await make_client(case, fake).fetch_balance()
        assert balance["USDT"].free == "1234.5"
        assert balance["BTC"].total == "0.25"


@pytest.mark.parametrize("case", CASES, ids=case_id)
async def test_limit_order_lifecycle(case: Case, make_client: ClientFactory) -> None:
    async with case.fake() as fake:
        client = make_client(case, fake)
        request = limit(case)
        placed = await client.place_order(request)

        expected_client_id = client.client_order_id(request.command_id)
        assert placed.client_order_id == expected_client_id
        stored = fake.orders[placed.id]
        assert stored.client_order_id == expected_client_id
        assert stored.status == "open"

        by_id = await client.fetch_order(placed.id, case.symbol)
        assert (by_id.id, by_id.status, by_id.price) == (placed.id, "open", case.limit_price)
        by_client_id = await client.find_order(expected_client_id, case.symbol)
        assert by_client_id is not None and by_client_id.id == placed.id
        assert [o.id for o in await client.fetch_open_orders(case.symbol)] == [placed.id]

        cancelled = await client.cancel_order(placed.id, case.symbol)
        assert cancelled.status == "cancelled"
        assert fake.orders[placed.id].status == "canceled"
        assert await client.fetch_open_orders(case.symbol) == []
        assert await client.find_order("pl" + "0" * 30, case.symbol) is None


@pytest.mark.parametrize("case", CASES, ids=case_id)
async def test_market_order_fills(case: Case, make_client: ClientFactory) -> None:
    async with case.fake() as fake:
        client = make_client(case, fake)
        request = OrderRequest(
            command_id=str(uuid.uuid4()),
            symbol=case.symbol,
            side="buy",
            type="market",
            amount=case.amount,
        )
        placed = await client.place_order(request)
        assert fake.orders[placed.id].status == "filled"
        fetched = await client.fetch_order(placed.id, case.symbol)
        assert fetched.status == "filled"
        assert fetched.filled == fetched.amount


@pytest.mark.parametrize("case", CASES, ids=case_id)
async def test_post_only_and_cancel_all(case: Case, make_client: ClientFactory) -> None:
    async with case.fake() as fake:
        client = make_client(case, fake)
        first = await client.place_order(limit(case, post_only=True))
        second = await client.place_order(limit(case))
        assert fake.orders[first.id].post_only
        assert not fake.orders[second.id].post_only

        cancelled = await client.cancel_all_orders(case.symbol)

        assert sorted(cancelled) == sorted([first.id, second.id])
        assert {o.status for o in fake.orders.values()} == {"canceled"}


@pytest.mark.parametrize("case", [c for c in CASES if c.kind == "perpetual"], ids=case_id)
async def test_reduce_only_reaches_the_venue(case: Case, make_client: ClientFactory) -> None:
    async with case.fake() as fake:
        placed = await make_client(case, fake).place_order(
            OrderRequest(
                command_id=str(uuid.uuid4()),
                symbol=case.symbol,
                side="sell",
                type="limit",
                amount=case.amount,
                price="70000",
                reduce_only=True,
            )
        )
        assert fake.orders[placed.id].reduce_only


@pytest.mark.parametrize("case", SPOT_CASES, ids=case_id)
async def test_every_request_is_recorded_with_its_peer(
    case: Case, make_client: ClientFactory
) -> None:
    async with case.fake() as fake:
        await make_client(case, fake).fetch_balance()
        assert fake.peers() == {"127.0.0.1"}
        assert {r.api_key for r in fake.requests if r.tag == "balance"} == {"test-key"}


def _self_signed(tmp_path: Path) -> tuple[ssl.SSLContext, str]:
    key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "plutarc fake venue")])
    now = datetime.now(UTC)
    cert = (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(name)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - timedelta(minutes=1))
        .not_valid_after(now + timedelta(hours=1))
        .add_extension(
            x509.SubjectAlternativeName([x509.IPAddress(ip_address("127.0.0.1"))]), critical=False
        )
        .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
        .sign(key, hashes.SHA256())
    )
    cert_path, key_path = tmp_path / "cert.pem", tmp_path / "key.pem"
    cert_path.write_bytes(cert.public_bytes(serialization.Encoding.PEM))
    key_path.write_bytes(
        key.private_bytes(
            serialization.Encoding.PEM,
            serialization.PrivateFormat.PKCS8,
            serialization.NoEncryption(),
        )
    )
    context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    context.load_cert_chain(cert_path, key_path)
    return context, str(cert_path)


async def test_a_fake_serves_https(tmp_path: Path, make_client: ClientFactory) -> None:
    case = CASES[0]
    context, ca_file = _self_signed(tmp_path)
    async with case.fake(ssl_context=context) as fake:
        assert fake.base_url.startswith("https://127.0.0.1:")
        client = make_client(case, fake, ca_file=ca_file)
        assert "USDT" in await client.fetch_balance()
        untrusting = make_client(case, fake, retry=RetryPolicy(max_attempts=1))
        with pytest.raises(errors.VenueUnavailable):  # ccxt reports a refused certificate so
            await untrusting.fetch_balance()
        assert [r.tag for r in fake.requests] == ["markets", "balance"]


@pytest.mark.parametrize(
    "case", [c for c in CASES if c.venue in ("okx", "bybit", "binance")], ids=case_id
)
async def test_testnet_clients_reach_the_fake_too(case: Case, make_client: ClientFactory) -> None:
    async with case.fake() as fake:
        client = make_client(case, fake, environment="testnet")
        placed = await client.place_order(limit(case))
        assert fake.orders[placed.id].client_order_id == placed.client_order_id
        if isinstance(fake, FakeOkx):
            assert fake.simulated and all(fake.simulated)


async def test_a_fake_can_serve_from_its_own_thread(make_client: ClientFactory) -> None:
    case = CASES[3]
    with case.fake().serving_in_thread() as fake:
        placed = await make_client(case, fake).place_order(limit(case))
        assert list(fake.orders) == [placed.id]
