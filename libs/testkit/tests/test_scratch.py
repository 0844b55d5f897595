"""Scratch folders: outside pytest's basetemp, removed by their owner, swept after a crash.

Why: the test servers run detached, so a session killed with SIGKILL (or by the OOM killer) used to
leave a running PostgreSQL and its data behind for good; the next session that makes a scratch
folder stops such leftovers and removes their folders, and never touches a live session's folder.
"""

from __future__ import annotations

import os
import signal
import socket
import stat
import subprocess
import sys
from pathlib import Path

import psycopg
import pytest
from plutarc_testkit.scratch import LOCK_NAME, make_scratch_dir, scratch_root, sweep_abandoned
from plutarc_testkit.waiting import wait_until

ORPHAN = """\
import sys
from plutarc_testkit.postgres import start_test_postgres
from plutarc_testkit.scratch import make_scratch_dir

scratch = make_scratch_dir("orphan")
server = start_test_postgres(scratch.path / "postgres")
print(scratch.path, server.url, server.port, flush=True)
sys.stdin.read()  # hold the folder until killed
"""


def test_folder_is_private_outside_basetemp_and_removed_on_close() -> None:
    scratch = make_scratch_dir("unit")
    path = scratch.path

    assert path.parent == scratch_root()
    assert not any(part.startswith("pytest-of-") for part in path.parts)
    assert stat.S_IMODE(path.stat().st_mode) == 0o711
    assert (path / LOCK_NAME).read_text() == f"{os.getpid()}\n"
    assert path not in sweep_abandoned()  # we are alive

    scratch.close()
    scratch.close()  # idempotent
    assert not path.exists()


def port_closed(port: int) -> bool:
    with socket.socket() as sock:
        sock.settimeout(1.0)
        return sock.connect_ex(("127.0.0.1", port)) != 0


@pytest.mark.postgres
def test_killed_owners_server_is_stopped_and_folder_removed_live_ones_kept() -> None:
    owner = subprocess.Popen(
        [sys.executable, "-c", ORPHAN],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        text=True,
    )
    try:
        assert owner.stdout is not None
        line = owner.stdout.readline().split()
        assert len(line) == 3, f"the owner died before reporting (exit {owner.wait(30)})"
        path, url, port = Path(line[0]), line[1], int(line[2])

        assert path not in sweep_abandoned()  # owner alive: untouched
        assert path.is_dir()
    finally:
        owner.send_signal(signal.SIGKILL)  # no atexit, no teardown
        owner.wait(timeout=30)
    with psycopg.connect(url, connect_timeout=10) as conn:  # left running, detached
        assert conn.execute("SELECT 1").fetchone() == (1,)

    assert path in sweep_abandoned()

    assert not path.exists()
    wait_until(lambda: port_closed(port), 15, what="the orphaned PostgreSQL to stop")
