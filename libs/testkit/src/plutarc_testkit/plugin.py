"""pytest plugin: session fixtures that start the real Kafka and PostgreSQL for a test run.

Each server starts once per session on a free port, and only when a test asks for it; it is stopped
when the session ends. Their data lives in this session's scratch folder (see
:mod:`plutarc_testkit.scratch`), never below pytest's basetemp: every new pytest session on the
machine resets that to mode 0700, which locked the PostgreSQL server (run as the ``postgres`` user
when tests run as root) out of its own data. `PLUTARC_TEST_KAFKA_BOOTSTRAP=host:port` points the
suite at a broker that is already running instead.

It also bounds the process's exit: once the run is over (`pytest_unconfigure`), the process has
`plutarc_exit_grace` seconds (ini option, 120 by default, 0 for none) to end; a non-daemon thread
still blocked, or an exit handler waiting on one, then gets every thread's stack written to
stderr and the process ends with status 1. pytest-timeout bounds each test; nothing bounded what
comes after the last one, and a hang there would hold CI until its limit without a word.
"""

from __future__ import annotations

import faulthandler
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

from .postgres import PostgresServer, start_test_postgres
from .scratch import make_scratch_dir

EXIT_GRACE = "plutarc_exit_grace"


def pytest_addoption(parser: pytest.Parser) -> None:
    parser.addini(
        EXIT_GRACE,
        "Seconds the process may take to exit once the run is over; then every thread's stack "
        "is dumped and it exits with status 1 (0: wait forever)",
        default="120",
    )


@pytest.hookimpl(trylast=True)
def pytest_unconfigure(config: pytest.Config) -> None:
    grace = float(config.getini(EXIT_GRACE))
    if grace > 0 and not hasattr(config, "workerinput"):  # not in an xdist worker
        faulthandler.dump_traceback_later(grace, exit=True, file=sys.__stderr__ or 2)


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
