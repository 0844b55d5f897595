"""pytest plugin: session fixtures that start the real Kafka and PostgreSQL for a test run.

Each server starts once per session on a free port in a temporary folder, and only when a test asks
for it; it is stopped when the session ends. `PLUTARC_TEST_KAFKA_BOOTSTRAP=host:port` points the
suite at a broker that is already running instead.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from .postgres import PostgresServer, start_test_postgres


@pytest.fixture(scope="session")
def postgres_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[PostgresServer]:
    server = start_test_postgres(Path(tmp_path_factory.mktemp("postgres")))
    try:
        yield server
    finally:
        server.stop()


@pytest.fixture(scope="session")
def kafka_bootstrap(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    from .kafka import start_test_broker

    bootstrap, stop = start_test_broker(Path(tmp_path_factory.mktemp("kafka")))
    try:
        yield bootstrap
    finally:
        stop()
