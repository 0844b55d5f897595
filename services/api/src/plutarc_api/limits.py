"""Abuse limits shared by every worker and replica: request rates per key, and failed logins.

The state lives in a database, so that N workers allow a limit once rather than N times: the
PostgreSQL at `database_url` when one is set, else a SQLite file of its own (`api-limits.sqlite`),
apart from the read models so that a long projection transaction never stalls a request. On
PostgreSQL the tables are UNLOGGED: this state need not survive a crash. Times are read from the
wall clock, which every process sharing the database must agree on.
"""

from __future__ import annotations

import asyncio
import math
import time
from collections.abc import Callable
from contextlib import AbstractContextManager
from pathlib import Path
from typing import Any

import sqlalchemy as sa
from plutarc_runtime.readmodels.database import apply_pragmas
from plutarc_runtime.settings import RuntimeSettings
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.engine import Engine, make_url
from sqlalchemy.schema import CreateIndex, CreateTable, SchemaItem

Clock = Callable[[], float]

LIMITS_FILE = "api-limits.sqlite"
PURGE_EVERY = 60.0  # seconds between one process's purges of state that no longer limits anyone

_INSERT: dict[str, Callable[[sa.Table], sqlite.Insert | postgresql.Insert]] = {
    "sqlite": sqlite.insert,  # both have INSERT ... ON CONFLICT DO UPDATE ... RETURNING
    "postgresql": postgresql.insert,
}
_TABLE_PREFIXES = {"postgresql": ["UNLOGGED"]}
_DDL_LOCK = 0x706C75746172  # pg_advisory_xact_lock key: one process at a time creates the tables
_SQLITE_PRAGMAS = ("busy_timeout=5000", "journal_mode=WAL", "synchronous=NORMAL")


def limits_engine(settings: RuntimeSettings) -> Engine:
    """Where the limits live: the PostgreSQL at `database_url`, else `<data_dir>/api-limits.sqlite`.

    Its connections autocommit: every check is one statement, so a transaction around it would only
    cost more (three round trips instead of one on PostgreSQL).
    """
    if settings.database_url:
        return postgres_engine(settings.database_url)
    return sqlite_engine(settings.data_dir / LIMITS_FILE)


def postgres_engine(url: str) -> Engine:
    parsed = make_url(url)
    if parsed.drivername not in ("postgresql", "postgres", "postgresql+psycopg"):
        raise ValueError(
            f"unsupported database URL scheme {parsed.drivername!r}; use postgresql://"
        )
    return sa.create_engine(
        parsed.set(drivername="postgresql+psycopg"),
        isolation_level="AUTOCOMMIT",
        pool_size=2,
        max_overflow=8,
        connect_args={"connect_timeout": 5},
    )


def sqlite_engine(path: Path) -> Engine:
    """A SQLite file readable by its owner only, in WAL mode: readers never wait for the writer.

    Like every engine it connects on first use: until then, not even the file is made.
    """

    def owner_only(*_: Any) -> None:
        path.parent.mkdir(parents=True, exist_ok=True)
        path.touch(mode=0o600)
        path.chmod(0o600)  # its -wal and -shm files are created with the same mode

    engine = sa.create_engine(
        f"sqlite:///{path}",
        isolation_level="AUTOCOMMIT",
        connect_args={"check_same_thread": False},
    )
    sa.event.listen(engine, "do_connect", owner_only)
    sa.event.listen(engine, "connect", _sqlite_pragmas)
    return engine


def _sqlite_pragmas(dbapi_connection: Any, _record: Any) -> None:
    apply_pragmas(dbapi_connection, _SQLITE_PRAGMAS)


class _Table:
    """A table of the limits, created if missing when first used (also by several processes at
    once), so that building the API's runtime connects to nothing."""

    def __init__(self, engine: Engine, name: str, *items: SchemaItem, **kwargs: Any) -> None:
        self.engine, self.dialect = engine, engine.dialect.name
        if self.dialect not in _INSERT:
            raise ValueError(f"abuse limits run on SQLite or PostgreSQL, not {self.dialect}")
        prefixes = _TABLE_PREFIXES.get(self.dialect, [])
        self.table = sa.Table(name, sa.MetaData(), *items, prefixes=prefixes, **kwargs)
        self._created = False

    def begin(self) -> AbstractContextManager[sa.Connection]:
        if not self._created:
            self._create()
        return self.engine.begin()

    def _create(self) -> None:
        with self.engine.connect() as conn:
            if self.dialect == "postgresql":  # concurrent CREATE ... IF NOT EXISTS can collide
                conn.execution_options(isolation_level="READ COMMITTED")
                conn.execute(sa.select(sa.func.pg_advisory_xact_lock(_DDL_LOCK)))
            conn.execute(CreateTable(self.table, if_not_exists=True))
            for index in self.table.indexes:
                conn.execute(CreateIndex(index, if_not_exists=True))
            conn.commit()
        self._created = True


def _micros(seconds: float) -> int:
    return round(seconds * 1_000_000)


LEASE_MAX = 32
LEASE_OF_RATE = 0.05  # a lease holds at most this many seconds' worth of the rate
LEASE_SECONDS = 1.0  # tokens of a lease not spent by then are dropped


def lease_size(rate: float, burst: int) -> int:
    """Tokens a process takes from the shared bucket at once: at most LEASE_MAX, 50 ms of the
    rate and a quarter of the burst; 1 (every request asks the database) for slow limits."""
    return max(1, min(LEASE_MAX, int(rate * LEASE_OF_RATE), burst // 4))


class RateLimiter:
    """`rate` requests per second per key, in bursts of up to `burst`.

    GCRA: one theoretical arrival time (TAT) per key, in integer microseconds so that a burst is
    exact. A request is allowed when the TAT is at most `burst - 1` intervals ahead of now, and
    then moves it one interval on. One INSERT ... ON CONFLICT DO UPDATE ... RETURNING decides and
    records, atomically on SQLite and PostgreSQL alike, so no two processes take the last token.
    A TAT in the past means a full bucket, the same as no row: such rows are purged now and then.

    Leases: a process takes up to `lease` tokens in that one statement (as many as the bucket
    holds, up to `lease`) and spends them from memory, so that only one request in `lease` writes
    to the database. Every allowed request still took a token from the shared bucket, so N
    processes never allow more than one bucket does, but for the tokens they hold: over any
    period, the processes together allow at most what the bucket allows plus, per process and key,
    `lease - 1` tokens leased before the period began. Those are spent within LEASE_SECONDS or
    dropped; tokens dropped, or held by one process while the client is served by another, make
    the limit stricter, never looser. With the default lease size (`lease_size`) this is at most
    50 ms of the rate and a quarter of the burst per process; slow limits lease one token, which
    is exact.
    """

    def __init__(
        self,
        engine: Engine,
        rate: float,
        burst: int,
        *,
        name: str = "requests",
        now: Clock = time.time,
        purge_every: float = PURGE_EVERY,
        lease: int | None = None,
        lease_seconds: float = LEASE_SECONDS,
    ) -> None:
        if rate <= 0 or burst < 1:
            raise ValueError(f"need rate > 0 and burst >= 1, got {rate} and {burst}")
        self.name, self.now, self.purge_every = name, now, purge_every
        self.interval = max(1, _micros(1 / rate))
        self.burst = burst
        self.lease = lease if lease is not None else lease_size(rate, burst)
        if not 1 <= self.lease <= burst:
            raise ValueError(f"need 1 <= lease <= burst, got {self.lease}")
        self.lease_seconds = lease_seconds
        self._held: dict[str, tuple[int, float]] = {}  # key -> (tokens left, usable until)
        self._rows = _Table(
            engine,
            "api_rate_limits",
            sa.Column("key", sa.Text, primary_key=True),
            sa.Column("tat", sa.BigInteger, nullable=False),
            # the last answer, for RETURNING: microseconds to wait (> 0), or minus the tokens taken
            sa.Column("wait", sa.BigInteger, nullable=False),
            sqlite_with_rowid=False,
        )
        t = self.table = self._rows.table
        now_, interval, want, first = (
            sa.bindparam(name, type_=sa.BigInteger) for name in ("now", "interval", "want", "first")
        )
        ceiling = sa.bindparam("ceiling", type_=sa.BigInteger)  # now + (burst - 1) intervals
        allowed = t.c.tat <= ceiling
        base = sa.case((t.c.tat > now_, t.c.tat), else_=now_)
        room = (
            ceiling - base
        ) / interval + 1  # tokens in the bucket (integer division), if allowed
        taken = sa.case((room < want, room), else_=want)
        self._take = (
            _INSERT[engine.dialect.name](t)
            .values(key=sa.bindparam("key"), tat=now_ + first * interval, wait=-first)
            .on_conflict_do_update(
                index_elements=[t.c.key],
                set_={
                    "tat": sa.case((allowed, base + taken * interval), else_=t.c.tat),
                    "wait": sa.case((allowed, -taken), else_=t.c.tat - ceiling),
                },
            )
            .returning(t.c.wait)
        )
        self._purge = sa.delete(t).where(t.c.tat < now_)
        self._next_purge = now() + purge_every

    def take(self, key: str) -> float:
        """0 if allowed (and a token is taken); otherwise the seconds to wait before retrying."""
        at = self.now()
        held = self._held.pop(key, None)
        if held is not None and held[1] > at:
            if held[0] > 1:
                self._held[key] = (held[0] - 1, held[1])
            return 0.0
        now = _micros(at)
        params = {
            "key": f"{self.name}:{key}",
            "now": now,
            "interval": self.interval,
            "ceiling": now + (self.burst - 1) * self.interval,
            "want": self.lease,
            "first": self.lease,  # a new key's bucket is full, and lease <= burst
        }
        with self._rows.begin() as conn:
            if at >= self._next_purge:
                self._next_purge = at + self.purge_every
                conn.execute(self._purge, {"now": now})
                self._held = {k: h for k, h in self._held.items() if h[1] > at}
            answer: int = conn.execute(self._take, params).scalar_one()
        if answer > 0:
            return answer / 1_000_000
        if -answer > 1:
            self._held[key] = (-answer - 1, at + self.lease_seconds)
        return 0.0


class LoginThrottle:
    """Failed logins, a row each, counted over a sliding `window` of seconds.

    At most `failures` per account (email) and per (address, account) pair, and `per_address` per
    client address alone: a much higher ceiling, so that one user's typos do not lock out everyone
    behind the same address (an office, a NAT), while spraying passwords over many accounts from
    one address is still stopped. A success clears its account and pair, never the address.
    """

    def __init__(
        self,
        engine: Engine,
        failures: int = 5,
        window: float = 900.0,
        per_address: int = 100,
        *,
        per_account: int | None = None,
        now: Clock = time.time,
        purge_every: float = PURGE_EVERY,
    ) -> None:
        self.window, self.now, self.purge_every = window, now, purge_every
        self.limits = {
            "account": per_account or failures,
            "pair": failures,
            "address": per_address,
        }
        if min(self.limits.values()) < 1:
            raise ValueError(f"every limit must be at least 1: {self.limits}")
        self._rows = _Table(
            engine,
            "api_login_failures",
            sa.Column("key", sa.Text, nullable=False),
            sa.Column("at", sa.Double, nullable=False),
            sa.Index("api_login_failures_key_at", "key", "at"),
        )
        t = self.table = self._rows.table
        cutoff = sa.bindparam("cutoff", type_=sa.Double)
        # per key, the limit-th most recent failure in the window: none, and the key may try
        self._nth_recent = sa.select(
            *(
                sa.select(t.c.at)
                .where(t.c.key == sa.bindparam(kind), t.c.at > cutoff)
                .order_by(t.c.at.desc())
                .limit(1)
                .offset(limit - 1)
                .scalar_subquery()
                .label(kind)
                for kind, limit in self.limits.items()
            )
        )
        self._record = sa.insert(t).values(
            [{"key": sa.bindparam(kind), "at": sa.bindparam("at")} for kind in self.limits]
        )
        self._clear = sa.delete(t).where(
            t.c.key.in_([sa.bindparam("account"), sa.bindparam("pair")])
        )
        self._purge = sa.delete(t).where(t.c.at <= cutoff)
        self._next_purge = now() + purge_every

    @staticmethod
    def _keys(email: str, address: str) -> dict[str, str]:
        # an address never holds "/", so the pair's key cannot be read two ways
        return {
            "account": f"account:{email}",
            "pair": f"pair:{address}/{email}",
            "address": f"address:{address}",
        }

    def retry_after(self, email: str, address: str) -> int:
        """0 if this email may try to log in from this address; else the seconds to wait."""
        now = self.now()
        with self._rows.begin() as conn:
            row = conn.execute(
                self._nth_recent, {**self._keys(email, address), "cutoff": now - self.window}
            ).one()
        waits = [math.ceil(at + self.window - now) for at in row if at is not None]
        return max((max(1, wait) for wait in waits), default=0)

    def failed(self, email: str, address: str) -> None:
        now = self.now()
        with self._rows.begin() as conn:
            if now >= self._next_purge:
                self._next_purge = now + self.purge_every
                conn.execute(self._purge, {"cutoff": now - self.window})
            conn.execute(self._record, {**self._keys(email, address), "at": now})

    def succeeded(self, email: str, address: str) -> None:
        with self._rows.begin() as conn:
            conn.execute(self._clear, self._keys(email, address))


class Limits:
    """The API's abuse limits as its request dependencies use them: per client address, per
    caller, and failed logins, all in one database shared by every worker and replica."""

    def __init__(self, settings: Any) -> None:
        self.engine = limits_engine(settings)
        self.per_token = RateLimiter(
            self.engine, settings.token_rate, settings.token_burst, name="token"
        )
        self.per_ip = RateLimiter(self.engine, settings.ip_rate, settings.ip_burst, name="ip")
        self.logins = LoginThrottle(
            self.engine,
            settings.login_failures,
            settings.login_window_seconds,
            settings.login_failures_per_address,
        )
        self._inline = self.engine.dialect.name == "sqlite"

    async def _take(self, limiter: RateLimiter, key: str) -> float:
        # SQLite answers in tens of microseconds: on the loop. PostgreSQL is a round trip.
        if self._inline:
            return limiter.take(key)
        return await asyncio.to_thread(limiter.take, key)

    async def take_ip(self, address: str) -> float:
        return await self._take(self.per_ip, address)

    async def take_token(self, actor: str) -> float:
        return await self._take(self.per_token, actor)

    def dispose(self) -> None:
        self.engine.dispose()
