"""The exchange context's read models in the API, as tables.

- `exchange.connections` (from `exchange.events.v1`): the gateway's sealing key (the last one
  published, one row) and each workspace's venue connections (never a secret: the events hold
  none). A removed connection's row is deleted; the audit log keeps who removed it.
- `exchange.bots` (from `bots.events.v1`): each bot's workspace, mode and market, so the API can
  refuse an order of a bot that is not in the workspace and ask for `trading:live` when it is live.
- `exchange.orders` (from `exchange.orders.v1`): each bot's orders with their state, their fills,
  and per mode and symbol the position, balances and PnL (the latest `position_changed`) and any
  halt of new entries.

Every table is read a page at a time by an indexed key; rows touched by a batch are loaded once,
folded in memory and written once, so memory is bounded by the batch, never by history.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from decimal import Decimal
from typing import Any

import msgspec
from plutarc_contracts import Envelope, events_topic
from plutarc_contracts import bots as b
from plutarc_contracts import exchange as x
from plutarc_runtime.readmodels import upsert
from sqlalchemy import (
    JSON,
    Boolean,
    Column,
    DateTime,
    Index,
    MetaData,
    String,
    Table,
    delete,
    select,
    tuple_,
)
from sqlalchemy.engine import Connection

EVENTS = events_topic(x.EXCHANGE)

connections_md = MetaData()
sealing_key = Table(
    "ex_sealing_key",
    connections_md,
    Column("slot", String(16), primary_key=True),
    Column("key_id", String(64), nullable=False),
    Column("public_key", String(64), nullable=False),
    Column("published_at", DateTime(timezone=True), nullable=False),
    sqlite_with_rowid=False,
)
connections = Table(
    "ex_connections",
    connections_md,
    Column("connection_id", String(64), primary_key=True),
    Column("workspace_id", String(64), nullable=False),
    Column("venue", String(40), nullable=False),
    Column("label", String(100), nullable=False),
    Column("environments", JSON, nullable=False),
    Column("fingerprint", String(8), nullable=False),
    Column("added_by", String(128), nullable=False),
    Column("added_at", DateTime(timezone=True), nullable=False),
    Index("ex_connections_by_workspace", "workspace_id", "added_at", "connection_id"),
    sqlite_with_rowid=False,
)

bots_md = MetaData()
bots = Table(
    "ex_bots",
    bots_md,
    Column("bot_id", String(64), primary_key=True),
    Column("workspace_id", String(64), nullable=False),
    Column("mode", String(20), nullable=False),
    Column("venue", String(40), nullable=False),
    Column("symbol", String(64), nullable=False),
    sqlite_with_rowid=False,
)

orders_md = MetaData()
orders = Table(
    "ex_orders",
    orders_md,
    Column("order_id", String(64), primary_key=True),
    Column("workspace_id", String(64), nullable=False),
    Column("bot_id", String(64), nullable=False),
    Column("status", String(20), nullable=False),
    Column("open", Boolean, nullable=False),
    Column("mode", String(20)),
    Column("venue", String(40)),
    Column("symbol", String(64)),
    Column("side", String(4)),
    Column("type", String(10)),
    Column("quantity", String(41)),
    Column("price", String(41)),
    Column("post_only", Boolean, nullable=False),
    Column("reduce_only", Boolean, nullable=False),
    Column("client_order_id", String(64)),
    Column("venue_order_id", String(128)),
    Column("filled", String(41), nullable=False),
    Column("remaining", String(41)),
    Column("code", String(80)),
    Column("reason", String(500)),
    Column("created_at", DateTime(timezone=True), nullable=False),
    Column("updated_at", DateTime(timezone=True), nullable=False),
    Index("ex_orders_by_bot", "bot_id", "created_at", "order_id"),
    Index("ex_orders_by_bot_and_state", "bot_id", "open", "created_at", "order_id"),
    sqlite_with_rowid=False,
)
fills = Table(
    "ex_fills",
    orders_md,
    Column("bot_id", String(64), primary_key=True),
    Column("fill_id", String(64), primary_key=True),
    Column("order_id", String(64), nullable=False),
    Column("workspace_id", String(64), nullable=False),
    Column("side", String(4)),
    Column("quantity", String(41), nullable=False),
    Column("price", String(41), nullable=False),
    Column("fee", String(41), nullable=False),
    Column("fee_currency", String(20), nullable=False),
    Column("liquidity", String(5), nullable=False),
    Column("at", DateTime(timezone=True), nullable=False),
    Index("ex_fills_by_bot", "bot_id", "at", "fill_id"),
    Index("ex_fills_by_order", "order_id", "at", "fill_id"),
    sqlite_with_rowid=False,
)
positions = Table(
    "ex_positions",
    orders_md,
    Column("bot_id", String(64), primary_key=True),
    Column("mode", String(20), primary_key=True),
    Column("symbol", String(64), primary_key=True),
    Column("workspace_id", String(64), nullable=False),
    Column("quantity", String(41), nullable=False),
    Column("average_price", String(41), nullable=False),
    Column("realised_pnl", String(41), nullable=False),
    Column("fees_paid", String(41), nullable=False),
    Column("balances", JSON, nullable=False),
    Column("halted_until", DateTime(timezone=True)),
    Column("halt", JSON),
    Column("updated_at", DateTime(timezone=True), nullable=False),
    sqlite_with_rowid=False,
)

CURRENT = "current"


class ConnectionsProjection:
    name = "exchange.connections"
    version = 1
    topics = (EVENTS,)
    metadata = connections_md
    types: frozenset[str] | None = frozenset(
        {
            "exchange.sealing_key_published",
            "exchange.connection_added",
            "exchange.connection_removed",
        }
    )

    def apply(self, conn: Connection, events: Sequence[Envelope]) -> None:
        added: dict[str, dict[str, Any]] = {}
        removed: set[str] = set()
        key: dict[str, Any] | None = None
        for env in events:
            p: Any = env.payload
            if isinstance(p, x.SealingKeyPublished):
                key = {
                    "slot": CURRENT,
                    "key_id": p.key_id,
                    "public_key": p.public_key,
                    "published_at": env.occurred_at,
                }
            elif isinstance(p, x.ConnectionAdded):
                removed.discard(p.connection_id)
                added[p.connection_id] = {
                    "connection_id": p.connection_id,
                    "workspace_id": p.workspace_id,
                    "venue": p.venue,
                    "label": p.label,
                    "environments": list(p.environments),
                    "fingerprint": p.fingerprint,
                    "added_by": p.added_by,
                    "added_at": env.occurred_at,
                }
            elif isinstance(p, x.ConnectionRemoved):
                added.pop(p.connection_id, None)
                removed.add(p.connection_id)
        if key is not None:
            upsert(conn, sealing_key, [key], ["slot"])
        upsert(conn, connections, [added[i] for i in sorted(added)], ["connection_id"])
        if removed:
            conn.execute(delete(connections).where(connections.c.connection_id.in_(removed)))


class BotsProjection:
    name = "exchange.bots"
    version = 1
    topics = (events_topic(b.BOTS),)
    metadata = bots_md
    types: frozenset[str] | None = frozenset(
        {"bots.bot_created", "bots.bot_reconfigured", "bots.bot_mode_changed", "bots.bot_deleted"}
    )

    def apply(self, conn: Connection, events: Sequence[Envelope]) -> None:
        latest: dict[str, dict[str, Any]] = {}
        gone: set[str] = set()
        for env in events:
            p: Any = env.payload
            if isinstance(p, b.BotDeleted):
                latest.pop(p.bot_id, None)
                gone.add(p.bot_id)
            elif isinstance(p, b.VERSIONED):
                gone.discard(p.bot_id)
                latest[p.bot_id] = {
                    "bot_id": p.bot_id,
                    "workspace_id": p.workspace_id,
                    "mode": p.mode,
                    "venue": p.config.market.venue,
                    "symbol": p.config.market.symbol,
                }
        upsert(conn, bots, [latest[i] for i in sorted(latest)], ["bot_id"])
        if gone:
            conn.execute(delete(bots).where(bots.c.bot_id.in_(gone)))


def _load(conn: Connection, table: Table, keys: list[str], wanted: set[tuple[Any, ...]]) -> Any:
    found: dict[tuple[Any, ...], dict[str, Any]] = {}
    ordered = sorted(wanted)
    columns = [table.c[k] for k in keys]
    for start in range(0, len(ordered), 300):
        chunk = ordered[start : start + 300]
        where = (
            columns[0].in_([c[0] for c in chunk]) if len(keys) == 1 else tuple_(*columns).in_(chunk)
        )
        for row in conn.execute(select(table).where(where)):
            mapping = dict(row._mapping)
            found[tuple(mapping[k] for k in keys)] = mapping
    return found


def _dec(text: str | None) -> Decimal:
    return Decimal(text) if text else Decimal(0)


def _plain(value: Decimal) -> str:
    text = format(value.normalize(), "f")
    return "0" if text in ("-0", "") else text


class OrdersProjection:
    name = "exchange.orders"
    version = 1
    topics = (x.ORDERS_TOPIC,)
    metadata = orders_md
    types: frozenset[str] | None = frozenset(x.ORDER_EVENTS)

    def apply(self, conn: Connection, events: Sequence[Envelope]) -> None:
        payloads: list[Any] = [env.payload for env in events]
        order_rows = _load(
            conn, orders, ["order_id"], {(p.order_id,) for p in payloads if hasattr(p, "order_id")}
        )
        position_rows = _load(
            conn,
            positions,
            ["bot_id", "mode", "symbol"],
            {(p.bot_id, p.mode, p.symbol) for p in payloads if hasattr(p, "symbol")},
        )
        halts: list[tuple[x.EntriesHalted, datetime]] = []
        touched_o: set[tuple[Any, ...]] = set()
        touched_p: set[tuple[Any, ...]] = set()
        new_fills: list[dict[str, Any]] = []
        for env in events:
            p: Any = env.payload
            at = env.occurred_at
            if isinstance(p, x.EntriesHalted):
                halts.append((p, at))
            elif isinstance(p, x.AccountOpened | x.PositionChanged):
                touched_p.add(_fold_position(position_rows, p, at))
            elif _fold_order(order_rows, p, at, new_fills):
                touched_o.add((p.order_id,))
        upsert(conn, orders, [order_rows[k] for k in sorted(touched_o)], ["order_id"])
        upsert(conn, fills, new_fills, ["bot_id", "fill_id"])
        if halts:
            wanted = {(p.bot_id, p.mode) for p, _ in halts}
            for row in conn.execute(
                select(positions).where(
                    tuple_(positions.c.bot_id, positions.c.mode).in_(sorted(wanted))
                )
            ):
                mapping = dict(row._mapping)
                position_rows.setdefault(
                    (mapping["bot_id"], mapping["mode"], mapping["symbol"]), mapping
                )
            for p, at in halts:
                for k, row in position_rows.items():
                    if k[0] == p.bot_id and k[1] == p.mode:
                        row["halted_until"] = p.until
                        row["halt"] = {
                            "loss": p.loss,
                            "threshold": p.threshold,
                            "at": at.isoformat(),
                        }
                        row["updated_at"] = at
                        touched_p.add(k)
        upsert(
            conn,
            positions,
            [position_rows[k] for k in sorted(touched_p)],
            ["bot_id", "mode", "symbol"],
        )


def _fold_position(
    rows: dict[tuple[Any, ...], dict[str, Any]],
    p: x.AccountOpened | x.PositionChanged,
    at: datetime,
) -> tuple[Any, ...]:
    key = (p.bot_id, p.mode, p.symbol)
    row = rows.get(key)
    if row is None:
        row = rows[key] = {
            "bot_id": p.bot_id,
            "mode": p.mode,
            "symbol": p.symbol,
            "workspace_id": p.workspace_id,
            "quantity": "0",
            "average_price": "0",
            "realised_pnl": "0",
            "fees_paid": "0",
            "halted_until": None,
            "halt": None,
        }
    row["balances"] = [msgspec.to_builtins(b_) for b_ in p.balances]
    row["updated_at"] = at
    if isinstance(p, x.PositionChanged):
        row.update(
            quantity=p.quantity,
            average_price=p.average_price,
            realised_pnl=p.realised_pnl,
            fees_paid=p.fees_paid,
        )
    return key


def _fold_order(
    rows: dict[tuple[Any, ...], dict[str, Any]],
    p: Any,
    at: datetime,
    new_fills: list[dict[str, Any]],
) -> bool:
    key = (p.order_id,)
    row = rows.get(key)
    if isinstance(p, x.OrderAccepted):
        if row is None:
            row = rows[key] = _new_order(p.workspace_id, p.bot_id, p.order_id, at)
        done = row["status"] in ("filled", "cancelled", "rejected")
        row.update(
            status=row["status"] if row["status"] != "new" else "open",
            mode=p.mode,
            venue=p.venue,
            symbol=p.symbol,
            side=p.side,
            type=p.type,
            quantity=p.quantity,
            price=p.price,
            post_only=p.post_only,
            reduce_only=p.reduce_only,
            client_order_id=p.client_order_id,
            venue_order_id=p.venue_order_id,
            open=not done,
            remaining=row["remaining"] or p.quantity,
            updated_at=at,
        )
        return True
    if isinstance(p, x.OrderRejected):
        if row is None:
            row = rows[key] = _new_order(p.workspace_id, p.bot_id, p.order_id, at)
        row.update(status="rejected", open=False, code=p.code, reason=p.reason, updated_at=at)
        return True
    if row is None:
        row = rows[key] = _new_order(p.workspace_id, p.bot_id, p.order_id, at)
    if isinstance(p, x.OrderFilled):
        f = p.fill
        # From what remains (not a running sum): a fill applied twice changes nothing.
        if row["quantity"] is not None:
            row["filled"] = _plain(Decimal(row["quantity"]) - Decimal(p.remaining))
        else:
            row["filled"] = _plain(_dec(row["filled"]) + Decimal(f.quantity))
        row.update(status=p.status, remaining=p.remaining, open=p.status != "filled", updated_at=at)
        new_fills.append(
            {
                "bot_id": p.bot_id,
                "fill_id": f.fill_id,
                "order_id": p.order_id,
                "workspace_id": p.workspace_id,
                "side": row["side"],
                "quantity": f.quantity,
                "price": f.price,
                "fee": f.fee,
                "fee_currency": f.fee_currency,
                "liquidity": f.liquidity,
                "at": f.at,
            }
        )
        return True
    if isinstance(p, x.OrderCancelled):
        row.update(
            status="cancelled", open=False, remaining=p.remaining, reason=p.reason, updated_at=at
        )
        return True
    return False


def _new_order(workspace_id: str, bot_id: str, order_id: str, at: datetime) -> dict[str, Any]:
    return {
        "order_id": order_id,
        "workspace_id": workspace_id,
        "bot_id": bot_id,
        "status": "new",
        "open": True,
        "mode": None,
        "venue": None,
        "symbol": None,
        "side": None,
        "type": None,
        "quantity": None,
        "price": None,
        "post_only": False,
        "reduce_only": False,
        "client_order_id": None,
        "venue_order_id": None,
        "filled": "0",
        "remaining": None,
        "code": None,
        "reason": None,
        "created_at": at,
        "updated_at": at,
    }
