"""kill -9 of the compute service in the middle of a wake (issue 12): the wake is recorded in the
service's store, a worker process (compute_worker.py: the service's spec, its store, the runtime's
intent worker, the local provider on the real Pulumi engine) is killed while `pulumi up` is
starting the host, and a fresh one on the same store and data directory finishes the wake with
the same host, once, leaving the stack unlocked."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any
from uuid import uuid4

import pytest
from plutarc_access import Memberships, RegoEngine
from plutarc_compute.handlers import WAKE
from plutarc_compute.providers.stacks import stack_name
from plutarc_contracts import compute as c
from plutarc_contracts.system import INTENT_ATTEMPT_FAILED, INTENT_COMPLETED, INTENT_FAILED
from plutarc_testkit.harness import Harness
from plutarc_testkit.identity_events import workspace_events
from plutarc_testkit.waiting import until

from .compute_worker import compute_service
from .conftest import bot_processes
from .test_local_pulumi import custom_resources

WORKER = Path(__file__).with_name("compute_worker.py")


class Workers:
    """Worker processes of the compute service; whatever is left is stopped at the end."""

    def __init__(self, data_dir: Path, pulumi_bin: Path, **env: str) -> None:
        self.data_dir, self.pulumi_bin = data_dir, pulumi_bin
        self.env = {**os.environ, **env}
        self.started: list[subprocess.Popen[bytes]] = []

    def start(self) -> subprocess.Popen[bytes]:
        log = open(self.data_dir / f"worker-{len(self.started)}.log", "wb")  # noqa: SIM115
        with log:
            worker = subprocess.Popen(
                [sys.executable, str(WORKER), str(self.data_dir), str(self.pulumi_bin.parent)],
                env=self.env,
                stdout=log,
                stderr=subprocess.STDOUT,
            )
        self.started.append(worker)
        return worker

    def stop(self, worker: subprocess.Popen[bytes]) -> int:
        worker.send_signal(signal.SIGTERM)
        return worker.wait(timeout=30)

    def close(self) -> None:
        for worker in self.started:
            if worker.poll() is None:
                worker.kill()
                worker.wait()


def pulumi_children(parent: int) -> list[int]:
    """The `pulumi` processes ``parent`` started."""
    found = []
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            stat = (entry / "stat").read_text()
        except OSError:
            continue
        name = stat[stat.index("(") + 1 : stat.rindex(")")]
        if name == "pulumi" and int(stat[stat.rindex(")") + 2 :].split()[1]) == parent:
            found.append(int(entry.name))
    return found


def running(pid: int) -> bool:
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return False
    return stat[stat.rindex(")") + 2] not in "ZX"


def wake_outcomes(compute: Harness, what: str) -> list[Any]:
    return [p for p in compute.intents(what) if p.adapter == WAKE]


def provisioned(compute: Harness, bot_id: str) -> list[c.HostProvisioned]:
    return [
        e.payload for e in compute.events("compute.host_provisioned") if e.payload.bot_id == bot_id
    ]


@pytest.fixture
def workspace() -> tuple[str, Memberships]:
    memberships, ws = Memberships(RegoEngine()), str(uuid4())
    for env in workspace_events(ws, {"alice": "owner"}):
        memberships.apply(env)
    return ws, memberships


@pytest.fixture
def workers(tmp_path: Path, pulumi_bin: Path) -> Iterator[Workers]:
    made = Workers(tmp_path, pulumi_bin, HOST_HOLD=str(tmp_path / "go"))
    try:
        yield made
    finally:
        made.close()


@pytest.mark.parametrize(
    "orphan",
    ["as it goes", "lingering"],
    ids=["orphaned-pulumi-as-it-goes", "orphaned-pulumi-lingering"],
)
async def test_a_compute_service_killed_in_the_middle_of_a_wake_wakes_the_host_once_after_restart(
    tmp_path: Path,
    pulumi_bin: Path,
    bot_id: str,
    workspace: tuple[str, Memberships],
    workers: Workers,
    orphan: str,
) -> None:
    """``lingering``: the killed service's `pulumi` is stopped (SIGSTOP) before the kill and let
    go only once the restarted service is waking the host, so the restart meets a live lock: the
    path a `pulumi` that does not notice its service is gone takes."""
    ws, memberships = workspace
    compute, provider = compute_service(tmp_path, pulumi_bin.parent, memberships)
    stack, pid_file = stack_name(bot_id), provider.run_dir(bot_id) / "host.json"
    locks = tmp_path / "pulumi" / ".pulumi" / "locks" / "organization" / "plutarc-local"
    try:
        compute.ok("user:alice", c.WakeHost(workspace_id=ws, bot_id=bot_id, reason="operator"))
        assert compute.pending_intents() == 1, "the wake is a pending intent"

        first = workers.start()
        # The host is started and held before it is ready: `pulumi up` holds the stack's lock
        # and its create of the host has not returned, so no outcome can have been recorded.
        await until(
            lambda: pid_file.exists() and provider.stacks.lock_files(stack),
            timeout=45,
            what="the wake's pulumi up starting the host",
        )
        host = json.loads(pid_file.read_text())["pid"]
        (engine,) = pulumi_children(first.pid)
        (lock,) = provider.stacks.lock_files(stack)
        assert json.loads(lock.read_text())["pid"] == engine
        if orphan == "lingering":
            os.kill(engine, signal.SIGSTOP)
        os.kill(first.pid, signal.SIGKILL)
        assert first.wait(timeout=10) == -signal.SIGKILL
        assert compute.pending_intents() == 1 and not provisioned(compute, bot_id)
        assert bot_processes(bot_id) == [host], "the host it was starting runs on"

        second = workers.start()
        (tmp_path / "go").touch()
        if orphan == "lingering":
            await until(
                lambda: pulumi_children(second.pid), timeout=30, what="the restart's pulumi"
            )
            assert running(engine) and lock.exists()
            assert not provisioned(compute, bot_id), "nothing passes a live update's lock"
            os.kill(engine, signal.SIGCONT)
        await until(
            lambda: provisioned(compute, bot_id), timeout=45, what="the host recorded as woken"
        )
        await until(lambda: not running(engine), timeout=15, what="the orphaned pulumi gone")

        (woken,) = provisioned(compute, bot_id)
        assert woken.host_id == str(host), "the host started before the kill was adopted"
        assert bot_processes(bot_id) == [host], "one host process, not two"
        assert len(wake_outcomes(compute, INTENT_COMPLETED)) == 1
        assert wake_outcomes(compute, INTENT_FAILED) == []
        assert wake_outcomes(compute, INTENT_ATTEMPT_FAILED) == []
        assert compute.pending_intents() == 0
        assert provider.stacks.lock_files(stack) == [], "the stack is not left locked"
        assert not any(locks.rglob("*.*")), "nor a lock's sidecar file"
        deployment = await provider.stacks.export(bot_id)
        assert deployment is not None and not deployment.get("pending_operations")
        assert custom_resources(deployment) == ["Address", "Host"]
        assert workers.stop(second) == 0

        started = time.monotonic()
        await provider.sleep(bot_id)
        took = time.monotonic() - started
        assert provider.stacks.lock_waits == 0 and provider.stacks.recovered == 0, (
            f"the sleep found the stack locked ({took:.1f} s)"
        )
        assert bot_processes(bot_id) == [], "no process of the bot is left"
        assert not any(locks.rglob("*.*"))
        assert custom_resources(await provider.stacks.export(bot_id)) == ["Address"]
    finally:
        provider.stacks.close()
        compute.close()
