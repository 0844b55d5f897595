"""The abuse limits on a database, each test on SQLite and on PostgreSQL, with an injected clock."""

from __future__ import annotations

import stat
from pathlib import Path
from uuid import uuid4

import pytest
import sqlalchemy as sa
from plutarc_api.limits import (
    LEASE_MAX,
    LIMITS_FILE,
    LoginThrottle,
    RateLimiter,
    lease_size,
    limits_engine,
)
from plutarc_api.settings import ApiSettings
from plutarc_testkit.postgres import PostgresServer
from sqlalchemy.engine import Engine

from .conftest import Clock

ALICE, BOB, CAROL = "alice@x", "bob@x", "carol@x"
HOME, OFFICE, CAFE = "10.0.0.1", "10.0.0.2", "2001:db8::7"


def rows(engine: Engine, table: sa.Table) -> int:
    with engine.connect() as conn:
        return int(conn.execute(sa.select(sa.func.count()).select_from(table)).scalar_one())


# -- RateLimiter ------------------------------------------------------------------------------


def test_a_burst_then_one_request_per_interval(engine: Engine, clock: Clock) -> None:
    limiter = RateLimiter(engine, rate=2.0, burst=3, now=clock)
    assert [limiter.take("k") for _ in range(5)] == [0, 0, 0, 0.5, 0.5]
    clock.advance(0.25)
    assert limiter.take("k") == 0.25
    clock.advance(0.25)
    assert limiter.take("k") == 0
    assert limiter.take("k") == 0.5
    clock.advance(10)  # idle: the bucket refills up to the burst, never beyond
    assert [limiter.take("k") for _ in range(4)] == [0, 0, 0, 0.5]


def test_keys_and_limiters_are_apart(engine: Engine, clock: Clock) -> None:
    per_token = RateLimiter(engine, rate=1.0, burst=1, name="token", now=clock)
    per_ip = RateLimiter(engine, rate=1.0, burst=1, name="ip", now=clock)
    assert [per_token.take("a"), per_token.take("b"), per_ip.take("a")] == [0, 0, 0]
    assert [per_token.take("a"), per_ip.take("a")] == [1.0, 1.0]


def test_two_limiters_on_one_database_share_the_bucket(engine: Engine, clock: Clock) -> None:
    """What two workers see: each has its own limiter, both take from one bucket."""
    first, second = (RateLimiter(engine, rate=1.0, burst=4, now=clock) for _ in range(2))
    taken = [first.take("k"), second.take("k"), first.take("k"), second.take("k")]
    assert taken == [0, 0, 0, 0]
    assert first.take("k") > 0 and second.take("k") > 0


def test_a_lease_takes_several_tokens_in_one_write(engine: Engine, clock: Clock) -> None:
    limiter = RateLimiter(engine, rate=1.0, burst=10, lease=4, now=clock)
    assert limiter.take("k") == 0
    with engine.connect() as conn:
        tat = conn.execute(sa.select(limiter.table.c.tat)).scalar_one()
    assert tat == round(clock() * 1e6) + 4 * limiter.interval  # four tokens taken at once
    assert [limiter.take("k") for _ in range(3)] == [0, 0, 0]  # spent from memory
    with engine.connect() as conn:
        assert conn.execute(sa.select(limiter.table.c.tat)).scalar_one() == tat


def test_leasing_processes_allow_exactly_the_burst_between_them(
    engine: Engine, clock: Clock
) -> None:
    """Two workers, one client alternating between them: the bucket's last lease is partial."""
    first, second = (RateLimiter(engine, rate=0.001, burst=10, lease=4, now=clock) for _ in "ab")
    answers = [(first, second)[i % 2].take("k") for i in range(30)]
    assert answers.count(0) == 10
    assert all(wait > 0 for wait in answers[12:])


def test_tokens_held_past_the_lease_are_dropped(engine: Engine, clock: Clock) -> None:
    limiter = RateLimiter(engine, rate=0.001, burst=4, lease=4, lease_seconds=1, now=clock)
    assert limiter.take("k") == 0  # the whole bucket leased, three tokens held
    clock.advance(1)
    assert limiter.take("k") > 0  # the three are gone: stricter, never looser


def test_the_overshoot_is_at_most_a_lease_less_one(engine: Engine, clock: Clock) -> None:
    """Tokens held from before the bucket refilled come on top of a full burst: at most
    lease - 1 of them, per process and key."""
    limiter = RateLimiter(engine, rate=10.0, burst=4, lease=3, lease_seconds=1, now=clock)
    assert limiter.take("k") == 0  # three leased, two held
    clock.advance(0.9)  # the bucket is full again, the two are still held
    allowed = 0
    while limiter.take("k") == 0:
        allowed += 1
    assert allowed == limiter.burst + limiter.lease - 1


def test_the_default_lease_is_one_token_for_slow_limits() -> None:
    assert lease_size(rate=0.001, burst=30) == 1
    assert lease_size(rate=2.0, burst=3) == 1
    assert lease_size(rate=100.0, burst=200) == 5  # 50 ms of the rate
    assert lease_size(rate=1e9, burst=10**9) == LEASE_MAX
    assert lease_size(rate=1e9, burst=8) == 2  # a quarter of the burst


def test_purge_keeps_the_table_bounded(engine: Engine, clock: Clock) -> None:
    fast = RateLimiter(engine, rate=10.0, burst=2, name="fast", now=clock, purge_every=60)
    slow = RateLimiter(engine, rate=0.001, burst=1, name="slow", now=clock, purge_every=3600)
    slow.take("still limited")  # its TAT is 1000 s ahead: purging it would hand out a token
    for minute in range(4):
        for i in range(200):
            fast.take(f"{minute}-{i}")
        assert rows(engine, fast.table) <= 202  # the minute's keys, "idle" and "still limited"
        clock.advance(30)
        fast.take("idle")  # no purge yet: once a minute at most
        assert rows(engine, fast.table) >= 201
        clock.advance(31)
        fast.take("idle")  # purges the minute's keys, whose TATs are all in the past now
        assert rows(engine, fast.table) == 2
    assert slow.take("still limited") > 0


def test_a_sqlite_limits_file_is_made_on_first_use_for_its_owner_only(tmp_path: Path) -> None:
    settings = ApiSettings(data_dir=tmp_path / "api", database_url=None)
    engine = limits_engine(settings)
    try:
        limiter, logins = RateLimiter(engine, rate=1.0, burst=1), LoginThrottle(engine)
        assert not settings.data_dir.exists()  # building the runtime touches nothing
        limiter.take("k")
        logins.failed(ALICE, HOME)
        files = sorted(p.name for p in settings.data_dir.iterdir())
        assert files == [LIMITS_FILE, f"{LIMITS_FILE}-shm", f"{LIMITS_FILE}-wal"]
        for name in files:
            assert stat.S_IMODE((settings.data_dir / name).stat().st_mode) == 0o600, name
    finally:
        engine.dispose()


@pytest.mark.postgres
def test_on_postgres_the_tables_are_unlogged(postgres_server: PostgresServer) -> None:
    url = postgres_server.create_database(f"limits_{uuid4().hex[:12]}")
    engine = limits_engine(ApiSettings(database_url=url))
    try:
        RateLimiter(engine, rate=1.0, burst=1).take("k")
        LoginThrottle(engine).retry_after(ALICE, HOME)
        with engine.connect() as conn:
            found = conn.execute(
                sa.text(
                    "SELECT relname, relpersistence FROM pg_class "
                    "WHERE relname IN ('api_rate_limits', 'api_login_failures')"
                )
            )
            persistence = {name: kind for name, kind in found}
        assert persistence == {"api_rate_limits": "u", "api_login_failures": "u"}
    finally:
        engine.dispose()


# -- LoginThrottle ----------------------------------------------------------------------------


def test_failures_are_limited_per_account_from_any_address(engine: Engine, clock: Clock) -> None:
    logins = LoginThrottle(engine, failures=3, per_address=100, now=clock)
    for address in (HOME, OFFICE, CAFE):
        assert logins.retry_after(ALICE, address) == 0
        logins.failed(ALICE, address)
    assert logins.retry_after(ALICE, "10.9.9.9") > 0
    assert logins.retry_after(BOB, HOME) == 0


def test_failures_are_limited_per_address_and_account(engine: Engine, clock: Clock) -> None:
    logins = LoginThrottle(engine, failures=2, per_account=10, per_address=100, now=clock)
    logins.failed(ALICE, HOME)
    logins.failed(ALICE, HOME)
    assert logins.retry_after(ALICE, HOME) > 0
    assert logins.retry_after(ALICE, OFFICE) == 0  # the account allows 10
    assert logins.retry_after(BOB, HOME) == 0


def test_failures_are_limited_per_address_with_a_higher_ceiling(
    engine: Engine, clock: Clock
) -> None:
    logins = LoginThrottle(engine, failures=5, per_address=3, now=clock)
    for email in (ALICE, BOB, CAROL):
        logins.failed(email, CAFE)
    assert logins.retry_after("dave@x", CAFE) > 0
    assert logins.retry_after("dave@x", HOME) == 0


def test_one_account_failing_does_not_lock_out_its_address(engine: Engine, clock: Clock) -> None:
    """Five wrong passwords for alice from one address: bob there may go on, alice nowhere."""
    logins = LoginThrottle(
        engine, now=clock
    )  # the defaults: 5 per account and pair, 100 per address
    for _ in range(5):
        assert logins.retry_after(ALICE, HOME) == 0
        logins.failed(ALICE, HOME)
    assert logins.retry_after(ALICE, HOME) > 0
    assert logins.retry_after(BOB, HOME) == 0
    assert logins.retry_after(ALICE, OFFICE) > 0


def test_the_window_slides(engine: Engine, clock: Clock) -> None:
    logins = LoginThrottle(engine, failures=3, window=900, now=clock)
    for _ in range(3):
        logins.failed(ALICE, HOME)
        clock.advance(10)
    assert logins.retry_after(ALICE, HOME) == 870  # the oldest failure, 30 s ago, ages out then
    clock.advance(869.5)
    assert logins.retry_after(ALICE, HOME) == 1
    clock.advance(0.5)
    assert logins.retry_after(ALICE, HOME) == 0
    logins.failed(ALICE, HOME)  # three in the window again: the second failure is now the oldest
    assert logins.retry_after(ALICE, HOME) == 10


def test_success_clears_the_account_and_pair_not_the_address(engine: Engine, clock: Clock) -> None:
    logins = LoginThrottle(engine, failures=3, per_address=4, now=clock)
    for _ in range(3):
        logins.failed(ALICE, HOME)
    logins.failed(ALICE, OFFICE)
    logins.succeeded(ALICE, HOME)
    assert logins.retry_after(ALICE, HOME) == 0
    assert logins.retry_after(ALICE, OFFICE) == 0
    logins.failed(BOB, HOME)  # HOME's fourth failure: the three of alice's still count for it
    assert logins.retry_after(CAROL, HOME) > 0


def test_old_failures_are_purged(engine: Engine, clock: Clock) -> None:
    logins = LoginThrottle(engine, failures=5, window=900, now=clock, purge_every=60)
    for i in range(100):
        logins.failed(f"user{i}@x", HOME)
    assert rows(engine, logins.table) == 300  # a row per account, pair and address
    clock.advance(600)
    logins.failed(ALICE, OFFICE)  # purges, but the 100 failures are still in the window
    assert rows(engine, logins.table) == 303
    clock.advance(301)
    logins.failed(ALICE, OFFICE)
    assert rows(engine, logins.table) == 6
    assert logins.retry_after(ALICE, OFFICE) == 0
