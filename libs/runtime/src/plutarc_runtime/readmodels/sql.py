"""Small portable helpers over SQLAlchemy Core: upsert on SQLite and PostgreSQL alike."""

from __future__ import annotations

import functools
from collections.abc import Mapping, Sequence
from typing import Any

from sqlalchemy import Table
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.engine import Connection
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
    conn.execute(stmt, list(rows))
