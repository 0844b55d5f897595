"""The `local` provider: a bot's host on this machine, driven by Pulumi with a dynamic provider.

Two resources per bot's stack:

- **address** (`Address`): a loopback address from 127.16.0.0-127.254.255.255, allocated once per
  bot and recorded under ``<data_dir>/compute/addresses`` so no two bots share one, kept while the
  bot sleeps (the analogue of an Elastic IP); deleted only by `release`;
- **host** (`Host`): the bot's processes (by default ``plutarc bot run BOT_ID --egress-bind
  ADDRESS --ready-file FILE``), started in a session of their own with the address given, created
  on wake and deleted on sleep. Created means *running*: the create returns once the host wrote
  the file named by ``$PLUTARC_HOST_READY_FILE``. A create interrupted after it started a host
  (a killed `pulumi`) is finished by the next one, which adopts the host its pid file names.

docs/compute-providers.md
"""

from __future__ import annotations

import asyncio
import contextlib
import fcntl
import ipaddress
import os
import random
import sys
import threading
import time
from collections.abc import Iterator, Mapping, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any, Final

import pulumi
from pulumi import dynamic

from . import local_processes as procs
from .base import Awake, HostSpec, Observed, ProvisioningFailed
from .stacks import Program, PulumiSettings, StackFailed, Stacks

if TYPE_CHECKING:
    from ..settings import ComputeSettings

PROJECT: Final = "plutarc-local"
ADDRESS_FIRST: Final = int(ipaddress.IPv4Address("127.16.0.0"))
ADDRESS_LAST: Final = int(ipaddress.IPv4Address("127.254.255.255"))
"""Allocations come from here: about 15 million addresses, so two data directories on one machine
(two test sessions) practically never pick the same one; never 127.0.0.1 or 127.0.1.1."""


def default_command() -> list[str]:
    plutarc = Path(sys.executable).with_name("plutarc")
    bot_run = [str(plutarc), "bot", "run", "{bot_id}"]
    return [*bot_run, "--egress-bind", "{address}", "--ready-file", "{ready_file}"]


# --- the address ----------------------------------------------------------------------------------
@contextlib.contextmanager
def _flock(path: Path) -> Iterator[None]:
    path.parent.mkdir(parents=True, exist_ok=True)
    with open(path, "w") as handle:
        fcntl.flock(handle, fcntl.LOCK_EX)
        yield


def allocate_address(registry: Path, bot_id: str, rng: random.Random | None = None) -> str:
    """The bot's address: the one recorded for it, else a free one, recorded."""
    rng = rng or random.SystemRandom()
    by_bot = registry / "bots" / bot_id
    with _flock(registry / ".lock"):
        with contextlib.suppress(OSError):
            return by_bot.read_text().strip()
        (registry / "addresses").mkdir(parents=True, exist_ok=True)
        by_bot.parent.mkdir(parents=True, exist_ok=True)
        while True:
            address = ipaddress.IPv4Address(rng.randint(ADDRESS_FIRST, ADDRESS_LAST))
            if address.packed[-1] in (0, 255):
                continue
            try:
                fd = os.open(
                    registry / "addresses" / str(address), os.O_CREAT | os.O_EXCL | os.O_WRONLY
                )
            except FileExistsError:
                continue
            with os.fdopen(fd, "w") as handle:
                handle.write(bot_id)
            tmp = by_bot.with_suffix(".tmp")
            tmp.write_text(str(address))
            tmp.replace(by_bot)
            return str(address)


def free_address(registry: Path, bot_id: str, address: str) -> None:
    with _flock(registry / ".lock"):
        record = registry / "addresses" / address
        with contextlib.suppress(OSError):
            if record.read_text().strip() == bot_id:
                record.unlink()
        (registry / "bots" / bot_id).unlink(missing_ok=True)


class AddressProvider(dynamic.ResourceProvider):
    serialize_as_secret_always = False

    def create(self, props: dict[str, Any]) -> dynamic.CreateResult:
        address = allocate_address(Path(props["registry"]), props["bot_id"])
        return dynamic.CreateResult(address, {**_inputs(props), "address": address})

    def diff(self, _id: str, olds: dict[str, Any], news: dict[str, Any]) -> dynamic.DiffResult:
        moved = olds.get("bot_id") != news.get("bot_id")
        return dynamic.DiffResult(
            changes=moved, replaces=["bot_id"] if moved else [], delete_before_replace=True
        )

    def read(self, id_: str, props: dict[str, Any]) -> dynamic.ReadResult:
        return dynamic.ReadResult(id_, props)

    def delete(self, id_: str, props: dict[str, Any]) -> None:
        free_address(Path(props["registry"]), props["bot_id"], id_)


class Address(dynamic.Resource, module="plutarc", name="Address"):
    address: pulumi.Output[str]

    def __init__(self, name: str, bot_id: str, registry: str) -> None:
        props = {"bot_id": bot_id, "registry": registry, "address": None}
        super().__init__(AddressProvider(), name, props)


# --- the host -------------------------------------------------------------------------------------
_HOST_INPUTS = ("bot_id", "address", "command", "env", "run_dir", "ready_timeout", "stop_grace")
_REPLACED_ON = ("bot_id", "address", "command", "env", "run_dir")


def _inputs(props: Mapping[str, Any]) -> dict[str, Any]:
    return {k: v for k, v in props.items() if not k.startswith("__")}


def _request(props: Mapping[str, Any]) -> procs.HostRequest:
    return procs.HostRequest(
        bot_id=str(props["bot_id"]),
        address=str(props["address"]),
        command=[str(part) for part in props["command"]],
        env={str(k): str(v) for k, v in (props.get("env") or {}).items()},
        run_dir=Path(props["run_dir"]),
        ready_timeout=float(props["ready_timeout"]),
        stop_grace=float(props["stop_grace"]),
    )


class HostProvider(dynamic.ResourceProvider):
    serialize_as_secret_always = False

    def create(self, props: dict[str, Any]) -> dynamic.CreateResult:
        try:
            host = procs.ensure_host(_request(props))
        except procs.HostFailed as exc:
            raise Exception(str(exc)) from None
        outs = {k: props[k] for k in _HOST_INPUTS}
        return dynamic.CreateResult(
            str(host.pid), {**outs, "pid": host.pid, "start_time": host.start_time}
        )

    def diff(self, _id: str, olds: dict[str, Any], news: dict[str, Any]) -> dynamic.DiffResult:
        changed = [k for k in _REPLACED_ON if olds.get(k) != news.get(k)]
        if not procs.alive(int(olds.get("pid", 0)), int(olds.get("start_time", -1))):
            changed.append("pid")  # the host is gone (killed, the machine restarted): a new one
        return dynamic.DiffResult(
            changes=bool(changed), replaces=changed, delete_before_replace=True
        )

    def read(self, id_: str, props: dict[str, Any]) -> dynamic.ReadResult:
        if not procs.alive(int(props.get("pid", 0)), int(props.get("start_time", -1))):
            return dynamic.ReadResult(None, {})
        return dynamic.ReadResult(id_, _inputs(props))

    def delete(self, id_: str, props: dict[str, Any]) -> None:
        procs.remove_host(
            Path(props["run_dir"]),
            int(props.get("pid", id_)),
            int(props.get("start_time", -1)),
            float(props.get("stop_grace", 10)),
        )


class Host(dynamic.Resource, module="plutarc", name="Host"):
    pid: pulumi.Output[int]
    start_time: pulumi.Output[int]

    def __init__(self, name: str, props: dict[str, Any]) -> None:
        props = {**props, "pid": None, "start_time": None}
        super().__init__(HostProvider(), name, props)


# --- the provider ---------------------------------------------------------------------------------
class LocalProvider:
    """`base.Provider` on this machine. ``command`` is the host's argv template (``{bot_id}``,
    ``{address}``, ``{ready_file}``); the host is ready once it writes ``$PLUTARC_HOST_READY_FILE``.
    Pulumi operations of all bots run at most ``settings.max_concurrent`` at once."""

    name = "local"
    sizes: tuple[str, ...] = ("default",)

    def __init__(
        self,
        settings: PulumiSettings,
        *,
        command: Sequence[str] | None = None,
        ready_timeout: float = 60.0,
        stop_grace: float = 10.0,
        stacks: Stacks | None = None,
    ) -> None:
        self.stacks = stacks or Stacks(settings, PROJECT)
        self.command = list(command) if command is not None else default_command()
        self.ready_timeout = ready_timeout
        self.stop_grace = stop_grace
        self.root = (settings.data_dir / "compute").resolve()
        self._locks: dict[str, asyncio.Lock] = {}

    def run_dir(self, bot_id: str) -> Path:
        return self.root / "hosts" / bot_id

    async def wake(self, spec: HostSpec) -> Awake:
        if spec.size not in self.sizes:
            raise ProvisioningFailed(
                f"the local provider has no size {spec.size!r} (it has {', '.join(self.sizes)})",
                retryable=False,
            )
        async with self._lock(spec.bot_id):
            try:
                outputs = await self.stacks.up(spec.bot_id, self._program(spec.bot_id, spec))
            except StackFailed as exc:
                raise ProvisioningFailed(str(exc)) from None
        return Awake(address=outputs["address"], host_id=str(outputs["host_id"]), size=spec.size)

    async def sleep(self, bot_id: str) -> None:
        async with self._lock(bot_id):
            if await self.stacks.exists(bot_id):
                await self.stacks.up(bot_id, self._program(bot_id, None))

    async def release(self, bot_id: str) -> None:
        async with self._lock(bot_id):
            await self.stacks.destroy(bot_id)

    async def observe(self, bot_id: str) -> Observed:
        """From the stack's state: the address resource's address, and the host resource's process
        if it still runs (with that address given to it)."""
        resources = await self.stacks.resources(bot_id)
        by_kind = {str(r.get("type", "")).rsplit(":", 1)[-1]: r for r in resources or []}
        address = (by_kind.get("Address", {}).get("outputs") or {}).get("address")
        host = by_kind.get("Host")
        outs = (host or {}).get("outputs") or {}
        running = host is not None and procs.alive(
            int(outs.get("pid", 0)), int(outs.get("start_time", -1))
        )
        return Observed(
            address=address,
            host_id=str(host["id"]) if running and host else None,
            address_on_host=running
            and address is not None
            and procs.holds_address(int(outs["pid"]), address),
        )

    def _lock(self, bot_id: str) -> asyncio.Lock:
        return self._locks.setdefault(bot_id, asyncio.Lock())

    def _program(self, bot_id: str, spec: HostSpec | None) -> Program:
        registry = str(self.root / "addresses")
        host_props = None
        if spec is not None:
            host_props = {
                "bot_id": bot_id,
                "command": self.command,
                "env": dict(spec.env),
                "run_dir": str(self.run_dir(bot_id)),
                "ready_timeout": self.ready_timeout,
                "stop_grace": self.stop_grace,
            }

        def program() -> None:
            address = Address("address", bot_id, registry)
            pulumi.export("address", address.address)
            if host_props is None:
                return
            host = Host("host", {**host_props, "address": address.address})
            pulumi.export("host_id", host.id)
            pulumi.export("pid", host.pid)
            pulumi.export("start_time", host.start_time)

        return program


def make_local_provider(settings: ComputeSettings) -> LocalProvider:
    """The local provider the compute service's settings describe; `ProviderUnavailable` (naming
    scripts/ensure-pulumi) when the pulumi CLI is missing, so the service refuses to start."""
    provider = LocalProvider(
        PulumiSettings(
            data_dir=settings.data_dir,
            backend_url=settings.compute_pulumi_backend_url,
            passphrase=settings.compute_pulumi_passphrase.get_secret_value(),
            max_concurrent=settings.compute_max_concurrent_wakes,
        )
    )
    provider.stacks.check()
    return provider


# --- inside Pulumi's provider process -------------------------------------------------------------
def _watch_engine(poll: float = 0.2) -> None:
    """Exit when the `pulumi` that started this provider process is gone (killed in the middle of
    an update): the engine would never stop it. A host started by an interrupted create runs on,
    for the next create to adopt."""
    engine = os.getppid()

    def watch() -> None:
        while os.getppid() == engine:
            time.sleep(poll)
        with procs.SPAWNING:  # a host just started is in its pid file first
            os._exit(70)

    threading.Thread(target=watch, name="plutarc-engine-watch", daemon=True).start()


if os.environ.get("PLUTARC_PULUMI_PROVIDER_PROCESS") == "1":
    _watch_engine()
