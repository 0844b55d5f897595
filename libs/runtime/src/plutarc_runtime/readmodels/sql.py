"""Small portable helpers over SQLAlchemy Core: upsert on SQLite and PostgreSQL alike."""

from __future__ import annotations

import functools
import operator
from collections.abc import Callable, Mapping, Sequence
from typing import Any, cast

from sqlalchemy import Table
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.engine import Connection, Dialect
from sqlalchemy.sql import ClauseElement, Executable
from sqlalchemy.sql.compiler import SQLCompiler
from sqlalchemy.sql.dml import Insert


@functools.lru_cache(maxsize=512)
def _upsert_statement(
    dialect: str, table: Table, keys: tuple[str, ...], columns: tuple[str, ...]
) -> Insert:
    # Built once per shape: building `excluded` and ON CONFLICT costs more than the executemany.
    insert = postgresql.insert if dialect == "postgresql" else sqlite.insert
    stmt = insert(table)
    if columns:
        return stmt.on_conflict_do_update(
            index_elements=list(keys), set_={c: stmt.excluded[c] for c in columns}
        )
    return stmt.on_conflict_do_nothing(index_elements=list(keys))


def upsert(
    conn: Connection,
    table: Table,
    rows: Sequence[Mapping[str, Any]],
    keys: Sequence[str],
    update: Sequence[str] | None = None,
) -> None:
    """Insert `rows`, or update the columns `update` (default: all but the keys) where the key
    exists already. Rows must share their columns (one executemany)."""
    if not rows:
        return
    columns = update if update is not None else [c for c in rows[0] if c not in keys]
    stmt = _upsert_statement(conn.dialect.name, table, tuple(keys), tuple(columns))
    executemany(conn, stmt, rows)


Processor = Callable[[Any], Any] | None


@functools.lru_cache(maxsize=1024)
def _positional(
    stmt: Executable, dialect: Dialect, keys: tuple[str, ...]
) -> tuple[str, tuple[str, ...], tuple[Processor, ...]] | None:
    """The statement compiled once for rows with these keys: its SQL, the row keys in parameter
    order and each parameter's bind processor; None where only SQLAlchemy's path fits (named
    parameters, or a parameter the rows do not carry, such as a column default)."""
    compiled = cast(
        SQLCompiler, cast(ClauseElement, stmt).compile(dialect=dialect, column_keys=list(keys))
    )
    names = compiled.positiontup
    if names is None or not set(names) <= set(keys):
        return None
    processors = tuple(
        compiled.binds[name].type.dialect_impl(dialect).bind_processor(dialect) for name in names
    )
    return compiled.string, tuple(names), processors


def executemany(conn: Connection, stmt: Executable, rows: Sequence[Mapping[str, Any]]) -> None:
    """Run `stmt` once per row (rows share their keys). On SQLite a batch skips SQLAlchemy's
    per-row parameter handling, which costs several times the database's own work: the statement
    is compiled once per shape and each row becomes a tuple through its columns' bind processors
    (the same conversions SQLAlchemy applies). Elsewhere, and for a few rows, `conn.execute`."""
    if len(rows) < 16:
        conn.execute(stmt, list(rows))
        return
    plan = _positional(stmt, conn.dialect, tuple(rows[0]))
    if plan is None:
        conn.execute(stmt, list(rows))
        return
    sql, names, processors = plan
    get = operator.itemgetter(*names)
    params: list[Any] = list(map(get, rows))
    if len(names) == 1:
        params = [(v,) for v in params]
    if any(processors):  # column by column: one map per column, not a call per value
        columns = [
            column if p is None else list(map(p, column))
            for column, p in zip(zip(*params, strict=True), processors, strict=True)
        ]
        params = list(zip(*columns, strict=True))
    conn.exec_driver_sql(sql, params)
