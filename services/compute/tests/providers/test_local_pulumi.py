"""The local provider through the real Pulumi engine: a host per bot bound to an address it keeps
while asleep; failures, a `pulumi` killed in the middle of an update, two wakes of one stack."""

from __future__ import annotations

import asyncio
import gc
import json
import os
import signal
from pathlib import Path

import pytest
from plutarc_compute.providers.base import HostSpec, ProvisioningFailed
from plutarc_compute.providers.local import LocalProvider
from plutarc_compute.providers.stacks import StackFailed, stack_name
from plutarc_testkit.waiting import until

from .conftest import Recorder, bot_processes, make_provider


def spec(bot_id: str, **env: str) -> HostSpec:
    return HostSpec(bot_id=bot_id, workspace_id="ws-1", size="default", env=env)


def custom_resources(deployment: dict[str, object] | None) -> list[str]:
    assert deployment is not None
    resources = deployment.get("resources") or []
    assert isinstance(resources, list)
    return [
        r["type"].rsplit(":", 1)[-1]
        for r in resources
        if not r["type"].startswith(("pulumi:pulumi:", "pulumi:providers:"))
    ]


async def test_a_host_wakes_on_its_address_sleeps_to_the_address_alone_and_is_released(
    provider: LocalProvider, bot_id: str, recorder: Recorder
) -> None:
    assert provider.stacks.check().startswith("3.274.")
    awake = await provider.wake(spec(bot_id, HOST_TARGET=recorder.target, HOST_CHILD="1"))
    assert awake.address.startswith("127.") and awake.address not in ("127.0.0.1", "127.0.1.1")
    assert bot_processes(bot_id), "the host runs"
    await until(lambda: recorder.seen, what="the host's connection")
    assert recorder.seen == [(awake.address, bot_id)], "it leaves from the bot's address"
    seen = await provider.observe(bot_id)
    assert (seen.address, seen.host_id, seen.address_on_host) == (
        awake.address,
        awake.host_id,
        True,
    )

    dead = awake.host_id
    os.killpg(int(dead), signal.SIGKILL)  # the host dies while awake
    await until(lambda: not bot_processes(bot_id), what="the host gone")
    seen = await provider.observe(bot_id)
    assert (seen.address, seen.host_id, seen.address_on_host) == (awake.address, None, False)
    awake = await provider.wake(spec(bot_id, HOST_TARGET=recorder.target, HOST_CHILD="1"))
    assert awake.address == seen.address and awake.host_id != dead, "a new host"
    await until(lambda: len(recorder.seen) == 2, what="the new host's connection")

    await provider.sleep(bot_id)
    assert bot_processes(bot_id) == [], "no process of the bot is left (nor its child)"
    assert custom_resources(await provider.stacks.export(bot_id)) == ["Address"]
    seen = await provider.observe(bot_id)
    assert (seen.address, seen.host_id, seen.address_on_host) == (awake.address, None, False)
    await provider.sleep(bot_id)  # asleep already: nothing to do

    again = await provider.wake(spec(bot_id, HOST_TARGET=recorder.target))
    assert again.address == awake.address and again.host_id != awake.host_id
    await until(lambda: len(recorder.seen) == 3, what="the third host's connection")
    assert set(recorder.seen) == {(awake.address, bot_id)}, "always from the same address"
    same = await provider.wake(spec(bot_id, HOST_TARGET=recorder.target))
    assert same == again, "waking an awake host returns it as it is"
    assert len(recorder.seen) == 3

    await provider.release(bot_id)
    assert bot_processes(bot_id) == []
    assert await provider.stacks.export(bot_id) is None, "the stack and its state are gone"
    seen = await provider.observe(bot_id)
    assert (seen.address, seen.host_id) == (None, None)
    assert not (provider.root / "addresses" / "addresses" / awake.address).exists()


async def test_a_host_that_fails_is_a_provisioning_failure_and_leaves_nothing_running(
    provider: LocalProvider, bot_id: str
) -> None:
    with pytest.raises(ProvisioningFailed) as failed:
        await provider.wake(spec(bot_id, HOST_EXIT="3"))
    assert failed.value.retryable
    assert "exited with status 3" in str(failed.value)
    assert "failing on purpose" in str(failed.value), "the host's log is in the message"
    assert bot_processes(bot_id) == []
    assert provider.stacks.lock_files(stack_name(bot_id)) == []
    seen = await provider.observe(bot_id)
    assert seen.address is not None and seen.host_id is None, "the address is kept"
    awake = await provider.wake(spec(bot_id))
    assert awake.address == seen.address


async def test_a_size_the_provider_does_not_have_is_not_retryable(
    provider: LocalProvider, bot_id: str
) -> None:
    with pytest.raises(ProvisioningFailed) as failed:
        await provider.wake(HostSpec(bot_id=bot_id, workspace_id="ws-1", size="large"))
    assert not failed.value.retryable


def pulumi_children(stack: str) -> list[int]:
    """This process's `pulumi` runs on ``stack``."""
    found = []
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            stat = (entry / "stat").read_text()
            argv = (entry / "cmdline").read_bytes().split(b"\0")
        except OSError:
            continue
        parent = int(stat[stat.rindex(")") + 2 :].split()[1])
        if parent == os.getpid() and stack.encode() in argv and b"up" in argv:
            found.append(int(entry.name))
    return found


def provider_processes(backend: bytes) -> list[int]:
    """Dynamic-provider processes started for the stacks of ``backend``."""
    found = []
    for entry in Path("/proc").iterdir():
        try:
            environ = (entry / "environ").read_bytes().split(b"\0")
        except OSError:
            continue
        if b"PLUTARC_PULUMI_PROVIDER_PROCESS=1" in environ and (
            b"PULUMI_BACKEND_URL=" + backend in environ
        ):
            found.append(int(entry.name))
    return found


@pytest.mark.filterwarnings("ignore::pytest.PytestUnraisableExceptionWarning")
async def test_a_pulumi_killed_in_the_middle_of_a_wake_is_recovered_with_one_host(
    provider: LocalProvider, bot_id: str, tmp_path: Path
) -> None:
    hold = tmp_path / "go"
    stack = stack_name(bot_id)
    waking = asyncio.create_task(provider.wake(spec(bot_id, HOST_HOLD=str(hold))))
    pid_file = provider.run_dir(bot_id) / "host.json"
    await until(pid_file.exists, timeout=30, what="the host started")
    first = json.loads(pid_file.read_text())["pid"]
    (cli,) = pulumi_children(stack)
    os.kill(cli, signal.SIGKILL)
    with pytest.raises(ProvisioningFailed):
        await waking
    gc.collect()  # Pulumi's coroutine for the program the dead engine ran complains here
    locks = provider.stacks.lock_files(stack)
    assert len(locks) == 1, "the killed update left its lock"
    assert json.loads(locks[0].read_text())["pid"] == cli
    assert bot_processes(bot_id) == [first], "the host it started runs on"
    backend = provider.stacks.settings.backend.encode()
    await until(
        lambda: not provider_processes(backend), what="the orphaned provider process to exit"
    )

    hold.touch()
    awake = await provider.wake(spec(bot_id, HOST_HOLD=str(hold)))
    assert awake.host_id == str(first), "the host was adopted, not started twice"
    assert bot_processes(bot_id) == [first]
    assert provider.stacks.lock_files(stack) == []
    assert provider.stacks.recovered == 1
    deployment = await provider.stacks.export(bot_id)
    assert deployment is not None and not deployment.get("pending_operations")
    assert custom_resources(deployment) == ["Address", "Host"]
    await provider.sleep(bot_id)
    assert bot_processes(bot_id) == []


@pytest.mark.filterwarnings("ignore::pytest.PytestUnraisableExceptionWarning")
async def test_a_pulumi_killed_in_the_middle_of_a_sleep_is_recovered_with_no_host_left(
    provider: LocalProvider, bot_id: str, tmp_path: Path
) -> None:
    stopping = tmp_path / "stopping"
    await provider.wake(spec(bot_id, HOST_SLOW_STOP=str(stopping)))
    sleeping = asyncio.create_task(provider.sleep(bot_id))
    await until(stopping.exists, timeout=30, what="the host told to stop")
    (cli,) = pulumi_children(stack_name(bot_id))
    os.kill(cli, signal.SIGKILL)
    with pytest.raises(StackFailed):
        await sleeping
    gc.collect()
    assert len(provider.stacks.lock_files(stack_name(bot_id))) == 1
    stopping.unlink()  # the host, told to stop before the kill, now does

    await provider.sleep(bot_id)
    assert bot_processes(bot_id) == []
    assert provider.stacks.lock_files(stack_name(bot_id)) == []
    assert provider.stacks.recovered == 1
    deployment = await provider.stacks.export(bot_id)
    assert custom_resources(deployment) == ["Address"]
    assert deployment is not None and not deployment.get("pending_operations")


async def test_two_wakes_of_a_new_stack_at_once_wait_for_each_other_and_make_one_host(
    tmp_path: Path, pulumi_bin: Path, bot_id: str
) -> None:
    first, second = make_provider(tmp_path, pulumi_bin), make_provider(tmp_path, pulumi_bin)
    slow = spec(bot_id, HOST_DELAY="1.5")  # both also create the new stack at once
    a, b = await asyncio.gather(first.wake(slow), second.wake(slow))
    assert a == b
    assert first.stacks.lock_waits + second.stacks.lock_waits >= 1, "one found it locked"
    assert len(bot_processes(bot_id)) == 1
    await second.release(bot_id)
    assert bot_processes(bot_id) == []
