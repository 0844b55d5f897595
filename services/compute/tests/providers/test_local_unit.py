"""The local provider's parts without the engine: address allocation, and the host as processes
(started, adopted, stopped as a group, failed)."""

from __future__ import annotations

import ipaddress
import random
import subprocess
import sys
from pathlib import Path

import pytest
from plutarc_compute.providers import local_processes as procs
from plutarc_compute.providers.base import ProviderUnavailable
from plutarc_compute.providers.local import (
    ADDRESS_FIRST,
    ADDRESS_LAST,
    allocate_address,
    free_address,
    make_local_provider,
)
from plutarc_compute.settings import ComputeSettings
from plutarc_testkit.waiting import wait_until
from pydantic import SecretStr

from .conftest import HOST_SCRIPT, bot_processes


class Repeating(random.Random):
    """Picks the same number first, as two data directories on one machine might."""

    def __init__(self, first: int) -> None:
        super().__init__(3)
        self.first: list[int] = [first, first]

    def randint(self, a: int, b: int) -> int:
        return self.first.pop() if self.first else super().randint(a, b)


def test_each_bot_gets_its_own_stable_loopback_address(tmp_path: Path) -> None:
    registry = tmp_path / "addresses"
    addresses = {allocate_address(registry, f"bot-{i}") for i in range(300)}
    assert len(addresses) == 300
    for address in addresses:
        ip = ipaddress.IPv4Address(address)
        assert ip.is_loopback and ADDRESS_FIRST <= int(ip) <= ADDRESS_LAST
        assert ip.packed[-1] not in (0, 255)
    assert allocate_address(registry, "bot-7") in addresses
    assert allocate_address(registry, "bot-7") == allocate_address(registry, "bot-7")


def test_an_address_taken_is_never_given_to_another_bot(tmp_path: Path) -> None:
    registry = tmp_path / "addresses"
    taken = int(ipaddress.IPv4Address("127.20.0.1"))
    a = allocate_address(registry, "a", Repeating(taken))
    b = allocate_address(registry, "b", Repeating(taken))
    assert a == "127.20.0.1" and b != a
    free_address(registry, "a", a)
    assert not (registry / "addresses" / a).exists()
    assert (registry / "addresses" / b).read_text() == "b"
    free_address(registry, "a", b)  # not a's: kept
    assert (registry / "addresses" / b).exists()


def request(tmp_path: Path, timeout: float = 10.0, **env: str) -> procs.HostRequest:
    return procs.HostRequest(
        bot_id=tmp_path.name,
        address="127.20.0.9",
        command=[sys.executable, str(HOST_SCRIPT)],
        env=env,
        run_dir=tmp_path / "host",
        ready_timeout=timeout,
        stop_grace=1.0,
    )


def test_a_host_is_started_ready_adopted_once_and_stopped_with_its_children(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("PULUMI_CONFIG_PASSPHRASE", "secret")
    host = procs.ensure_host(request(tmp_path, HOST_CHILD="1"))
    try:
        assert procs.alive(host.pid, host.start_time)
        assert procs.holds_address(host.pid, "127.20.0.9")
        environ = Path(f"/proc/{host.pid}/environ").read_bytes()
        assert b"PULUMI_CONFIG_PASSPHRASE" not in environ, "no Pulumi secret reaches the host"
        wait_until(lambda: len(procs.group_members(host.pid)) == 2, what="the host's child")
        assert procs.ensure_host(request(tmp_path)) == host, "a running host is adopted"
    finally:
        procs.remove_host(tmp_path / "host", host.pid, host.start_time, grace=1.0)
    assert procs.group_members(host.pid) == []
    assert not (tmp_path / "host" / "host.json").exists()


def test_a_host_that_ignores_sigterm_is_killed_after_the_grace(tmp_path: Path) -> None:
    stubborn = subprocess.Popen(
        [
            sys.executable,
            "-c",
            "import signal, time; signal.signal(signal.SIGTERM, signal.SIG_IGN)"
            "; print('up', flush=True); time.sleep(60)",
        ],
        start_new_session=True,
        stdout=subprocess.PIPE,
    )
    assert stubborn.stdout is not None and stubborn.stdout.readline() == b"up\n"
    procs.stop_group(stubborn.pid, grace=0.3)
    assert stubborn.wait(5) == -9
    assert procs.group_members(stubborn.pid) == []


def test_a_host_that_is_not_ready_in_time_fails_and_leaves_nothing(tmp_path: Path) -> None:
    with pytest.raises(procs.HostFailed, match="was not ready after"):
        procs.ensure_host(request(tmp_path, timeout=0.5, HOST_HOLD=str(tmp_path / "never")))
    assert procs.read_pid_file(tmp_path / "host" / "host.json") is None
    assert bot_processes(tmp_path.name) == []


def test_a_dead_host_in_the_pid_file_is_replaced(tmp_path: Path) -> None:
    first = procs.ensure_host(request(tmp_path))
    procs.stop_group(first.pid, grace=1.0)
    second = procs.ensure_host(request(tmp_path))
    try:
        assert second.pid != first.pid and procs.alive(second.pid, second.start_time)
    finally:
        procs.remove_host(tmp_path / "host", second.pid, second.start_time, grace=1.0)


def test_the_service_settings_make_the_provider(tmp_path: Path, pulumi_bin: Path) -> None:
    settings = ComputeSettings(
        data_dir=tmp_path,
        compute_pulumi_backend_url="file:///srv/state",
        compute_pulumi_passphrase=SecretStr("s3cret"),
        compute_max_concurrent_wakes=3,
    )
    provider = make_local_provider(settings)
    pulumi = provider.stacks.settings
    assert (pulumi.backend, pulumi.passphrase, pulumi.max_concurrent) == (
        "file:///srv/state",
        "s3cret",
        3,
    )
    assert provider.root == (tmp_path / "compute").resolve()


def test_without_the_pulumi_cli_the_service_refuses_to_start(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("PLUTARC_BIN_DIR", str(tmp_path / "empty"))
    with pytest.raises(ProviderUnavailable, match="scripts/ensure-pulumi"):
        make_local_provider(ComputeSettings(data_dir=tmp_path))
