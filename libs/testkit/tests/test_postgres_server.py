"""The test kit's private PostgreSQL: lifecycle, isolated databases, eventsourcing on top of it.

Why: every service's event store uses ``eventsourcing.postgres``; if the kit's server cannot carry
an eventsourcing Application end to end, no service test can be trusted.
"""

from __future__ import annotations

import os
import socket
from collections.abc import Iterator
from pathlib import Path
from uuid import UUID

import psycopg
import pytest
from eventsourcing.application import Application
from eventsourcing.domain import Aggregate, event
from plutarc_testkit.postgres import (
    PostgresError,
    PostgresServer,
    find_pg_bin,
    start_test_postgres,
)
from plutarc_testkit.scratch import scratch_root
from plutarc_testkit.waiting import wait_until

pytestmark = pytest.mark.postgres


def port_closed(host: str, port: int) -> bool:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.settimeout(1.0)
        return sock.connect_ex((host, port)) != 0


@pytest.fixture(scope="module")
def server() -> Iterator[PostgresServer]:
    with start_test_postgres() as running:
        yield running


def test_finds_debian_server_binaries() -> None:
    bin_dir = find_pg_bin()
    assert bin_dir is not None
    assert bin_dir.parent.parent == Path("/usr/lib/postgresql")
    assert (bin_dir / "postgres").exists()


def test_lifecycle_connect_create_database_stop() -> None:
    server = start_test_postgres()
    assert server.scratch is not None
    assert server.scratch.path.parent == scratch_root()
    assert server.cluster_dir.is_relative_to(server.scratch.path)
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

    wait_until(lambda: port_closed(server.host, server.port), 10, what="the port to close")
    assert not server.scratch.path.exists()  # its data went with it
    server.stop()  # idempotent
    with pytest.raises(psycopg.OperationalError):
        psycopg.connect(server.url, connect_timeout=2)


@pytest.mark.skipif(os.geteuid() != 0, reason="only root runs the server as another user")
def test_refuses_a_cluster_below_pytest_basetemp(tmp_path: Path) -> None:
    with pytest.raises(PostgresError, match="below pytest's basetemp"):
        start_test_postgres(tmp_path)


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
