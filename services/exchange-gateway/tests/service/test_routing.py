from __future__ import annotations

from uuid import uuid4

import msgspec
from plutarc_contracts import bots as b
from plutarc_contracts import exchange as x
from plutarc_exchange.sealing import seal

from .conftest import ALICE, BOB, KEYS, TINA, Gateway

BOOK = {"bids": [("99.9", "1")], "asks": [("100", "5")]}


def _attach(gateway: Gateway, bot: str) -> None:
    gateway.ok(
        f"bot:{bot}",
        x.AttachEgress(
            workspace_id=gateway.ws,
            bot_id=bot,
            proxy_url="http://127.0.0.1:18899",
            address="127.0.0.42",
        ),
    )


def test_a_testnet_order_needs_a_connection_and_the_bots_host(gateway: Gateway) -> None:
    gateway.market(**BOOK)
    no_connection = gateway.bot(mode="testnet")
    assert gateway.order(no_connection).result["code"] == "exchange.no_connection"
    never_existed = gateway.bot(mode="testnet", connection_id="conn-1")
    assert gateway.order(never_existed).result["code"] == "exchange.connection_not_found"
    connection = gateway.connection(("testnet",))
    bot = gateway.bot(mode="testnet", connection_id=connection)
    assert gateway.order(bot).result["code"] == "exchange.no_egress"
    _attach(gateway, bot)
    reply = gateway.order(bot)
    assert reply.result["status"] == "sent"
    [accepted] = gateway.of(bot, "exchange.order_accepted")
    assert accepted.mode == "testnet" and accepted.client_order_id.endswith(
        reply.result["order_id"].replace("-", "")
    )
    [intent] = gateway.intents()
    assert intent.adapter == "venue"
    body = intent.body
    assert body["environment"] == "testnet" and body["proxy_url"] == "http://127.0.0.1:18899"
    assert body["connection_id"] == connection
    raw = msgspec.json.encode(intent)
    assert KEYS.api_key.encode() not in raw and KEYS.secret.encode() not in raw
    gateway.ok(f"bot:{bot}", x.DetachEgress(workspace_id=gateway.ws, bot_id=bot))
    assert gateway.order(bot).result["code"] == "exchange.no_egress"


def test_a_venue_without_testnet_points_to_paper(gateway: Gateway) -> None:
    bot = gateway.bot(mode="testnet", market=b.MarketRef(venue="kucoin", symbol="BTC/USDT"))
    reply = gateway.order(bot, type="limit", price="100", quantity="0.1")
    assert reply.result["code"] == "exchange.no_testnet" and "paper" in reply.result["reason"]
    gateway.rejected(
        ALICE,
        x.AddConnection(
            workspace_id=gateway.ws,
            connection_id=str(uuid4()),
            venue="kucoin",
            label="k",
            key_id=gateway.key_id,
            credentials={"testnet": seal(gateway.public_key, KEYS)},
        ),
        "exchange.no_testnet",
    )


def test_a_connection_of_another_venue_or_environment_is_refused(gateway: Gateway) -> None:
    gateway.market(**BOOK)
    live_only = gateway.connection(("live",))
    bot = gateway.bot(mode="testnet", connection_id=live_only)
    _attach(gateway, bot)
    assert gateway.order(bot).result["code"] == "exchange.connection_lacks_environment"
    bybit = gateway.connection(("testnet",), venue="bybit")
    other = gateway.bot(mode="testnet", connection_id=bybit)
    assert gateway.order(other).result["code"] == "exchange.connection_venue_mismatch"


def test_connections_hold_no_key_outside_the_vault_and_removal_shreds(gateway: Gateway) -> None:
    connection = gateway.connection(("live", "testnet"))
    [added] = [e for e in gateway.events("exchange.connection_added")]
    assert added.payload.environments == ["live", "testnet"]
    assert added.payload.fingerprint == KEYS.fingerprint() and added.actor == ALICE
    assert KEYS.api_key.encode() not in msgspec.json.encode(added)
    vault = gateway.spec.handlers[x.AddConnection].__self__.vault  # type: ignore[attr-defined]
    assert vault.read(connection, "live") == KEYS
    gateway.rejected(
        TINA,
        x.RemoveConnection(workspace_id=gateway.ws, connection_id=connection),
        "access.forbidden",
    )
    reply = gateway.ok(ALICE, x.RemoveConnection(workspace_id=gateway.ws, connection_id=connection))
    assert reply.result["key_destroyed"] is True
    assert vault.read(connection, "live") is None and vault.read(connection, "testnet") is None
    [removed] = gateway.events("exchange.connection_removed")
    assert removed.payload.removed_by == ALICE
    gateway.rejected(
        ALICE,
        x.RemoveConnection(workspace_id=gateway.ws, connection_id=connection),
        "exchange.connection_not_found",
    )


def test_bad_connections_change_nothing(gateway: Gateway) -> None:
    def add(**fields: object) -> x.AddConnection:
        values: dict[str, object] = {
            "workspace_id": gateway.ws,
            "connection_id": str(uuid4()),
            "venue": "binance",
            "label": "main",
            "key_id": gateway.key_id,
            "credentials": {"live": seal(gateway.public_key, KEYS)},
            **fields,
        }
        return x.AddConnection(**values)  # type: ignore[arg-type]

    gateway.rejected(BOB, add(), "access.forbidden")
    gateway.rejected(ALICE, add(key_id="k-0000000000000000"), "exchange.unknown_sealing_key")
    gateway.rejected(
        ALICE, add(credentials={"live": "bm90IGEgYm94"}), "exchange.credentials_invalid"
    )
    gateway.rejected(ALICE, add(credentials={}), "exchange.invalid_input")
    gateway.rejected(ALICE, add(connection_id="c-1"), "exchange.invalid_id")
    assert gateway.events("exchange.connection_added") == []


def test_the_sealing_key_is_published_once(gateway: Gateway) -> None:
    from datetime import timedelta

    gateway.advance(timedelta(seconds=6))
    gateway.advance(timedelta(seconds=6))
    published = gateway.events("exchange.sealing_key_published")
    assert [e.payload.key_id for e in published] == [gateway.key_id]
    assert published[0].payload.public_key == gateway.public_key


def test_a_closed_venue_trades_on_paper_only(gateway: Gateway) -> None:
    market = b.MarketRef(venue="bitmex", symbol="BTC/USDT:USDT", kind="perpetual")
    for mode in ("testnet", "live"):
        bot = gateway.bot(mode=mode, market=market)
        reply = gateway.order(bot, actor=ALICE, type="limit", price="100", quantity="0.1")
        assert reply.result["code"] == "exchange.venue_closed"
        assert "paper only" in reply.result["reason"]
    assert gateway.intents() == []
