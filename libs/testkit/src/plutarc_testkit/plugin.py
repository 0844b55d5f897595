"""pytest plugin: session fixtures that start the real Kafka and PostgreSQL for a test run.

Each server starts once per session on a free port, and only when a test asks for it; it is stopped
when the session ends. Their data lives in this session's scratch folder (see
:mod:`plutarc_testkit.scratch`), never below pytest's basetemp: every new pytest session on the
machine resets that to mode 0700, which locked the PostgreSQL server (run as the ``postgres`` user
when tests run as root) out of its own data. `PLUTARC_TEST_KAFKA_BOOTSTRAP=host:port` points the
suite at a broker that is already running instead.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from .postgres import PostgresServer, start_test_postgres
from .scratch import make_scratch_dir


@pytest.fixture(scope="session")
def server_scratch_dir() -> Iterator[Path]:
    """This session's folder for server data, outside pytest's basetemp; removed at the end."""
    with make_scratch_dir() as scratch:
        yield scratch.path


@pytest.fixture(scope="session")
def postgres_server(server_scratch_dir: Path) -> Iterator[PostgresServer]:
    server = start_test_postgres(server_scratch_dir / "postgres")
    try:
        yield server
    finally:
        server.stop()


@pytest.fixture(scope="session")
def kafka_bootstrap(server_scratch_dir: Path) -> Iterator[str]:
    from .kafka import start_test_broker

    bootstrap, stop = start_test_broker(server_scratch_dir / "kafka")
    try:
        yield bootstrap
    finally:
        stop()
