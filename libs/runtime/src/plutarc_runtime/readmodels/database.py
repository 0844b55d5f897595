"""The read-model database: a SQLite file by default, PostgreSQL when a URL names one.

SQLAlchemy Core is the one portable layer over both (sqlite3 and psycopg 3): tables are declared
once, and the same statements run on either. SQLite runs in WAL mode, so any number of reader
processes read while one writer applies events; its files are created owner-only, since read
models hold credential hashes.
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import sqlite3
import time
from collections.abc import Callable, Iterator, Sequence
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, TypeVar, overload

import msgspec
from sqlalchemy import Engine, create_engine, event
from sqlalchemy.engine import Connection, Row
from sqlalchemy.pool import NullPool, QueuePool
from sqlalchemy.sql import Executable

T = TypeVar("T")


def _private_file(path: Path) -> None:
    path.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
    if not path.exists():
        fd = os.open(path, os.O_CREAT | os.O_WRONLY, 0o600)
        os.close(fd)
    os.chmod(path, 0o600)


def apply_pragmas(dbapi: Any, pragmas: Sequence[str], patience: float = 10.0) -> None:
    """Run PRAGMAs on a new SQLite connection. Switching a new file to WAL needs a lock that
    SQLite does not wait for (no busy handler), so processes opening the same new file at once
    retry briefly instead of failing."""
    deadline = time.monotonic() + patience
    for pragma in pragmas:
        while True:
            try:
                dbapi.execute(f"PRAGMA {pragma}")
                break
            except sqlite3.OperationalError as exc:
                if "locked" not in str(exc) or time.monotonic() > deadline:
                    raise
                time.sleep(0.01)


def sqlite_engine(path: Path, *, synchronous: str = "NORMAL", pool_size: int = 4) -> Engine:
    """An engine on a SQLite file in WAL mode (created 0600 on first connect), shared safely
    between processes."""
    engine = create_engine(
        f"sqlite:///{path}",
        poolclass=QueuePool,
        pool_size=pool_size,
        max_overflow=8,
        connect_args={"check_same_thread": False, "timeout": 30},
        json_serializer=json_text,
        json_deserializer=msgspec.json.decode,
    )

    @event.listens_for(engine, "do_connect")
    def _create(*_args: Any) -> None:
        _private_file(path)

    @event.listens_for(engine, "connect")
    def _pragmas(dbapi: Any, _record: Any) -> None:
        # sqlite3 opens transactions lazily; let SQLAlchemy's BEGIN decide instead.
        dbapi.isolation_level = None
        apply_pragmas(
            dbapi, ("busy_timeout=30000", "journal_mode=WAL", f"synchronous={synchronous}")
        )
        for suffix in ("-wal", "-shm"):
            side = Path(f"{path}{suffix}")
            if side.exists():
                os.chmod(side, 0o600)

    @event.listens_for(engine, "begin")
    def _begin(conn: Connection) -> None:
        # A writer takes the lock up front: two deferred transactions that both read and then
        # write would fail at once (SQLITE_BUSY without waiting), not queue.
        immediate = conn.get_execution_options().get("sqlite_immediate", False)
        conn.exec_driver_sql("BEGIN IMMEDIATE" if immediate else "BEGIN")

    return engine


def postgres_engine(url: str, *, pool_size: int = 5) -> Engine:
    if url.startswith("postgresql://"):
        url = "postgresql+psycopg://" + url.removeprefix("postgresql://")
    elif url.startswith("postgres://"):
        url = "postgresql+psycopg://" + url.removeprefix("postgres://")
    return create_engine(
        url,
        pool_size=pool_size,
        max_overflow=10,
        pool_pre_ping=True,
        json_serializer=json_text,
        json_deserializer=msgspec.json.decode,
    )


def json_text(value: Any) -> str:
    """JSON columns through msgspec: several times faster than the json module."""
    return msgspec.json.encode(value).decode()


def open_engine(url: str | None, sqlite_path: Path, **kwargs: Any) -> Engine:
    """PostgreSQL when `url` names one, else the SQLite file at `sqlite_path`."""
    return postgres_engine(url) if url else sqlite_engine(sqlite_path, **kwargs)


def throwaway_engine(url: str) -> Engine:
    """An engine without a pool, for tools and tests that open and close at once."""
    return create_engine(url, poolclass=NullPool)


@contextlib.contextmanager
def writing(engine: Engine) -> Iterator[Connection]:
    """A write transaction (commits on success); on SQLite it holds the write lock from BEGIN."""
    with engine.connect() as conn:
        conn.execution_options(sqlite_immediate=True)
        with conn.begin():
            yield conn


def is_sqlite(engine: Engine) -> bool:
    return engine.dialect.name == "sqlite"


class Reader:
    """Reads for request handlers. SQLite answers from the page cache in microseconds, so it runs
    on the event loop; PostgreSQL is a network round trip, so it runs in a thread."""

    def __init__(self, engine: Engine) -> None:
        self.engine = engine
        self.inline = is_sqlite(engine)

    async def run(self, fn: Callable[[Connection], T]) -> T:
        if self.inline:
            return self._run(fn)
        return await asyncio.to_thread(self._run, fn)

    def _run(self, fn: Callable[[Connection], T]) -> T:
        with self.engine.connect() as conn:
            return fn(conn)

    async def one(self, stmt: Executable) -> Row[Any] | None:
        return await self.run(lambda c: c.execute(stmt).first())

    async def all(self, stmt: Executable) -> Sequence[Row[Any]]:
        return await self.run(lambda c: c.execute(stmt).all())

    async def write(self, fn: Callable[[Connection], T]) -> T:
        """A short write transaction (commits on success), in a thread: a SQLite writer may wait
        for the lock another process holds, and that wait must not hold the event loop."""

        def tx() -> T:
            with writing(self.engine) as conn:
                return fn(conn)

        return await asyncio.to_thread(tx)


@overload
def aware(value: datetime) -> datetime: ...
@overload
def aware(value: None) -> None: ...
def aware(value: datetime | None) -> datetime | None:
    """SQLite hands datetimes back naive; they were stored in UTC."""
    if value is None or value.tzinfo is not None:
        return value
    return value.replace(tzinfo=UTC)
