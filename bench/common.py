"""What the benchmarks share: timing, machine facts, and the real servers they start."""

from __future__ import annotations

import contextlib
import datetime
import os
import platform
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from pathlib import Path
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from plutarc_testkit.postgres import PostgresServer

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "libs" / "runtime" / "tests"))


def machine() -> str:
    mem = ""
    with contextlib.suppress(OSError), open("/proc/meminfo") as f:
        mem = f"{int(f.readline().split()[1]) / 1024 / 1024:.1f} GiB memory"
    cpu = platform.processor() or platform.machine()
    with contextlib.suppress(OSError), open("/proc/cpuinfo") as f:
        for line in f:
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    return f"{os.cpu_count()} cores ({cpu}), {mem}, Python {platform.python_version()}"


def server_versions() -> str:
    """The Kafka the launcher runs (pinned in deploy/kafka/pom.xml) and the local PostgreSQL."""
    kafka = postgres = "unknown"
    with contextlib.suppress(Exception):
        from plutarc_localkafka.launcher import kafka_version

        kafka = kafka_version()
    with contextlib.suppress(Exception):
        from plutarc_testkit.postgres import find_pg_bin

        bin_dir = find_pg_bin()
        if bin_dir is None:
            postgres = "not installed"
        else:
            out = subprocess.run(
                [str(bin_dir / "postgres"), "--version"], capture_output=True, text=True, check=True
            ).stdout
            postgres = out.split(")", 1)[-1].strip() or out.strip()
    return f"Kafka {kafka}, PostgreSQL {postgres}"


def header() -> str:
    """Date, machine and server versions, and the load average: other work skews every number."""
    load = ", ".join(f"{x:.1f}" for x in os.getloadavg())
    today = datetime.date.today().isoformat()
    return f"{today}: {machine()}, {server_versions()}; load average {load} at start"


def rate(count: int, seconds: float) -> str:
    return f"{count / seconds:,.0f}/s"


def percentiles(samples_ms: list[float]) -> str:
    ordered = sorted(samples_ms)
    p = lambda q: ordered[min(len(ordered) - 1, int(q * len(ordered)))]  # noqa: E731
    return f"p50 {p(0.5):.2f} ms, p99 {p(0.99):.2f} ms, mean {statistics.fmean(ordered):.2f} ms (n={len(ordered)})"


@contextlib.contextmanager
def timer() -> Iterator[list[float]]:
    box: list[float] = []
    start = time.perf_counter()
    try:
        yield box
    finally:
        box.append(time.perf_counter() - start)


@contextlib.contextmanager
def workdir() -> Iterator[Path]:
    with tempfile.TemporaryDirectory(prefix="plutarc-bench-") as d:
        yield Path(d)


@contextlib.contextmanager
def postgres(base: Path) -> Iterator[PostgresServer]:
    from plutarc_testkit.postgres import start_test_postgres

    server = start_test_postgres(base)
    try:
        yield server
    finally:
        server.stop()


@contextlib.contextmanager
def kafka(base: Path) -> Iterator[str]:
    """A throwaway broker at full speed (C2 JIT): the test kit's C1-only flag would skew numbers."""
    from plutarc_localkafka import launcher
    from plutarc_testkit.kafka import free_ports

    cfg: launcher.KafkaConfig | None = None
    for attempt in range(3):
        port, controller_port = free_ports(2)
        cfg = launcher.KafkaConfig(
            port=port,
            controller_port=controller_port,
            data_dir=(base / "kafka").resolve(),
            jvm_opts=(),
        )
        try:
            launcher.start(cfg, timeout=90)
            break
        except BaseException as exc:
            launcher.stop(cfg)
            taken = isinstance(exc, launcher.KafkaError) and "is taken by another" in str(exc)
            if not taken or attempt == 2:
                raise
    assert cfg is not None
    try:
        yield cfg.bootstrap
    finally:
        launcher.stop(cfg)
