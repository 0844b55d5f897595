"""A second pytest session on the machine leaves this session's servers alone.

Why: every pytest session resets ``/tmp/pytest-of-<user>`` to mode 0700 when it starts. The test
PostgreSQL (run as the ``postgres`` user when tests run as root) used to keep its data below it, so
another checkout's ``make test`` or a helper's pytest locked this session's cluster out of its own
data dir: it kept serving open connections, but ``pg_ctl`` could no longer reach it and the
session's teardown failed with "Permission denied".
"""

from __future__ import annotations

import socket
import subprocess
import sys
from pathlib import Path

import psycopg
import pytest
from plutarc_testkit.postgres import PostgresServer, start_test_postgres
from plutarc_testkit.waiting import wait_until

pytestmark = pytest.mark.postgres

TINY_TEST = "def test_uses_tmp_path(tmp_path):\n    (tmp_path / 'f').write_text('x')\n"


def run_another_session(folder: Path) -> None:
    """A whole second pytest session, isolated from our config, on a test that uses tmp_path."""
    (folder / "pytest.ini").write_text("[pytest]\n")
    (folder / "test_tiny.py").write_text(TINY_TEST)
    cmd = [sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", "test_tiny.py"]
    result = subprocess.run(cmd, cwd=folder, capture_output=True, text=True, timeout=120)
    assert result.returncode == 0, result.stdout + result.stderr
    assert "1 passed" in result.stdout


def port_closed(host: str, port: int) -> bool:
    with socket.socket() as sock:
        sock.settimeout(1.0)
        return sock.connect_ex((host, port)) != 0


def test_session_postgres_still_reachable_after_another_session_starts(
    postgres_server: PostgresServer, tmp_path: Path
) -> None:
    assert postgres_server.running()

    run_another_session(tmp_path)

    assert postgres_server.running(), postgres_server.log_tail()
    with psycopg.connect(postgres_server.url, connect_timeout=10) as conn:
        assert conn.execute("SELECT 1").fetchone() == (1,)


def test_cluster_in_session_scratch_can_be_stopped_after_another_session_starts(
    server_scratch_dir: Path, tmp_path: Path
) -> None:
    server = start_test_postgres(server_scratch_dir / "stoppable")
    try:
        run_another_session(tmp_path)
    finally:
        server.stop()  # raised PostgresError (pg_ctl: Permission denied) on the old layout

    wait_until(lambda: port_closed(server.host, server.port), 10, what="the port to close")
    assert not server.running()
