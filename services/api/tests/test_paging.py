"""Keyset pages: every row once, in order, whatever the page size, in both directions; a cursor
the API did not issue is refused."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from plutarc_api.paging import keyset_page
from plutarc_api.problems import Problem
from plutarc_runtime.readmodels import Reader, sqlite_engine
from sqlalchemy import Column, DateTime, Integer, MetaData, String, Table, insert, select

meta = MetaData()
rows = Table(
    "rows",
    meta,
    Column("rank", Integer, nullable=False),
    Column("at", DateTime, nullable=False),
    Column("row_id", String, primary_key=True),
)
T0 = datetime(2026, 12, 3, 9, tzinfo=UTC)


@pytest.fixture
def reader(tmp_path: Path) -> Reader:
    engine = sqlite_engine(tmp_path / "paging.sqlite")
    meta.create_all(engine)
    with engine.begin() as conn:
        conn.execute(
            insert(rows),
            [
                # ties on rank and on time, so the later columns decide
                {"rank": i % 3, "at": T0 + timedelta(minutes=i % 4), "row_id": f"r{i:02d}"}
                for i in range(23)
            ],
        )
    return Reader(engine)


async def walk(reader: Reader, limit: int, *, descending: bool) -> list[str]:
    t = rows.c
    key, kinds = (t.rank, t.at, t.row_id), (int, datetime, str)
    seen: list[str] = []
    cursor = None
    while True:
        items, cursor = await keyset_page(
            reader,
            select(rows),
            key,
            kinds,
            cursor,
            limit,
            lambda r: r.row_id,
            descending=descending,
        )
        assert len(items) <= limit
        seen += items
        if cursor is None:
            return seen


@pytest.mark.parametrize("limit", [1, 2, 5, 22, 23, 50])
@pytest.mark.parametrize("descending", [False, True])
async def test_every_row_once_in_key_order(reader: Reader, limit: int, descending: bool) -> None:
    t = rows.c
    order = [t.rank, t.at, t.row_id]
    expected = [
        r.row_id
        for r in await reader.all(
            select(rows).order_by(*(c.desc() for c in order) if descending else order)
        )
    ]
    assert await walk(reader, limit, descending=descending) == expected


async def test_a_cursor_the_api_did_not_issue_is_refused(reader: Reader) -> None:
    t = rows.c
    with pytest.raises(Problem) as refused:
        await keyset_page(
            reader, select(rows), (t.rank, t.row_id), (int, str), "bm90LWEtY3Vyc29y", 5, str
        )
    assert refused.value.status == 422 and refused.value.code == "request.invalid"
