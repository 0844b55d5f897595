"""A test run whose process cannot exit (a non-daemon thread left blocked) ends anyway, with every
thread's stack on stderr and status 1, once `plutarc_exit_grace` has passed; a run that exits
cleanly is not touched."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

HANGS = """
import threading

def test_leaves_a_thread_blocked():
    threading.Thread(target=threading.Event().wait, name="stuck-forever").start()
"""
CLEAN = """
def test_nothing_left():
    assert True
"""


def run(tmp_path: Path, body: str) -> subprocess.CompletedProcess[str]:
    (tmp_path / "test_it.py").write_text(body)
    (tmp_path / "pytest.ini").write_text("[pytest]\nplutarc_exit_grace = 2\n")
    return subprocess.run(
        [sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", "test_it.py"],
        cwd=tmp_path,
        capture_output=True,
        text=True,
        timeout=120,  # without the watchdog the child would never end: this fails the test
    )


def test_a_run_stuck_at_exit_ends_with_every_stack(tmp_path: Path) -> None:
    done = run(tmp_path, HANGS)
    assert "1 passed" in done.stdout, done.stdout
    assert done.returncode == 1, (done.returncode, done.stderr[-2000:])
    assert "Timeout" in done.stderr and "threading.py" in done.stderr, done.stderr[-2000:]


def test_a_clean_run_exits_with_its_own_status(tmp_path: Path) -> None:
    done = run(tmp_path, CLEAN)
    assert done.returncode == 0, (done.stdout, done.stderr)
    assert "Timeout" not in done.stderr
