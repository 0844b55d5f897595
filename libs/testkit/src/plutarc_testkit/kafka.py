"""Start a throwaway real Kafka broker for a test session.

Each call gets its own data dir and its own free ports, so parallel sessions (several checkouts, or
pytest-xdist workers) never share a broker or step on a developer's broker on 9092. Set
``PLUTARC_TEST_KAFKA_BOOTSTRAP`` to use an already running broker instead (e.g. the one from
docker-compose.kafka.yml in CI); then nothing is started or stopped.
"""

from __future__ import annotations

import atexit
import os
import socket
from collections.abc import Callable
from pathlib import Path

from plutarc_cli import kafka

# C1-only JIT: the broker starts ~25% faster, and tests never run long enough to miss C2.
TEST_JVM_OPTS = ("-XX:TieredStopAtLevel=1",)


def free_ports(count: int, host: str = "127.0.0.1") -> list[int]:
    """Distinct ports the kernel just called free; all sockets stay open until all are chosen."""
    socks = [socket.socket() for _ in range(count)]
    try:
        for sock in socks:
            sock.bind((host, 0))
        return [sock.getsockname()[1] for sock in socks]
    finally:
        for sock in socks:
            sock.close()


def start_test_broker(tmp_dir: Path, timeout: float = 90.0) -> tuple[str, Callable[[], None]]:
    """Start a broker whose data lives in ``tmp_dir``; return its bootstrap and an idempotent stop.

    The stop function is also registered with ``atexit``, so an interrupted session does not leave a
    JVM behind. Ports are retried because another process may grab a "free" port before the JVM does.
    """
    external = os.environ.get("PLUTARC_TEST_KAFKA_BOOTSTRAP")
    if external:
        return external, lambda: None
    last: kafka.KafkaError | None = None
    for _ in range(3):
        port, controller_port = free_ports(2)
        cfg = kafka.KafkaConfig(
            port=port,
            controller_port=controller_port,
            data_dir=Path(tmp_dir).resolve(),
            jvm_opts=TEST_JVM_OPTS,
        )
        try:
            kafka.start(cfg, timeout=timeout)
        except kafka.KafkaError as exc:
            kafka.stop(cfg)
            if "is taken by another process" not in str(exc):
                raise
            last = exc
            continue

        def stop(cfg: kafka.KafkaConfig = cfg) -> None:
            kafka.stop(cfg)

        atexit.register(stop)
        return cfg.bootstrap, stop
    assert last is not None
    raise last
