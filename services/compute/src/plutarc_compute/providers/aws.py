"""The aws provider: `Provider` on top of the pulumi-aws program (`aws_program`), one stack per bot.

It drives the program through a small seam, `StackOps` ("run this program on the bot's stack:
up, destroy, outputs"), which the service wires to `providers.stacks` (file backend, locks).
`AutomationStacks` below is a minimal stand-in for that module, kept apart and marked as such.

AWS errors that mean "this size cannot be had now" (no capacity, not offered in the zone, an
instance quota) become ``ProvisioningFailed(retryable=False)``, so the caller tries the next size;
every other failure is retryable. `check_aws_plugin` tells whether the engine can find the
provider plugin, and how to install it when it cannot (docs/compute-aws.md).
"""

from __future__ import annotations

import json
import os
import re
import shutil
from collections.abc import Callable, Mapping
from importlib import resources
from pathlib import Path
from typing import Any, Protocol

from plutarc_compute.providers.aws_program import AwsConfigError, AwsSettings, program
from plutarc_compute.providers.base import (
    Awake,
    HostSpec,
    Observed,
    ProviderUnavailable,
    ProvisioningFailed,
    StackBusy,
)

Program = Callable[[], None]

SIZE_UNAVAILABLE_CODES = (
    "InsufficientInstanceCapacity",
    "InsufficientHostCapacity",
    "InstanceLimitExceeded",
    "VcpuLimitExceeded",
    "InvalidInstanceType",
    "Unsupported",
)
"""EC2 error codes after which only another instance type can succeed."""

_SIZE_UNAVAILABLE = re.compile(r"\b(" + "|".join(SIZE_UNAVAILABLE_CODES) + r")\b(?=:|\)|,|$)", re.M)


class StackOps(Protocol):
    """The seam to the stacks module: run a program on one bot's stack. ``up`` and ``destroy``
    raise `StackBusy` when the stack is locked by an update that is still alive."""

    async def up(self, bot_id: str, program: Program) -> Mapping[str, Any]:
        """Converge the stack on the program; its outputs."""
        ...

    async def destroy(self, bot_id: str) -> None:
        """Destroy the stack's resources and remove the stack."""
        ...

    async def outputs(self, bot_id: str) -> Mapping[str, Any] | None:
        """The last outputs; None when the bot has no stack (never woken, or destroyed)."""
        ...


def size_unavailable(message: str) -> str | None:
    """The EC2 error code in ``message`` that rules the size out, if any."""
    found = _SIZE_UNAVAILABLE.search(message)
    return found.group(1) if found else None


class AwsProvider:
    name = "aws"

    def __init__(self, settings: AwsSettings, stacks: StackOps) -> None:
        self.settings = settings
        self.stacks = stacks
        self.sizes: tuple[str, ...] = settings.sizes

    async def wake(self, spec: HostSpec) -> Awake:
        try:
            run = program(
                spec.bot_id, awake=True, size=spec.size, settings=self.settings, env=spec.env
            )
        except AwsConfigError as exc:
            raise ProvisioningFailed(str(exc), retryable=False) from exc
        try:
            outputs = await self.stacks.up(spec.bot_id, run)
        except StackBusy:
            raise
        except Exception as exc:
            raise _failed(spec, exc) from exc
        address, host_id = outputs.get("address"), outputs.get("instance_id")
        if not address or not host_id:
            raise ProvisioningFailed(f"bot {spec.bot_id}: the stack's outputs lack {outputs!r}")
        return Awake(address=str(address), host_id=str(host_id), size=spec.size)

    async def sleep(self, bot_id: str) -> None:
        """Converge on the Elastic IP alone; nothing for a bot that has no stack (an `up` would
        allocate it an address)."""
        if await self.stacks.outputs(bot_id) is None:
            return
        await self.stacks.up(bot_id, self._asleep(bot_id, keep_address=True))

    async def release(self, bot_id: str) -> None:
        """Lift the address's protection, then destroy the stack."""
        if await self.stacks.outputs(bot_id) is None:
            return
        unprotected = self._asleep(bot_id, keep_address=False)
        await self.stacks.up(bot_id, unprotected)
        await self.stacks.destroy(bot_id)

    async def observe(self, bot_id: str) -> Observed:
        outputs = await self.stacks.outputs(bot_id) or {}
        address, host_id = outputs.get("address"), outputs.get("instance_id")
        return Observed(
            address=str(address) if address else None,
            host_id=str(host_id) if host_id else None,
            address_on_host=bool(address and host_id),
        )

    def _asleep(self, bot_id: str, *, keep_address: bool) -> Program:
        return program(
            bot_id,
            awake=False,
            size=self.sizes[0],
            settings=self.settings,
            keep_address=keep_address,
        )


def _failed(spec: HostSpec, exc: Exception) -> ProvisioningFailed:
    text = str(exc)
    code = size_unavailable(text)
    lines = [line.strip() for line in text.splitlines() if line.strip()]
    errors = [line for line in lines if "error:" in line.lower()]
    tail = (errors or lines or [type(exc).__name__])[-1]
    if code:
        return ProvisioningFailed(
            f"bot {spec.bot_id}: {spec.size} unavailable ({code}): {tail}", retryable=False
        )
    return ProvisioningFailed(f"bot {spec.bot_id}: wake on {spec.size} failed: {tail}")


class AwsPluginMissing(ProviderUnavailable):
    """The engine cannot find `pulumi-resource-aws`: the service refuses to start on aws."""


def aws_plugin_version() -> str:
    """The plugin version the installed pulumi-aws package asks the engine for."""
    meta = resources.files("pulumi_aws").joinpath("pulumi-plugin.json").read_text("utf-8")
    return str(json.loads(meta)["version"])


def check_aws_plugin(
    *,
    pulumi_home: Path | None = None,
    path: str | None = None,
    environ: Mapping[str, str] | None = None,
    version: str | None = None,
) -> Path:
    """Where the engine will find the aws plugin, or `AwsPluginMissing` saying how to install it.

    The engine looks first for an *ambient* plugin, an executable `pulumi-resource-aws` on PATH
    (unless PULUMI_IGNORE_AMBIENT_PLUGINS is set), then in its plugin cache,
    ``$PULUMI_HOME/plugins/resource-aws-v<version>/`` (PULUMI_HOME defaults to ~/.pulumi),
    which `pulumi plugin install` fills; a ``.partial`` marker beside it means an interrupted
    install. Automatic acquisition is off here, so the cache must hold this exact version.
    """
    env = os.environ if environ is None else environ
    version = version or aws_plugin_version()
    binary = "pulumi-resource-aws"
    if env.get("PULUMI_IGNORE_AMBIENT_PLUGINS", "").lower() not in ("1", "true"):
        ambient = shutil.which(binary, path=env.get("PATH", "") if path is None else path)
        if ambient:
            return Path(ambient)
    home = pulumi_home or Path(env.get("PULUMI_HOME") or Path.home() / ".pulumi")
    plugins = home / "plugins"
    cached = plugins / f"resource-aws-v{version}" / binary
    partial = plugins / f"resource-aws-v{version}.partial"
    if cached.is_file() and os.access(cached, os.X_OK) and not partial.exists():
        return cached
    home_hint = "" if pulumi_home is None and "PULUMI_HOME" not in env else f"PULUMI_HOME={home} "
    raise AwsPluginMissing(
        f"the Pulumi AWS provider plugin {binary} v{version} is not installed "
        f"(not on PATH, not in {plugins}); install it with "
        f"`{home_hint}pulumi plugin install resource aws v{version}` on a machine that can reach "
        "Pulumi's plugin downloads (docs/compute-aws.md)"
    )
