"""A batch's writes folded per row key, then sent as one statement per table and shape.

A projection that writes row by row in event order sends one statement per event (the events of a
registration, a login and a logout alternate, so runs of one kind are short), and each statement
costs far more in SQLAlchemy than in the database. `Changes` keeps, per (table, key), what the
batch's writes to that row come to, in event order, and `flush` sends them as a few executemany:

- deletes first, then updates of rows that existed before the batch, then upserts;
- an upsert after an upsert merges (later values win; a partial upsert's placeholders fill only
  columns nothing else set); an update after an upsert folds into it;
- a delete drops what the batch wrote to the row before it; an update after a delete is dropped
  (the row is gone), an upsert after it inserts again.

Every write names its table's key columns the same way each time.
"""

from __future__ import annotations

import functools
from collections.abc import Iterable, Mapping
from typing import Any

from sqlalchemy import Table, and_, bindparam, delete, update
from sqlalchemy.engine import Connection
from sqlalchemy.sql.dml import Delete, Update

from .sql import executemany, upsert

Key = tuple[Any, ...]


class _Row:
    __slots__ = ("changes", "deleted", "row", "sets")

    def __init__(self) -> None:
        self.deleted = False
        self.changes: dict[str, Any] | None = None  # an update of a row from before the batch
        self.row: dict[str, Any] | None = None  # an upsert: its insert values
        self.sets: set[str] = set()  # the upsert's columns that overwrite an existing row


class Changes:
    def __init__(self) -> None:
        self._rows: dict[Table, dict[Key, _Row]] = {}
        self._keys: dict[Table, tuple[str, ...]] = {}

    def _slot(self, table: Table, key: Mapping[str, Any]) -> _Row:
        names = tuple(key)
        known = self._keys.setdefault(table, names)
        if known != names:
            raise ValueError(f"{table.name}: key {names} differs from {known}")
        rows = self._rows.setdefault(table, {})
        k = tuple(key.values())
        slot = rows.get(k)
        if slot is None:
            slot = rows[k] = _Row()
        return slot

    def upsert(
        self,
        table: Table,
        key: Mapping[str, Any],
        values: Mapping[str, Any],
        *,
        placeholders: Mapping[str, Any] | None = None,
    ) -> None:
        """Insert the row, or set `values` on the existing one. `placeholders` fill columns an
        insert needs but an existing row keeps (say a password set before the registration)."""
        slot = self._slot(table, key)
        if slot.row is None:
            slot.row = {**(placeholders or {}), **key, **values}
        else:
            slot.row.update(values)
            for column, value in (placeholders or {}).items():
                slot.row.setdefault(column, value)
        slot.sets.update(values)

    def update(self, table: Table, key: Mapping[str, Any], values: Mapping[str, Any]) -> None:
        """Set `values` on the row if it exists."""
        slot = self._slot(table, key)
        if slot.row is not None:
            slot.row.update(values)
            slot.sets.update(values)
        elif not slot.deleted:
            slot.changes = {**(slot.changes or {}), **values}

    def delete(self, table: Table, key: Mapping[str, Any]) -> None:
        slot = self._slot(table, key)
        slot.deleted, slot.changes, slot.row, slot.sets = True, None, None, set()

    def flush(self, conn: Connection) -> None:
        for table, rows in self._rows.items():
            keys = self._keys[table]
            gone = [
                {f"k_{c}": v for c, v in zip(keys, k, strict=True)}
                for k, s in rows.items()
                if s.deleted
            ]
            if gone:
                executemany(conn, _delete(table, keys), gone)
            for columns, params in _grouped(
                (tuple(sorted(s.changes)), {**{f"v_{c}": v for c, v in s.changes.items()},
                                            **{f"k_{c}": v for c, v in zip(keys, k, strict=True)}})
                for k, s in rows.items()
                if s.changes
            ):  # fmt: skip
                executemany(conn, _update(table, keys, columns), params)
            for (_columns, sets), params in _grouped(
                ((tuple(sorted(s.row)), tuple(sorted(s.sets))), s.row)
                for s in rows.values()
                if s.row is not None
            ):
                upsert(conn, table, params, keys, sets)
        self._rows.clear()


def _grouped(
    pairs: Iterable[tuple[Any, dict[str, Any]]],
) -> Iterable[tuple[Any, list[dict[str, Any]]]]:
    groups: dict[Any, list[dict[str, Any]]] = {}
    for shape, row in pairs:
        groups.setdefault(shape, []).append(row)
    return groups.items()


def _where(table: Table, keys: tuple[str, ...]) -> Any:
    return and_(*(table.c[c] == bindparam(f"k_{c}") for c in keys))


@functools.lru_cache(maxsize=256)
def _delete(table: Table, keys: tuple[str, ...]) -> Delete:
    return delete(table).where(_where(table, keys))


@functools.lru_cache(maxsize=256)
def _update(table: Table, keys: tuple[str, ...], columns: tuple[str, ...]) -> Update:
    return (
        update(table).where(_where(table, keys)).values({c: bindparam(f"v_{c}") for c in columns})
    )
