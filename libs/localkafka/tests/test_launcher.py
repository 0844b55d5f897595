"""The launcher against a real JVM broker: idempotent start/stop, durable data, clear failures.

Each test owns its data dir and ports, so these brokers never touch the session broker or a
developer's broker on 9092.
"""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
from aiokafka import AIOKafkaConsumer, AIOKafkaProducer
from aiokafka.admin import AIOKafkaAdminClient, NewTopic
from plutarc_localkafka import launcher as kafka
from plutarc_testkit.kafka import TEST_JVM_OPTS, free_ports

pytestmark = pytest.mark.kafka


def wait_until(condition: Callable[[], bool], timeout: float, what: str) -> None:
    deadline = time.monotonic() + timeout
    while not condition():
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out after {timeout}s waiting for {what}")
        time.sleep(0.1)


def make_config(data_dir: Path) -> kafka.KafkaConfig:
    port, controller_port = free_ports(2)
    return kafka.KafkaConfig(
        port=port, controller_port=controller_port, data_dir=data_dir, jvm_opts=TEST_JVM_OPTS
    )


@pytest.fixture
def cfg(tmp_path: Path) -> Iterator[kafka.KafkaConfig]:
    config = make_config(tmp_path / "kafka")
    try:
        yield config
    finally:
        kafka.stop(config)


def test_start_is_idempotent_and_status_reports_it(cfg: kafka.KafkaConfig) -> None:
    first = kafka.start(cfg)
    second = kafka.start(cfg)

    assert first.running and second.running
    assert first.pid is not None and second.pid == first.pid
    status = kafka.status(cfg)
    assert status.running and status.pid == first.pid
    assert status.bootstrap == f"127.0.0.1:{cfg.port}"
    assert status.version == kafka.kafka_version()
    assert status.data_dir == cfg.data_dir
    assert kafka.probe(cfg.bootstrap)


def test_stop_is_idempotent(cfg: kafka.KafkaConfig) -> None:
    pid = kafka.start(cfg).pid
    assert pid is not None

    first = kafka.stop(cfg)
    second = kafka.stop(cfg)

    assert not first.running and not second.running
    assert not cfg.pid_file.exists()
    assert not kafka.probe(cfg.bootstrap, timeout=1)
    # Gone, or a zombie awaiting a parent that is not us: either way not running.
    assert not kafka._alive(pid)


async def test_data_survives_stop_and_start(cfg: kafka.KafkaConfig) -> None:
    kafka.start(cfg)
    cluster_id = (cfg.data_dir / "cluster.id").read_text()
    admin = AIOKafkaAdminClient(bootstrap_servers=cfg.bootstrap)
    await admin.start()
    try:
        await admin.create_topics([NewTopic("launcher.durable", 1, 1)])
    finally:
        await admin.close()
    producer = AIOKafkaProducer(
        bootstrap_servers=cfg.bootstrap, enable_idempotence=True, acks="all"
    )
    await producer.start()
    try:
        await producer.send_and_wait("launcher.durable", b"kept", key=b"k1")
    finally:
        await producer.stop()

    assert not kafka.stop(cfg).running
    restarted = kafka.start(cfg)

    assert restarted.running
    assert (cfg.data_dir / "cluster.id").read_text() == cluster_id
    consumer = AIOKafkaConsumer(
        "launcher.durable", bootstrap_servers=cfg.bootstrap, auto_offset_reset="earliest"
    )
    await consumer.start()
    try:
        batches = await consumer.getmany(timeout_ms=15_000, max_records=10)
    finally:
        await consumer.stop()
    records = [r for rs in batches.values() for r in rs]
    assert [(r.key, r.value) for r in records] == [(b"k1", b"kept")]


@pytest.fixture
def umask_022() -> Iterator[None]:
    """The usual umask, under which files come out 0644 and folders 0755 unless told otherwise."""
    previous = os.umask(0o022)
    try:
        yield
    finally:
        os.umask(previous)


@pytest.mark.usefixtures("umask_022")
async def test_the_brokers_data_is_its_owners_alone(cfg: kafka.KafkaConfig) -> None:
    """Every event, credential hashes included, is in the broker's log: nothing in its data dir is
    open to group or others, neither what it creates nor what an earlier version left readable."""
    cfg.data_dir.mkdir(parents=True)
    (cfg.data_dir / "server.log.1").write_text("from an earlier version\n")
    assert (cfg.data_dir / "server.log.1").stat().st_mode & 0o777 == 0o644
    kafka.start(cfg)
    admin = AIOKafkaAdminClient(bootstrap_servers=cfg.bootstrap)
    await admin.start()
    try:
        await admin.create_topics([NewTopic("launcher.private", 1, 1)])
    finally:
        await admin.close()
    producer = AIOKafkaProducer(bootstrap_servers=cfg.bootstrap)
    await producer.start()
    try:
        await producer.send_and_wait("launcher.private", b"a credential hash")
    finally:
        await producer.stop()

    paths = [cfg.data_dir, *cfg.data_dir.rglob("*")]
    names = {p.relative_to(cfg.data_dir).as_posix() for p in paths}
    assert {"server.log", "console.log", "kafka.pid", "logs/meta.properties"} <= names
    assert any(n.startswith("logs/launcher.private-0/") and n.endswith(".log") for n in names)
    loose = {p: oct(p.stat().st_mode & 0o777) for p in paths if p.stat().st_mode & 0o077}
    assert loose == {}


def test_stale_pid_file_is_ignored(cfg: kafka.KafkaConfig) -> None:
    cfg.data_dir.mkdir(parents=True)
    cfg.pid_file.write_text(f"{os.getpid()}\n")  # alive, but not a broker

    before = kafka.status(cfg)
    started = kafka.start(cfg)

    assert not before.running and before.note and "stale" in before.note
    assert started.running and started.pid != os.getpid()


def test_port_taken_by_another_process_is_a_clear_error(cfg: kafka.KafkaConfig) -> None:
    with socket.socket() as squatter:
        squatter.bind((cfg.host, cfg.port))
        squatter.listen()

        with pytest.raises(kafka.KafkaError, match=rf"port 127\.0\.0\.1:{cfg.port} is taken"):
            kafka.start(cfg)

        assert not kafka.status(cfg).running


def test_missing_java_is_a_clear_error(
    cfg: kafka.KafkaConfig, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("JAVA_HOME", raising=False)
    monkeypatch.setenv("PATH", "/nonexistent")

    with pytest.raises(kafka.KafkaError, match="Java not found"):
        kafka.start(cfg)


def test_run_foreground_serves_and_stops_on_sigterm(tmp_path: Path) -> None:
    cfg = make_config(tmp_path / "fg")
    code = (
        "from pathlib import Path; from plutarc_localkafka import launcher as kafka; "
        f"kafka.run_foreground(kafka.KafkaConfig(port={cfg.port}, "
        f"controller_port={cfg.controller_port}, data_dir=Path({str(cfg.data_dir)!r}), "
        f"jvm_opts={TEST_JVM_OPTS!r}))"
    )
    proc = subprocess.Popen([sys.executable, "-c", code], stdout=subprocess.DEVNULL)
    try:
        wait_until(lambda: kafka.probe(cfg.bootstrap, timeout=2), 90, "foreground broker")
        status = kafka.status(cfg)
        assert status.running and status.pid == proc.pid  # exec kept the pid

        proc.send_signal(signal.SIGTERM)
        assert proc.wait(timeout=30) in (0, 143, -signal.SIGTERM)
        assert not kafka.status(cfg).running
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait(timeout=10)


def test_missing_maven_is_a_clear_error(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "cache"))  # empty jar cache
    monkeypatch.setenv("PATH", "/nonexistent")

    with pytest.raises(kafka.KafkaError, match=r"Maven \(mvn\) not found"):
        kafka.ensure_jars()


def test_server_properties_are_loopback_only_single_node_without_auto_create(
    tmp_path: Path,
) -> None:
    cfg = kafka.KafkaConfig(port=19092, controller_port=19093, data_dir=tmp_path)

    props = dict(
        line.split("=", 1) for line in kafka.render_server_properties(cfg).splitlines() if line
    )

    assert props["listeners"] == "PLAINTEXT://127.0.0.1:19092,CONTROLLER://127.0.0.1:19093"
    assert props["process.roles"] == "broker,controller"
    assert props["auto.create.topics.enable"] == "false"
    assert props["log.dirs"] == str(tmp_path / "logs")
    replication = [k for k in props if k.endswith("replication.factor")]
    assert {props[k] for k in replication} == {"1"}
    assert "transaction.state.log.replication.factor" in replication


def test_a_broker_that_dies_on_a_taken_port_says_so_however_long_its_shutdown_log(
    tmp_path: Path,
) -> None:
    """The test kit retries another port on "Address already in use": the line must be in the
    error even when the JVM's shutdown logged many lines after it."""
    cfg = kafka.KafkaConfig(port=1, controller_port=2, data_dir=tmp_path)
    noise = "\n".join(f"INFO [RaftManager id=1] shutting down step {i}" for i in range(200))
    (tmp_path / "console.log").write_text(
        "ERROR [KafkaServer id=1] Fatal error during startup\n"
        "org.apache.kafka.common.KafkaException: Socket server failed to bind to 127.0.0.1:1: "
        "Address already in use.\n" + noise + "\n"
    )
    cfg.log_file.write_text(noise + "\n")
    child = subprocess.Popen(["true"])
    child.wait()  # reaped: a pid that is no broker's any more
    with pytest.raises(kafka.KafkaError) as failed:
        kafka._wait_ready(cfg, child.pid, time.monotonic() + 5)
    assert "cause: org.apache.kafka.common.KafkaException" in str(failed.value)
    assert "Address already in use" in str(failed.value)
