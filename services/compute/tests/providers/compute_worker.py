"""The compute service's intent worker in a process of its own, for a test to `kill -9`.

    python compute_worker.py DATA_DIR PULUMI_BIN_DIR

It builds the service's spec from its bootstrap with the local provider (the real Pulumi engine,
tests/providers/host_script.py as the host), opens the service's own store under DATA_DIR and
runs the runtime's intent worker with the spec's adapters and outcome handlers until SIGTERM.
The host script reads its HOST_* variables from this process's environment.
"""

from __future__ import annotations

import asyncio
import signal
import sys
from datetime import UTC, datetime
from pathlib import Path

from plutarc_access import Memberships, RegoEngine
from plutarc_compute.bootstrap import build
from plutarc_compute.providers.local import LocalProvider
from plutarc_compute.providers.stacks import PulumiSettings
from plutarc_compute.settings import ComputeSettings
from plutarc_runtime.clock import FakeClock
from plutarc_testkit.harness import Harness

HOST_SCRIPT = Path(__file__).with_name("host_script.py")


def compute_service(
    data_dir: Path, bin_dir: Path, memberships: Memberships | None = None
) -> tuple[Harness, LocalProvider]:
    """The service on its store (`<data_dir>/compute.sqlite`) and its local provider."""
    settings = ComputeSettings(data_dir=data_dir, compute_provider="local")
    provider = LocalProvider(
        PulumiSettings(
            data_dir=data_dir, passphrase="test", bin_dir=bin_dir, lock_budget_seconds=30
        ),
        command=[sys.executable, str(HOST_SCRIPT)],
        ready_timeout=30,
        stop_grace=2,
    )
    spec = build(settings, provider=provider, memberships=memberships or Memberships(RegoEngine()))
    service = Harness(
        spec, sqlite_path=settings.sqlite_path(spec.name), clock=FakeClock(datetime.now(UTC))
    )
    return service, provider


async def main(data_dir: Path, bin_dir: Path) -> None:
    service, provider = compute_service(data_dir, bin_dir)
    stop = asyncio.Event()
    asyncio.get_running_loop().add_signal_handler(signal.SIGTERM, stop.set)
    try:
        await service.worker().run(stop)
    finally:
        provider.stacks.close()
        service.close()


if __name__ == "__main__":
    asyncio.run(main(Path(sys.argv[1]), Path(sys.argv[2])))
