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

from plutarc_localkafka import launcher as kafka

from .scratch import make_scratch_dir

# C1-only JIT: the broker starts ~25% faster, and tests never run long enough to miss C2.
TEST_JVM_OPTS = ("-XX:TieredStopAtLevel=1",)
_PORT_ATTEMPTS = 3
# A "free" port taken by someone else between our check and the JVM's bind, seen before or after.
_PORT_RACE = ("is taken by another process", "Address already in use")


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


def start_test_broker(
    data_dir: Path | None = None, timeout: float = 90.0
) -> tuple[str, Callable[[], None]]:
    """Start a broker whose data lives in ``data_dir``; return its bootstrap and an idempotent stop.

    Without ``data_dir`` the broker gets a scratch folder of its own, removed when it stops. The
    stop function is also registered with ``atexit``, so an interrupted session does not leave a
    JVM behind. Ports are retried because another process may grab a "free" port before the JVM
    does.
    """
    external = os.environ.get("PLUTARC_TEST_KAFKA_BOOTSTRAP")
    if external:
        return external, lambda: None
    scratch = None
    if data_dir is None:
        scratch = make_scratch_dir("kafka")
        data_dir = scratch.path / "kafka"
    data_dir = Path(data_dir).resolve()
    for attempt in range(_PORT_ATTEMPTS):
        port, controller_port = free_ports(2)
        cfg = kafka.KafkaConfig(
            port=port, controller_port=controller_port, data_dir=data_dir, jvm_opts=TEST_JVM_OPTS
        )
        try:
            kafka.start(cfg, timeout=timeout)
            break
        except BaseException as exc:
            kafka.stop(cfg)
            race = isinstance(exc, kafka.KafkaError) and any(s in str(exc) for s in _PORT_RACE)
            if not race or attempt == _PORT_ATTEMPTS - 1:
                if scratch is not None:
                    scratch.close()
                raise

    stopped = False

    def stop() -> None:
        nonlocal stopped
        if stopped:
            return
        stopped = True
        atexit.unregister(stop)
        kafka.stop(cfg)
        if scratch is not None:
            scratch.close()

    atexit.register(stop)
    return cfg.bootstrap, stop
