"""A batch's writes folded per row (`Changes`) leave the same table as the same writes sent one
statement at a time in event order, and a batch sent by `executemany` stores what SQLAlchemy
stores row by row, on SQLite and PostgreSQL alike."""

from __future__ import annotations

import random
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any
from uuid import uuid4

import pytest
from plutarc_runtime.readmodels import (
    Changes,
    executemany,
    postgres_engine,
    sqlite_engine,
    upsert,
)
from sqlalchemy import (
    JSON,
    BigInteger,
    Boolean,
    Column,
    DateTime,
    Engine,
    Integer,
    MetaData,
    String,
    Table,
    and_,
    delete,
    insert,
    select,
    update,
)

md = MetaData()
rows = Table(
    "fold_rows",
    md,
    Column("a", String(10), primary_key=True),
    Column("b", String(10), primary_key=True),
    Column("name", String(20), nullable=False),
    Column("secret", String(20)),
    Column("flag", String(20)),
)
PLACEHOLDERS = {"name": ""}


@pytest.fixture(params=["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)])
def engine(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Engine]:
    if request.param == "postgres":
        server = request.getfixturevalue("postgres_server")
        made = postgres_engine(server.create_database(f"fold_{uuid4().hex[:12]}"))
    else:
        made = sqlite_engine(tmp_path / "fold.sqlite")
    md.create_all(made)
    yield made
    made.dispose()


Op = tuple[str, dict[str, str], dict[str, Any]]


def random_ops(rng: random.Random, n: int) -> list[Op]:
    ops: list[Op] = []
    for i in range(n):
        key = {"a": rng.choice("xyz"), "b": rng.choice("12")}
        kind = rng.choice(["upsert", "partial", "update", "delete"])
        if kind == "upsert":
            ops.append((kind, key, {"name": f"n{i}", "flag": rng.choice([None, f"f{i}"])}))
        elif kind == "partial":  # a column set before the row's insert may have happened
            ops.append((kind, key, {"secret": f"s{i}"}))
        elif kind == "update":
            column = rng.choice(["name", "flag", "secret"])
            ops.append((kind, key, {column: f"u{i}"}))
        else:
            ops.append((kind, key, {}))
    return ops


def one_by_one(engine: Engine, ops: list[Op]) -> None:
    with engine.begin() as conn:
        for kind, key, values in ops:
            where = and_(*(rows.c[c] == v for c, v in key.items()))
            if kind == "upsert":
                upsert(conn, rows, [{**key, **values}], list(key))
            elif kind == "partial":
                upsert(conn, rows, [{**PLACEHOLDERS, **key, **values}], list(key), list(values))
            elif kind == "update":
                conn.execute(update(rows).where(where).values(values))
            else:
                conn.execute(delete(rows).where(where))


def folded(engine: Engine, ops: list[Op]) -> None:
    changes = Changes()
    for kind, key, values in ops:
        if kind == "upsert":
            changes.upsert(rows, key, values)
        elif kind == "partial":
            changes.upsert(rows, key, values, placeholders=PLACEHOLDERS)
        elif kind == "update":
            changes.update(rows, key, values)
        else:
            changes.delete(rows, key)
    with engine.begin() as conn:
        changes.flush(conn)


def table(engine: Engine) -> set[tuple[Any, ...]]:
    with engine.connect() as conn:
        return {tuple(r) for r in conn.execute(select(rows))}


def test_folded_writes_equal_writes_in_order(engine: Engine) -> None:
    rng = random.Random(8)
    for _ in range(150):
        before = random_ops(rng, rng.randint(0, 6))  # rows from earlier batches
        batch = random_ops(rng, rng.randint(1, 12))
        with engine.begin() as conn:
            conn.execute(delete(rows))
        one_by_one(engine, before)
        one_by_one(engine, batch)
        expected = table(engine)
        with engine.begin() as conn:
            conn.execute(delete(rows))
        one_by_one(engine, before)
        folded(engine, batch)
        assert table(engine) == expected, (before, batch)


def test_a_table_is_keyed_one_way() -> None:
    changes = Changes()
    changes.upsert(rows, {"a": "x", "b": "1"}, {"name": "n"})
    with pytest.raises(ValueError, match="key"):
        changes.delete(rows, {"b": "1", "a": "x"})


typed_md = MetaData()
typed = Table(
    "fold_typed",
    typed_md,
    Column("id", String(10), primary_key=True),
    Column("n", BigInteger().with_variant(Integer, "sqlite"), nullable=False),
    Column("at", DateTime(timezone=True), nullable=False),
    Column("doc", JSON, nullable=False),
    Column("flag", Boolean, nullable=False),
    Column("note", String(20)),
)


def test_a_batch_stores_what_sqlalchemy_stores_row_by_row(engine: Engine) -> None:
    typed_md.create_all(engine)
    at = datetime(2026, 12, 2, 10, 30, 15, 123456, tzinfo=UTC)
    made = [
        {
            "id": f"r{i}",
            "n": 2**40 + i,
            "at": at + timedelta(minutes=i),
            "doc": {"i": i, "list": [1, "two", None], "nested": {"ok": i % 2 == 0}},
            "flag": i % 3 == 0,
            "note": None if i % 2 else f"note {i}",
        }
        for i in range(40)  # a batch large enough for executemany's own path
    ]
    with engine.begin() as conn:
        executemany(conn, insert(typed), made[:20])
        upsert(conn, typed, made[20:], ["id"])
        for row in made[:20]:  # SQLAlchemy's path, one row at a time, into a copy
            conn.execute(insert(typed), [{**row, "id": "x" + row["id"]}])
    with engine.connect() as conn:
        stored = {r.id: r._asdict() for r in conn.execute(select(typed))}
    for row in made:
        assert {**stored[row["id"]], "id": row["id"]} == {
            **row,
            "at": stored[row["id"]]["at"],
        }
        assert stored[row["id"]]["at"].replace(tzinfo=UTC) == row["at"]
    for row in made[:20]:
        assert {**stored["x" + row["id"]], "id": row["id"]} == stored[row["id"]]
