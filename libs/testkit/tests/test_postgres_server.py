"""The test kit's private PostgreSQL: lifecycle, isolated databases, eventsourcing on top of it.

Why: every service's event store uses ``eventsourcing.postgres``; if the kit's server cannot carry
an eventsourcing Application end to end, no service test can be trusted.
"""

from __future__ import annotations

import socket
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from uuid import UUID

import psycopg
import pytest
from eventsourcing.application import Application
from eventsourcing.domain import Aggregate, event
from plutarc_testkit.postgres import PostgresServer, find_pg_bin, start_test_postgres

pytestmark = pytest.mark.postgres


def wait_until(condition: Callable[[], bool], timeout: float, what: str) -> None:
    """Poll ``condition`` until it holds; fail with ``what`` once the deadline passes."""
    deadline = time.monotonic() + timeout
    while not condition():
        if time.monotonic() > deadline:
            pytest.fail(f"timed out after {timeout}s waiting for {what}")
        time.sleep(0.05)


def port_closed(host: str, port: int) -> bool:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.settimeout(1.0)
        return sock.connect_ex((host, port)) != 0


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[PostgresServer]:
    with start_test_postgres(tmp_path_factory.mktemp("pg")) as running:
        yield running


def test_finds_debian_server_binaries() -> None:
    bin_dir = find_pg_bin()
    assert bin_dir is not None
    assert bin_dir.parent.parent == Path("/usr/lib/postgresql")
    assert (bin_dir / "postgres").exists()


def test_lifecycle_connect_create_database_stop(tmp_path: Path) -> None:
    server = start_test_postgres(tmp_path)
    try:
        assert server.url == f"postgresql://plutarc:plutarc@127.0.0.1:{server.port}/plutarc_test"
        assert (server.host, server.user, server.password, server.dbname) == (
            "127.0.0.1",
            "plutarc",
            "plutarc",
            "plutarc_test",
        )
        with psycopg.connect(server.url, connect_timeout=10) as conn:
            row = conn.execute("SELECT current_user, current_database()").fetchone()
            assert row == ("plutarc", "plutarc_test")
            conn.execute("CREATE TABLE t (x int)")  # the role owns its database
            conn.execute("INSERT INTO t VALUES (1)")

        isolated = server.create_database("isolated_one")
        assert isolated.endswith(f":{server.port}/isolated_one")
        with psycopg.connect(isolated, connect_timeout=10) as conn:
            assert conn.execute("SELECT current_database()").fetchone() == ("isolated_one",)
            owner = conn.execute(
                "SELECT pg_get_userbyid(datdba) FROM pg_database WHERE datname = 'isolated_one'"
            ).fetchone()
            assert owner == ("plutarc",)
            assert conn.execute("SHOW fsync").fetchone() == ("off",)
            assert conn.execute("SHOW max_connections").fetchone() == ("200",)
            assert conn.execute("SHOW listen_addresses").fetchone() == ("127.0.0.1",)
    finally:
        server.stop()

    wait_until(lambda: port_closed(server.host, server.port), 10, "the port to close")
    assert not (server.data_dir / "postmaster.pid").exists()
    server.stop()  # idempotent
    with pytest.raises(psycopg.OperationalError):
        psycopg.connect(server.url, connect_timeout=2)


class Dog(Aggregate):
    @event("Registered")
    def __init__(self, name: str) -> None:
        self.name = name
        self.tricks: list[str] = []

    @event("TrickAdded")
    def add_trick(self, trick: str) -> None:
        self.tricks.append(trick)


class Kennel(Application[UUID]):
    def register(self, name: str, *tricks: str) -> UUID:
        dog = Dog(name)
        for trick in tricks:
            dog.add_trick(trick)
        self.save(dog)
        return dog.id

    def tricks(self, dog_id: UUID) -> list[str]:
        dog: Dog = self.repository.get(dog_id)
        return dog.tricks


def test_eventsourcing_postgres_roundtrip(server: PostgresServer) -> None:
    dbname = "eventsourcing_check"
    server.create_database(dbname)
    env = {
        "PERSISTENCE_MODULE": "eventsourcing.postgres",
        "POSTGRES_DBNAME": dbname,
        "POSTGRES_HOST": server.host,
        "POSTGRES_PORT": str(server.port),
        "POSTGRES_USER": server.user,
        "POSTGRES_PASSWORD": server.password,
    }
    writer = Kennel(env=env)
    try:
        dog_id = writer.register("Fido", "roll over", "play dead")
    finally:
        writer.close()

    reader = Kennel(env=env)  # a fresh application reads only what reached the database
    try:
        assert reader.tricks(dog_id) == ["roll over", "play dead"]
    finally:
        reader.close()

    with psycopg.connect(server.url_for(dbname), connect_timeout=10) as conn:
        row = conn.execute("SELECT count(*) FROM public.kennel_events").fetchone()
        assert row == (3,)
