"""Cursors for keyset pages: the last row's sort key, opaque to clients. A route orders by a key
that ends in a unique column, asks for one row more than the page, and hands back the last row's
key as `next_cursor`; `parse_cursor` refuses anything this API did not issue (422).
`keyset_page` does all of it for one query."""

from __future__ import annotations

import base64
import json
from collections.abc import Callable, Sequence
from datetime import UTC, datetime
from typing import Any, TypeVar

from plutarc_runtime.readmodels import Reader, aware
from sqlalchemy import Column, Select, literal, tuple_

from .problems import Problem

T = TypeVar("T")


def cursor_of(values: Sequence[Any]) -> str:
    raw = json.dumps([v.isoformat() if isinstance(v, datetime) else v for v in values])
    return base64.urlsafe_b64encode(raw.encode()).decode().rstrip("=")


def parse_cursor(cursor: str, kinds: Sequence[type]) -> list[Any]:
    """The sort key a cursor holds, each value of the kind expected; 422 otherwise."""
    try:
        raw = base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4)).decode()
        values = json.loads(raw)
        if not isinstance(values, list) or len(values) != len(kinds):
            raise ValueError
        out: list[Any] = []
        for value, kind in zip(values, kinds, strict=True):
            if kind is datetime:
                instant = datetime.fromisoformat(value)
                if instant.tzinfo is None:
                    raise ValueError
                out.append(instant.astimezone(UTC))
            elif isinstance(value, kind) and not isinstance(value, bool):
                out.append(value)
            else:
                raise ValueError
        return out
    except (ValueError, TypeError, UnicodeDecodeError):
        raise Problem(
            422,
            "request.invalid",
            "the cursor is not one this API issued",
            errors=[{"field": "cursor", "message": "malformed"}],
        ) from None


async def keyset_page(
    reader: Reader,
    query: Select[Any],
    key: Sequence[Column[Any]],
    kinds: Sequence[type],
    cursor: str | None,
    limit: int,
    out: Callable[[Any], T],
    *,
    descending: bool = False,
) -> tuple[list[T], str | None]:
    """One page of ``query`` ordered by ``key`` (its last column unique), after ``cursor``: the
    rows made into ``out(row)`` and the next page's cursor (None on the last page)."""
    if cursor:
        values = parse_cursor(cursor, kinds)
        after = tuple_(*key)
        bound = tuple_(*(literal(v, k.type) for v, k in zip(values, key, strict=True)))
        query = query.where(after < bound if descending else after > bound)
    order = [k.desc() for k in key] if descending else list(key)
    rows = await reader.all(query.order_by(*order).limit(limit + 1))
    next_cursor = None
    if len(rows) > limit:
        last = rows[limit - 1]
        next_cursor = cursor_of(
            [
                aware(v) if isinstance(v, datetime) else v
                for v in (getattr(last, k.name) for k in key)
            ]
        )
    return [out(r) for r in rows[:limit]], next_cursor
