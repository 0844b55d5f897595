"""The worker supervisor (PLUTARC_WORKERS > 1), run as its own process with light workers that
answer each connection with their pid: the kernel spreads connections over the workers' own
sockets, a worker that dies is replaced, one that dies at start stops everything with status 3,
SIGTERM stops the workers, and the supervisor imports nothing of the app."""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest
from plutarc_testkit.waiting import wait_until

# A worker as the supervisor starts one (argv: PORT FD): its own SO_REUSEPORT socket, `ready` on
# the channel, then each connection is answered with its pid. With FIRST_ONLY set, only the first
# worker to create that file serves; any other exits at once, before it is ready.
FAKE_WORKER = """
import os, socket, sys
from plutarc_api.workers import READY, listener

port, fd = int(sys.argv[1]), int(sys.argv[2])
first_only = os.environ.get("FIRST_ONLY")
if first_only:
    try:
        os.close(os.open(first_only, os.O_CREAT | os.O_EXCL | os.O_WRONLY))
    except FileExistsError:
        sys.exit(1)
    open(first_only, "w").write(str(os.getpid()))
sock = listener("127.0.0.1", port)
sock.listen()
socket.socket(fileno=fd).sendall(READY)
while True:
    conn, _ = sock.accept()
    conn.sendall(str(os.getpid()).encode())
    conn.close()
"""

SUPERVISOR = """
import sys
from plutarc_api.settings import ApiSettings
from plutarc_api.workers import Supervisor

settings = ApiSettings(http_port=int(sys.argv[1]), workers=int(sys.argv[2]))
sys.exit(Supervisor(settings, grace=10, command=[sys.executable, sys.argv[3]]).run())
"""


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def pid_at(port: int) -> int | None:
    """The pid of the worker that answers a new connection, or None when none does."""
    try:
        with socket.create_connection(("127.0.0.1", port), timeout=5) as conn:
            return int(conn.recv(32) or b"0") or None
    except OSError:
        return None


def alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    return True


class Supervised:
    def __init__(self, tmp_path: Path, workers: int = 2, **env: str) -> None:
        self.port = free_port()
        fake = tmp_path / "fake_worker.py"
        fake.write_text(FAKE_WORKER)
        self.proc = subprocess.Popen(
            [sys.executable, "-c", SUPERVISOR, str(self.port), str(workers), str(fake)],
            env={**os.environ, **env},
            start_new_session=True,
        )

    def pids(self, count: int, timeout: float = 30) -> set[int]:
        """The pids of `count` distinct workers, found by connecting until each has answered."""
        seen: set[int] = set()

        def enough() -> bool:
            pid = pid_at(self.port)
            if pid is not None:
                seen.add(pid)
            return len(seen) >= count

        wait_until(enough, timeout=timeout, interval=0.01, what=f"{count} workers answering")
        return seen

    def stop(self) -> None:
        if self.proc.poll() is None:
            os.killpg(self.proc.pid, signal.SIGKILL)
            self.proc.wait(10)


@pytest.fixture
def supervised(tmp_path: Path) -> Iterator[Supervised]:
    running = Supervised(tmp_path)
    try:
        yield running
    finally:
        running.stop()


def test_connections_are_spread_over_every_worker(supervised: Supervised) -> None:
    assert len(supervised.pids(2)) == 2


def test_sigterm_stops_the_workers_and_the_supervisor_exits_0(supervised: Supervised) -> None:
    workers = supervised.pids(2)
    supervised.proc.send_signal(signal.SIGTERM)
    assert supervised.proc.wait(30) == 0
    assert not any(alive(pid) for pid in workers)
    assert pid_at(supervised.port) is None


def test_sigint_stops_them_too(supervised: Supervised) -> None:
    workers = supervised.pids(2)
    supervised.proc.send_signal(signal.SIGINT)
    assert supervised.proc.wait(30) == 0
    assert not any(alive(pid) for pid in workers)


def test_a_worker_that_dies_is_replaced(supervised: Supervised) -> None:
    first = supervised.pids(2)
    victim = min(first)
    os.kill(victim, signal.SIGKILL)
    wait_until(lambda: not alive(victim), what="the killed worker gone")
    now = supervised.pids(2)
    assert victim not in now and len(now - first) == 1
    assert supervised.proc.poll() is None


def test_a_worker_that_dies_at_start_stops_everything_with_status_3(tmp_path: Path) -> None:
    marker = tmp_path / "first"
    running = Supervised(tmp_path, workers=3, FIRST_ONLY=str(marker))
    try:
        assert running.proc.wait(30) == 3
        wait_until(lambda: marker.exists() and marker.read_text(), what="the first worker's pid")
        assert not alive(int(marker.read_text()))
    finally:
        running.stop()


def test_a_port_in_use_is_a_failed_start(tmp_path: Path) -> None:
    fake = tmp_path / "fake_worker.py"
    fake.write_text(FAKE_WORKER)
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = str(taken.getsockname()[1])
        proc = subprocess.run(
            [sys.executable, "-c", SUPERVISOR, port, "2", str(fake)], timeout=60, check=False
        )
    assert proc.returncode == 3


def test_the_supervisor_imports_nothing_of_the_app() -> None:
    """What the supervisor process loads (its memory): settings and this module, not the app."""
    heavy = ["fastapi", "sqlalchemy", "aiokafka", "plutarc_api.app", "plutarc_api.runtime"]
    code = (
        "import sys, plutarc_api.main, plutarc_api.workers\n"
        f"print([m for m in {heavy!r} if m in sys.modules])"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "[]"
