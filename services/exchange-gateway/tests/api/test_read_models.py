"""The exchange API's projections on their own (SQLite, no broker): orders folded from their
events in one batch or event by event alike, fills kept once, positions from the latest
`position_changed`, halts, connections removed, and what the live stream shows to whom."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from typing import Any
from uuid import uuid4

import pytest
from plutarc_contracts import Envelope
from plutarc_contracts import exchange as x
from plutarc_exchange.api import visibility
from plutarc_exchange.api.models import (
    ConnectionsProjection,
    OrdersProjection,
    connections,
    fills,
    orders,
    positions,
    sealing_key,
)
from sqlalchemy import Engine, create_engine, select

T0 = datetime(2026, 12, 3, 9, 0, tzinfo=UTC)
WS, BOT = "ws-1", "bot-1"


def env(payload: Any, n: int, name: str) -> Envelope:
    return Envelope(
        event_id=str(uuid4()),
        type=name,
        schema_version=1,
        occurred_at=T0 + timedelta(seconds=n),
        producer="exchange-gateway",
        stream_id=BOT,
        stream_position=n,
        workspace_id=WS,
        actor="user:u",
        correlation_id=str(uuid4()),
        causation_id=None,
        payload=payload,
    )


def fill(fill_id: str, quantity: str, n: int) -> x.Fill:
    return x.Fill(
        fill_id=fill_id,
        quantity=quantity,
        price="100",
        fee="0.1",
        fee_currency="USDT",
        liquidity="maker",
        at=T0 + timedelta(seconds=n),
    )


def order_events() -> list[Envelope]:
    accepted = x.OrderAccepted.example()
    oid = accepted.order_id
    base = {"workspace_id": WS, "bot_id": BOT, "order_id": oid}
    position = x.PositionChanged.example()
    return [
        env(x.AccountOpened(**{**_fields(x.AccountOpened.example()), "bot_id": BOT}), 1, "o"),
        env(x.OrderAccepted(**{**_fields(accepted), "bot_id": BOT, "workspace_id": WS}), 2, "a"),
        env(
            x.OrderFilled(
                **base, fill=fill("f1", "0.004", 3), remaining="0.006", status="partially_filled"
            ),
            3,
            "f",
        ),
        env(x.PositionChanged(**{**_fields(position), "bot_id": BOT, "quantity": "0.004"}), 4, "p"),
        env(
            x.OrderFilled(**base, fill=fill("f2", "0.006", 5), remaining="0", status="filled"),
            5,
            "f",
        ),
        env(x.PositionChanged(**{**_fields(position), "bot_id": BOT, "quantity": "0.01"}), 6, "p"),
        env(
            x.OrderRejected(
                workspace_id=WS, bot_id=BOT, order_id="o-2", code="risk.max_position", reason="no"
            ),
            7,
            "r",
        ),
        env(
            x.EntriesHalted(
                workspace_id=WS,
                bot_id=BOT,
                mode="paper",
                limit="daily_loss_limit",
                loss="60",
                threshold="50",
                until=T0 + timedelta(days=1),
            ),
            8,
            "h",
        ),
    ]


def _fields(struct: Any) -> dict[str, Any]:
    return {f: getattr(struct, f) for f in struct.__struct_fields__}


@pytest.fixture
def engine() -> Iterator[Engine]:
    found = create_engine("sqlite://")
    for projection in (OrdersProjection(), ConnectionsProjection()):
        projection.metadata.create_all(found)
    yield found
    found.dispose()


def rows(engine: Engine, table: Any) -> list[dict[str, Any]]:
    with engine.connect() as conn:
        return [dict(r._mapping) for r in conn.execute(select(table))]


@pytest.mark.parametrize("batch", [1, 3, 100])
def test_orders_fills_positions_and_halts(engine: Engine, batch: int) -> None:
    events = order_events()
    projection = OrdersProjection()
    for start in range(0, len(events), batch):
        with engine.begin() as conn:
            projection.apply(conn, events[start : start + batch])
    by_id = {r["order_id"]: r for r in rows(engine, orders)}
    first = by_id[x.OrderAccepted.example().order_id]
    assert (first["status"], first["open"], first["filled"], first["remaining"]) == (
        "filled",
        False,
        "0.01",
        "0",
    )
    assert (first["side"], first["mode"], first["price"]) == ("buy", "paper", "64000")
    refused = by_id["o-2"]
    assert (refused["status"], refused["code"], refused["open"]) == (
        "rejected",
        "risk.max_position",
        False,
    )
    assert sorted(f["fill_id"] for f in rows(engine, fills)) == ["f1", "f2"]
    [position] = rows(engine, positions)
    assert (position["mode"], position["quantity"]) == ("paper", "0.01")
    assert position["halt"]["threshold"] == "50"


def test_a_fill_delivered_twice_is_kept_once(engine: Engine) -> None:
    events = order_events()
    with engine.begin() as conn:
        OrdersProjection().apply(conn, events[:3])
    with engine.begin() as conn:
        OrdersProjection().apply(conn, [events[2]])
    assert [f["fill_id"] for f in rows(engine, fills)] == ["f1"]
    [order] = rows(engine, orders)
    assert (order["filled"], order["remaining"]) == ("0.004", "0.006")


def test_connections_and_the_sealing_key(engine: Engine) -> None:
    added = x.ConnectionAdded.example()
    other = x.ConnectionAdded(**{**_fields(added), "connection_id": "conn-2"})
    key = x.SealingKeyPublished.example()
    with engine.begin() as conn:
        ConnectionsProjection().apply(
            conn,
            [
                env(key, 1, "k"),
                env(added, 2, "c"),
                env(other, 3, "c"),
                env(
                    x.ConnectionRemoved(workspace_id=WS, connection_id="conn-1", removed_by="u"),
                    4,
                    "r",
                ),
            ],
        )
    assert [r["connection_id"] for r in rows(engine, connections)] == ["conn-2"]
    assert rows(engine, sealing_key)[0]["key_id"] == key.key_id
    with engine.begin() as conn:
        ConnectionsProjection().apply(
            conn,
            [
                env(
                    x.ConnectionRemoved(workspace_id=WS, connection_id="conn-2", removed_by="u"),
                    5,
                    "r",
                )
            ],
        )
    assert rows(engine, connections) == []


def test_who_sees_which_event_live() -> None:
    assert visibility("exchange.connection_added") == "exchange_connections:read"
    assert visibility("exchange.connection_removed") == "exchange_connections:read"
    for name in x.ORDER_EVENTS:
        assert visibility(name) == "bots:read"
    assert visibility("exchange.sealing_key_published") is None
    assert visibility("bots.bot_created") is None
