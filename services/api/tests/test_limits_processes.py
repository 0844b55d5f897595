"""Two OS processes hammering one key on one database take exactly `burst` tokens between them."""

from __future__ import annotations

import subprocess
import sys

from plutarc_api.settings import ApiSettings

BURST, TAKES = 300, 600

# Each process gets ready (engine open, table created), waits for "go" on stdin so that both
# hammer at once, then prints how many of its takes were allowed.
HAMMER = f"""
import sys
from plutarc_api.limits import RateLimiter, limits_engine
from plutarc_api.settings import ApiSettings

settings = ApiSettings.model_validate_json(sys.argv[1])
limiter = RateLimiter(limits_engine(settings), rate=0.001, burst={BURST}, name="race")
print("ready", flush=True)
sys.stdin.readline()
print(sum(limiter.take("one key") == 0 for _ in range({TAKES})), flush=True)
"""


def test_two_processes_take_exactly_the_burst(limits_settings: ApiSettings) -> None:
    """At 0.001/s nothing refills during the test: every allowed take is one of the burst's."""
    settings = limits_settings.model_dump_json(include={"data_dir", "database_url"})
    procs = [
        subprocess.Popen(
            [sys.executable, "-c", HAMMER, settings],
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            text=True,
        )
        for _ in range(2)
    ]
    try:
        for proc in procs:
            assert proc.stdout is not None
            assert proc.stdout.readline() == "ready\n", "a hammer process failed to start"
        for proc in procs:
            assert proc.stdin is not None
            proc.stdin.write("go\n")
            proc.stdin.flush()
        outputs = [proc.communicate(timeout=120)[0] for proc in procs]
    finally:
        for proc in procs:
            if proc.poll() is None:
                proc.kill()
    assert [proc.returncode for proc in procs] == [0, 0]
    allowed = [int(out) for out in outputs]
    assert sum(allowed) == BURST, allowed
