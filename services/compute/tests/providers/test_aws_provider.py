"""AwsProvider over a fake stack seam that runs the real program under Pulumi's mocks; the error
mapping; the plugin check against fake plugin directories."""

from __future__ import annotations

import asyncio
import itertools
import os
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import Any

import pytest
from plutarc_compute.providers.aws import (
    AwsPluginMissing,
    AwsProvider,
    aws_plugin_version,
    check_aws_plugin,
    size_unavailable,
)
from plutarc_compute.providers.aws_program import AwsSettings
from plutarc_compute.providers.base import HostSpec, Provider, ProvisioningFailed, StackBusy
from plutarc_compute.providers.stacks import PulumiSettings, Stacks

from .pulumi_mocks import EIP, INSTANCE, InstanceIds, Run, address_of, run_under_mocks

BOT = "0b6f1d2e-9d7a-4f3e-8c1b-5a2e4d6f8a90"
SETTINGS = AwsSettings(
    ami="ami-0abc", subnet_id="subnet-0abc", vpc_id="vpc-0abc", gateway_cidr="10.20.0.0/16"
)
CAPACITY = (
    "error: 1 error occurred:\n    * creating EC2 Instance: operation error EC2: RunInstances, "
    "https response error StatusCode: 500, RequestID: 1f2e, api error "
    "InsufficientInstanceCapacity: We currently do not have sufficient t4g.small capacity in "
    "the Availability Zone you requested (us-east-1a)."
)


def in_own_loop(program: Callable[[], None], instance_ids: InstanceIds) -> Run:
    """Pulumi's mock runner drives an event loop of its own: a worker thread needs one."""
    loop = asyncio.new_event_loop()
    asyncio.set_event_loop(loop)
    try:
        return run_under_mocks(program, instance_ids=instance_ids)
    finally:
        asyncio.set_event_loop(None)
        loop.close()


class FakeStacks:
    """The stack seam: each `up` runs the program under mocks and keeps its outputs. As the
    engine would, it keeps an instance whose inputs did not change (same id) and creates a new
    one otherwise; it refuses to destroy an Elastic IP declared protected."""

    def __init__(self) -> None:
        self.runs: dict[str, list[Run]] = {}
        self.outputs_of: dict[str, dict[str, Any]] = {}
        self.fail_next: list[Exception] = []
        self.destroyed: list[str] = []
        self._serial = itertools.count(1)
        self._instances: dict[str, tuple[dict[str, Any], str]] = {}

    async def up(self, bot_id: str, program: Callable[[], None]) -> Mapping[str, Any]:
        if self.fail_next:
            raise self.fail_next.pop(0)

        def instance_id(name: str, inputs: dict[str, Any]) -> str:
            kept = self._instances.get(bot_id)
            if kept is None or kept[0] != inputs:
                kept = (inputs, f"i-{name}-{next(self._serial)}")
            self._instances[bot_id] = kept
            return kept[1]

        run = await asyncio.to_thread(in_own_loop, program, instance_id)
        if not run.of(INSTANCE):
            self._instances.pop(bot_id, None)
        self.runs.setdefault(bot_id, []).append(run)
        self.outputs_of[bot_id] = run.outputs
        return run.outputs

    async def destroy(self, bot_id: str) -> None:
        last = self.runs[bot_id][-1]
        options = last.one(EIP).options
        if options is None or options.protect:
            raise RuntimeError("error: resource is protected and cannot be deleted")
        self.destroyed.append(bot_id)
        del self.outputs_of[bot_id], self.runs[bot_id]

    async def outputs(self, bot_id: str) -> Mapping[str, Any] | None:
        return self.outputs_of.get(bot_id, {}) if bot_id in self.runs else None


@pytest.fixture
def stacks() -> FakeStacks:
    return FakeStacks()


@pytest.fixture
def provider(stacks: FakeStacks) -> AwsProvider:
    return AwsProvider(SETTINGS, stacks)


def spec(size: str = "t4g.small", bot: str = BOT) -> HostSpec:
    return HostSpec(bot_id=bot, workspace_id="ws-1", size=size, env={"PLUTARC_LOG_LEVEL": "INFO"})


def test_it_is_a_provider(provider: AwsProvider) -> None:
    typed: Provider = provider
    assert (typed.name, typed.sizes) == ("aws", ("t4g.small", "t4g.medium"))


async def test_wake_sleep_wake_keeps_the_address(provider: AwsProvider, stacks: FakeStacks) -> None:
    first = await provider.wake(spec())
    assert first.address == address_of(f"{BOT}-address")
    assert first.host_id == f"i-{BOT}-host-1" and first.size == "t4g.small"
    observed = await provider.observe(BOT)
    assert (observed.address, observed.host_id, observed.address_on_host) == (
        first.address,
        first.host_id,
        True,
    )

    await provider.sleep(BOT)
    asleep = stacks.runs[BOT][-1]
    assert [r.typ for r in asleep.declared] == [EIP]
    observed = await provider.observe(BOT)
    assert (observed.address, observed.host_id, observed.address_on_host) == (
        first.address,
        None,
        False,
    )

    second = await provider.wake(spec("t4g.medium"))
    assert second.address == first.address
    assert second.host_id != first.host_id and second.size == "t4g.medium"
    assert stacks.runs[BOT][-1].one(INSTANCE).inputs["instanceType"] == "t4g.medium"


async def test_release_lifts_protection_then_destroys(
    provider: AwsProvider, stacks: FakeStacks
) -> None:
    await provider.wake(spec())
    await provider.release(BOT)
    assert stacks.destroyed == [BOT]
    observed = await provider.observe(BOT)
    assert (observed.address, observed.host_id) == (None, None)


async def test_a_bot_never_woken_has_nothing_to_sleep_or_release(
    provider: AwsProvider, stacks: FakeStacks
) -> None:
    observed = await provider.observe(BOT)
    assert (observed.address, observed.host_id, observed.address_on_host) == (None, None, False)
    await provider.sleep(BOT)
    await provider.release(BOT)
    assert stacks.runs == {} and stacks.destroyed == []


async def test_a_failed_first_wake_is_slept_to_the_address_alone(
    provider: AwsProvider, stacks: FakeStacks
) -> None:
    stacks.runs[BOT] = []  # the stack exists: the failed update left what it had created
    await provider.sleep(BOT)
    assert [r.typ for r in stacks.runs[BOT][-1].declared] == [EIP]


async def test_no_capacity_for_the_size_is_not_retryable(
    provider: AwsProvider, stacks: FakeStacks
) -> None:
    stacks.fail_next.append(RuntimeError(CAPACITY))
    with pytest.raises(ProvisioningFailed) as failed:
        await provider.wake(spec())
    assert failed.value.retryable is False
    assert "t4g.small unavailable (InsufficientInstanceCapacity)" in str(failed.value)
    fallback = await provider.wake(spec(provider.sizes[1]))
    assert fallback.size == "t4g.medium"


async def test_other_failures_are_retryable_and_a_locked_stack_stays_busy(
    provider: AwsProvider, stacks: FakeStacks
) -> None:
    stacks.fail_next.append(RuntimeError("error: dial tcp: i/o timeout"))
    with pytest.raises(ProvisioningFailed) as failed:
        await provider.wake(spec())
    assert failed.value.retryable is True
    assert "i/o timeout" in str(failed.value)
    stacks.fail_next.append(StackBusy("the stack is locked"))
    assert stacks.runs == {}
    with pytest.raises(StackBusy):
        await provider.wake(spec())


async def test_a_size_outside_the_settings_fails_without_touching_the_stack(
    provider: AwsProvider, stacks: FakeStacks
) -> None:
    with pytest.raises(ProvisioningFailed) as failed:
        await provider.wake(spec("x1e.32xlarge"))
    assert failed.value.retryable is False
    assert stacks.runs == {}


@pytest.mark.parametrize(
    ("message", "code"),
    [
        (CAPACITY, "InsufficientInstanceCapacity"),
        (
            "api error Unsupported: Your requested instance type (t4g.small) is not supported "
            "in your requested Availability Zone (us-east-1e).",
            "Unsupported",
        ),
        (
            "api error InstanceLimitExceeded: You have requested more instances (21) than your "
            "current instance limit of 20 allows",
            "InstanceLimitExceeded",
        ),
        ("api error VcpuLimitExceeded: You have requested more vCPU capacity", "VcpuLimitExceeded"),
        ("error (InvalidInstanceType)", "InvalidInstanceType"),
        ("api error AuthFailure: AWS was not able to validate the provided credentials", None),
        ("api error RequestLimitExceeded: Request limit exceeded.", None),
        ("unsupported protocol scheme", None),
        ("api error AddressLimitExceeded: The maximum number of addresses has been reached", None),
    ],
)
def test_which_errors_rule_the_size_out(message: str, code: str | None) -> None:
    assert size_unavailable(message) == code


def plugin_at(root: Path, name: str = "pulumi-resource-aws", *, mode: int = 0o755) -> Path:
    root.mkdir(parents=True, exist_ok=True)
    binary = root / name
    binary.write_text("#!/bin/sh\nexit 0\n")
    binary.chmod(mode)
    return binary


def test_the_plugin_version_is_the_packages() -> None:
    assert aws_plugin_version().split(".")[0] == "7"


def test_plugin_found_in_the_pulumi_home_cache(tmp_path: Path) -> None:
    binary = plugin_at(tmp_path / "home" / "plugins" / "resource-aws-v7.51.1")
    found = check_aws_plugin(
        pulumi_home=tmp_path / "home", path=str(tmp_path / "empty"), environ={}, version="7.51.1"
    )
    assert found == binary


def test_plugin_found_on_path_unless_ambient_plugins_are_ignored(tmp_path: Path) -> None:
    binary = plugin_at(tmp_path / "bin")
    home = tmp_path / "home"
    assert check_aws_plugin(pulumi_home=home, path=str(tmp_path / "bin"), environ={}) == binary
    with pytest.raises(AwsPluginMissing):
        check_aws_plugin(
            pulumi_home=home,
            path=str(tmp_path / "bin"),
            environ={"PULUMI_IGNORE_AMBIENT_PLUGINS": "true"},
        )


def test_pulumi_home_comes_from_the_environment(tmp_path: Path) -> None:
    binary = plugin_at(tmp_path / "ph" / "plugins" / "resource-aws-v7.51.1")
    environ = {"PULUMI_HOME": str(tmp_path / "ph"), "PATH": ""}
    assert check_aws_plugin(environ=environ, version="7.51.1") == binary


@pytest.mark.parametrize("case", ["absent", "other version", "not executable", "partial"])
def test_a_missing_plugin_says_how_to_install_it(tmp_path: Path, case: str) -> None:
    plugins = tmp_path / "home" / "plugins"
    if case == "other version":
        plugin_at(plugins / "resource-aws-v6.83.0")
    elif case == "not executable":
        plugin_at(plugins / "resource-aws-v7.51.1", mode=0o644)
    elif case == "partial":
        plugin_at(plugins / "resource-aws-v7.51.1")
        (plugins / "resource-aws-v7.51.1.partial").write_text("")
    with pytest.raises(AwsPluginMissing) as missing:
        check_aws_plugin(pulumi_home=tmp_path / "home", path="", environ={}, version="7.51.1")
    message = str(missing.value)
    assert f"PULUMI_HOME={tmp_path / 'home'} pulumi plugin install resource aws v7.51.1" in message
    assert str(plugins) in message


def test_the_default_check_looks_in_the_real_environment() -> None:
    if os.environ.get("PULUMI_HOME") or Path.home().joinpath(".pulumi", "plugins").exists():
        pytest.skip("this machine has a Pulumi plugin cache")
    with pytest.raises(AwsPluginMissing, match=f"install resource aws v{aws_plugin_version()}"):
        check_aws_plugin()


PULUMI = Path.home() / ".cache" / "plutarc" / "bin" / "pulumi"


@pytest.mark.slow
@pytest.mark.skipif(not PULUMI.exists(), reason="the pulumi CLI is not built (make pulumi)")
async def test_the_real_engine_without_the_plugin_fails_the_wake_clearly(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The stand-in stacks and the real program through the real engine, as far as it goes here:
    the engine registers the program's provider and stops at the missing plugin."""
    monkeypatch.setenv("PATH", f"{PULUMI.parent}{os.pathsep}{os.environ.get('PATH', '')}")
    (tmp_path / "state").mkdir()
    stacks = Stacks(
        PulumiSettings(
            data_dir=tmp_path, backend_url=f"file://{tmp_path / 'state'}", passphrase="test-only"
        ),
        "plutarc-compute-aws",
    )
    provider = AwsProvider(SETTINGS, stacks)
    assert await stacks.outputs(BOT) is None
    assert (await provider.observe(BOT)).address is None
    for _ in range(2):  # the failed update left no lock behind
        with pytest.raises(ProvisioningFailed) as failed:
            await provider.wake(spec())
        assert failed.value.retryable is True
        assert "no resource plugin 'pulumi-resource-aws'" in str(failed.value)
        assert f"v{aws_plugin_version()}" in str(failed.value)
    assert await stacks.outputs(BOT) == {}
