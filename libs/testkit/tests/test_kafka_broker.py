"""The test broker: its own scratch folder and free ports, and a retry when it loses a port race.

Why: a probed free port stays free only until someone binds it. With several sessions on the
machine (and Kafka clients taking ephemeral ports) another process can take it between the
launcher's check and the JVM's bind; the session must then pick new ports, not fail.
"""

from __future__ import annotations

import socket

import pytest
from plutarc_localkafka import launcher
from plutarc_testkit import kafka as testkit_kafka
from plutarc_testkit.kafka import start_test_broker

pytestmark = pytest.mark.kafka


def test_broker_picks_new_ports_when_the_jvm_loses_a_port_race(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.delenv("PLUTARC_TEST_KAFKA_BOOTSTRAP", raising=False)
    with socket.socket() as squatter:
        squatter.bind(("127.0.0.1", 0))
        squatter.listen()
        taken = squatter.getsockname()[1]
        real_free_ports = testkit_kafka.free_ports
        picks = iter([[taken, *real_free_ports(1)]])  # the first pick is lost to the squatter
        monkeypatch.setattr(
            testkit_kafka, "free_ports", lambda n: next(picks, None) or real_free_ports(n)
        )
        # As if the squatter bound the port after the launcher checked it: only the JVM sees it.
        monkeypatch.setattr(launcher, "_check_ports_free", lambda cfg: None)

        bootstrap, stop = start_test_broker()
        try:
            assert bootstrap != f"127.0.0.1:{taken}"
            assert launcher.probe(bootstrap)
        finally:
            stop()
        stop()  # idempotent

        assert not launcher.probe(bootstrap, timeout=1)
