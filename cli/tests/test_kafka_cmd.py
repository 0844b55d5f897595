"""`plutarc kafka ...` drives the launcher library as before it moved out of the CLI (--json).

The broker runs on a port pair of its own (the CLI puts the controller on port+1) with its data in
the test's folder, so it never touches the session broker or a developer's broker on 9092.
"""

from __future__ import annotations

import json
import socket
from collections.abc import Iterator
from pathlib import Path

import pytest
from click.testing import Result
from plutarc_cli.main import app
from plutarc_localkafka import launcher
from typer.testing import CliRunner

pytestmark = pytest.mark.kafka


def plutarc(*args: str) -> Result:
    return CliRunner().invoke(app, list(args))


def free_port_pair() -> int:
    """A port P with P+1 free too, both probed at once."""
    for _ in range(50):
        with socket.socket() as first, socket.socket() as second:
            first.bind(("127.0.0.1", 0))
            port = int(first.getsockname()[1])
            try:
                second.bind(("127.0.0.1", port + 1))
            except OSError:
                continue
            return port
    raise AssertionError("no two consecutive free ports on 127.0.0.1")


@pytest.fixture
def where(tmp_path: Path) -> Iterator[list[str]]:
    port, data_dir = free_port_pair(), tmp_path / "kafka"
    try:
        yield ["--port", str(port), "--data-dir", str(data_dir)]
    finally:
        launcher.stop(launcher.KafkaConfig.from_env(port=port, data_dir=data_dir))


def test_start_status_stop(where: list[str]) -> None:
    port = where[1]
    before = plutarc("kafka", "status", "--json", *where)
    started = plutarc("kafka", "start", "--json", *where)
    running = plutarc("kafka", "status", "--json", *where)
    stopped = plutarc("kafka", "stop", "--json", *where)
    after = plutarc("kafka", "status", "--json", *where)

    assert before.exit_code == 3 and not json.loads(before.stdout)["running"]
    assert started.exit_code == 0, started.output
    up = json.loads(started.stdout)
    assert up["running"] and up["bootstrap"] == f"127.0.0.1:{port}"
    assert up["version"] == launcher.kafka_version()
    assert running.exit_code == 0 and json.loads(running.stdout)["pid"] == up["pid"]
    assert stopped.exit_code == 0 and not json.loads(stopped.stdout)["running"]
    assert after.exit_code == 3


def test_taken_port_is_one_json_error_line(where: list[str]) -> None:
    with socket.socket() as squatter:
        squatter.bind(("127.0.0.1", int(where[1])))
        squatter.listen()

        result = plutarc("kafka", "start", "--json", *where)

    assert result.exit_code == 1
    assert f"127.0.0.1:{where[1]} is taken" in json.loads(result.stdout)["error"]


def test_install_reports_the_pinned_jars() -> None:
    result = plutarc("kafka", "install", "--json")

    assert result.exit_code == 0, result.output
    info = json.loads(result.stdout)
    assert info["version"] == launcher.kafka_version()
    assert Path(info["libs"]) == launcher.ensure_jars()
