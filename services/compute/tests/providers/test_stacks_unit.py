"""The stack plumbing without the engine: locked stacks retried then StackBusy, the bound on
operations at once, locks of dead updates told from live ones, a missing CLI named."""

from __future__ import annotations

import asyncio
import json
import os
import random
import socket
import subprocess
import sys
import threading
import time
from pathlib import Path
from typing import Any

import pytest
from plutarc_compute.providers.aws import AwsProvider, StackOps
from plutarc_compute.providers.aws_program import AwsSettings
from plutarc_compute.providers.base import StackBusy
from plutarc_compute.providers.stacks import (
    LAUNCHER_DIR,
    PULUMI_VERSION,
    REPO_ROOT,
    PulumiMissing,
    PulumiSettings,
    Stacks,
    _holder_gone,
    pulumi_command,
    stack_name,
)
from pulumi import automation as auto
from pulumi.automation._cmd import CommandResult

LOCKED = "error: the stack is currently locked by 1 lock(s). Either wait for the other process"


class FakeStack:
    def __init__(self, name: str) -> None:
        self.name = name
        self.refreshes: list[dict[str, Any]] = []

    def refresh(self, **kwargs: Any) -> None:
        self.refreshes.append(kwargs)


class SimulatedTime:
    def __init__(self) -> None:
        self.now = 0.0
        self.slept: list[float] = []

    def monotonic(self) -> float:
        return self.now

    async def sleep(self, seconds: float) -> None:
        self.slept.append(seconds)
        self.now += seconds


def stacks_for(tmp_path: Path, budget: float = 10.0, **kwargs: Any) -> tuple[Stacks, FakeStack]:
    settings = PulumiSettings(data_dir=tmp_path, lock_budget_seconds=budget, **kwargs)
    stacks = Stacks(settings, "test", rng=random.Random(7))
    fake = FakeStack(stack_name("b1"))

    async def opened(bot_id: str, *, create: bool = True) -> Any:
        return fake

    stacks._stack = opened  # type: ignore[method-assign]
    return stacks, fake


def locked() -> auto.ConcurrentUpdateError:
    return auto.ConcurrentUpdateError(CommandResult(stdout="", stderr=LOCKED, code=255))


async def test_a_locked_stack_is_retried_with_backoff_until_it_is_free(tmp_path: Path) -> None:
    clock = SimulatedTime()
    stacks, _ = stacks_for(tmp_path)
    stacks._monotonic, stacks._sleep = clock.monotonic, clock.sleep
    attempts = []

    def op(stack: Any) -> str:
        attempts.append(clock.now)
        if len(attempts) < 4:
            raise locked()
        return "done"

    assert await stacks._run("b1", "up", op) == "done"
    assert stacks.lock_waits == 3
    assert clock.slept[0] < clock.slept[-1], "the waits grow"


async def test_a_stack_locked_past_the_budget_is_stack_busy(tmp_path: Path) -> None:
    clock = SimulatedTime()
    stacks, _ = stacks_for(tmp_path, budget=5.0)
    stacks._monotonic, stacks._sleep = clock.monotonic, clock.sleep

    def op(stack: Any) -> None:
        raise locked()

    with pytest.raises(StackBusy, match="stayed locked"):
        await stacks._run("b1", "up", op)
    assert 3.0 <= clock.now <= 5.0
    assert stacks.recovered == 0


async def test_operations_at_once_are_bounded_by_the_setting(tmp_path: Path) -> None:
    stacks, _ = stacks_for(tmp_path, max_concurrent=2)
    active, peak, lock = [0], [0], threading.Lock()

    def op(stack: Any) -> None:
        with lock:
            active[0] += 1
            peak[0] = max(peak[0], active[0])
        time.sleep(0.05)
        with lock:
            active[0] -= 1

    await asyncio.gather(*(stacks._run(f"b{i}", "up", op) for i in range(6)))
    assert peak[0] == 2


def dead_pid() -> int:
    child = subprocess.Popen([sys.executable, "-c", "pass"])
    child.wait()
    return child.pid


def write_lock(stacks: Stacks, name: str, pid: int, host: str) -> Path:
    where = tmp_locks(stacks, name)
    where.mkdir(parents=True, exist_ok=True)
    path = where / f"{pid}-{host}.json"
    content = {
        "pid": pid,
        "username": "root",
        "hostname": host,
        "timestamp": "2026-12-03T00:00:00Z",
    }
    path.write_text(json.dumps(content))
    return path


def tmp_locks(stacks: Stacks, name: str) -> Path:
    return (
        stacks.settings.data_dir / "pulumi" / ".pulumi" / "locks" / "organization" / "test" / name
    )


def test_a_lock_is_stale_only_when_its_holder_on_this_host_is_not_a_running_pulumi(
    tmp_path: Path,
) -> None:
    stacks, fake = stacks_for(tmp_path)
    here = socket.gethostname()
    assert _holder_gone(write_lock(stacks, fake.name, dead_pid(), here))
    assert _holder_gone(write_lock(stacks, fake.name, os.getpid(), here)), "a pid reused"
    assert not _holder_gone(write_lock(stacks, fake.name, dead_pid(), "elsewhere"))
    garbage = tmp_locks(stacks, fake.name) / "garbage.json"
    garbage.write_text("{not json")
    assert not _holder_gone(garbage)


def test_recovery_removes_only_dead_holders_locks_then_repairs_pending_operations(
    tmp_path: Path,
) -> None:
    stacks, fake = stacks_for(tmp_path)
    elsewhere = write_lock(stacks, fake.name, dead_pid(), "elsewhere")
    assert not stacks._recover(fake)  # type: ignore[arg-type]
    assert fake.refreshes == [] and elsewhere.exists()
    elsewhere.unlink()

    stale = write_lock(stacks, fake.name, dead_pid(), socket.gethostname())
    assert stacks.lock_files(fake.name) == [stale]
    assert stacks._recover(fake)  # type: ignore[arg-type]
    assert stacks.lock_files(fake.name) == []
    assert stacks.recovered == 1
    assert [r["clear_pending_creates"] for r in fake.refreshes] == [True]


def test_a_missing_cli_names_the_install_step(tmp_path: Path) -> None:
    settings = PulumiSettings(data_dir=tmp_path, bin_dir=tmp_path / "bin")
    with pytest.raises(PulumiMissing, match="scripts/ensure-pulumi"):
        pulumi_command(settings)


def test_a_cli_that_does_not_run_is_missing_too(tmp_path: Path) -> None:
    broken = tmp_path / "bin" / "pulumi"
    broken.parent.mkdir()
    broken.write_text("#!/bin/sh\nexit 1\n")
    broken.chmod(0o755)
    settings = PulumiSettings(data_dir=tmp_path, bin_dir=broken.parent)
    with pytest.raises(PulumiMissing, match="does not run"):
        pulumi_command(settings)


def test_the_cli_may_live_in_any_directory(tmp_path: Path, pulumi_bin: Path) -> None:
    tools = tmp_path / "tools"
    tools.mkdir()
    (tools / "pulumi").symlink_to(pulumi_bin)
    stacks = Stacks(PulumiSettings(data_dir=tmp_path, bin_dir=tools), "test")
    assert stacks.check() == PULUMI_VERSION.removeprefix("v")


def test_the_workspace_environment(tmp_path: Path) -> None:
    settings = PulumiSettings(data_dir=tmp_path, passphrase="p", python="/opt/py")
    env = settings.env()
    assert env["PULUMI_BACKEND_URL"] == f"file://{tmp_path.resolve()}/pulumi"
    assert env["PULUMI_HOME"] == str(tmp_path / "pulumi-home")
    assert env["PULUMI_CONFIG_PASSPHRASE"] == "p"
    assert env["PLUTARC_PULUMI_PYTHON"] == "/opt/py"
    assert env["PATH"].split(os.pathsep)[:2] == [
        str(settings.launcher_dir),
        str(settings.bin_dir),
    ]
    assert (settings.launcher_dir / "pulumi-resource-pulumi-python").stat().st_mode & 0o111
    other = PulumiSettings(data_dir=tmp_path, backend_url="s3://bucket/plutarc")
    assert other.env()["PULUMI_BACKEND_URL"] == "s3://bucket/plutarc"


def test_stack_names_come_from_bot_ids() -> None:
    assert stack_name("0b6f2c1e-1111-4222-8333-444455556666") == (
        "bot-0b6f2c1e-1111-4222-8333-444455556666"
    )
    with pytest.raises(ValueError):
        stack_name("../etc")


def test_the_install_step_pins_the_same_version() -> None:
    script = (REPO_ROOT / "scripts" / "ensure-pulumi").read_text()
    assert f"\nversion={PULUMI_VERSION}\n" in script


LAUNCHER = LAUNCHER_DIR / "pulumi-resource-pulumi-python"


def test_the_launcher_runs_the_dynamic_provider_with_the_checkouts_python() -> None:
    env = {k: v for k, v in os.environ.items() if k != "PLUTARC_PULUMI_PYTHON"}
    provider = subprocess.Popen(
        [str(LAUNCHER)], env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE
    )
    try:
        assert provider.stdout is not None
        port = provider.stdout.readline().strip()
        assert port.isdigit(), "it serves the provider protocol and prints its port"
        environ = Path(f"/proc/{provider.pid}/environ").read_bytes().split(b"\0")
        assert b"PLUTARC_PULUMI_PROVIDER_PROCESS=1" in environ
        exe = Path(f"/proc/{provider.pid}/exe").resolve()
        assert exe == (REPO_ROOT / ".venv" / "bin" / "python").resolve()
    finally:
        provider.kill()
        provider.wait()


def test_the_launcher_says_which_interpreter_is_missing() -> None:
    env = {**os.environ, "PLUTARC_PULUMI_PYTHON": "/nonexistent/python"}
    done = subprocess.run([str(LAUNCHER)], env=env, capture_output=True, text=True, timeout=30)
    assert done.returncode == 1
    assert "/nonexistent/python" in done.stderr and "PLUTARC_PULUMI_PYTHON" in done.stderr


def test_stacks_are_the_aws_providers_stack_ops(tmp_path: Path) -> None:
    ops: StackOps = Stacks(PulumiSettings(data_dir=tmp_path), "plutarc-aws")  # mypy checks
    settings = AwsSettings(
        ami="ami-0", subnet_id="subnet-0", vpc_id="vpc-0", gateway_cidr="10.0.0.0/8"
    )
    assert AwsProvider(settings, ops).stacks is ops
