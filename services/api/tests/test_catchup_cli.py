"""`python -m plutarc_api.catchup` with bad orders on stdin: one clear line, exit 2, nothing done
(the writer that started it then catches up itself)."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest


@pytest.mark.parametrize(
    ("orders", "said"),
    [
        ("not json", "bad orders on stdin"),
        ('{"catch_up_in_child": -1}', "catch_up_in_child"),
        ('{"catch_up_processes": 0}', "catch_up_processes"),
        ('["a list"]', "bad orders on stdin"),
    ],
)
def test_bad_orders_are_one_line_and_exit_2(tmp_path: Path, orders: str, said: str) -> None:
    done = subprocess.run(
        [sys.executable, "-m", "plutarc_api.catchup"],
        input=orders,
        capture_output=True,
        text=True,
        timeout=60,
        cwd=tmp_path,
        env={"PATH": "/usr/bin:/bin", "PLUTARC_DATA_DIR": str(tmp_path / "data")},
    )
    assert done.returncode == 2, done.stderr
    assert said in done.stderr and "Traceback" not in done.stderr
    assert not (tmp_path / "data").exists()  # nothing opened, nothing made
