"""Pulumi's Automation API as the compute providers use it: one stack per bot, an inline program.

Every operation runs the `pulumi` CLI (built by scripts/ensure-pulumi) in a thread, at most
``max_concurrent`` at once. A stack another update holds (`ConcurrentUpdateError`) is retried with
backoff within ``lock_budget_seconds``, then `StackBusy`. A lock whose holder is gone (a `pulumi`
killed in the middle of an update) is recovered on a file backend: the file backend keeps one JSON
file per lock under ``.pulumi/locks/<org>/<project>/<stack>/`` naming the holder's pid and host,
and the checkpoint keeps the interrupted operations as ``pending_operations``. A lock held by a
process of this host that no longer runs is deleted, then a refresh that clears the pending creates
repairs the state (the providers' creates adopt what the interrupted one made).
docs/compute-providers.md
"""

from __future__ import annotations

import asyncio
import contextlib
import fcntl
import functools
import json
import os
import random
import re
import shutil
import socket
import subprocess
import sys
import tempfile
import time
from collections.abc import Awaitable, Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, Final, TypeVar
from urllib.parse import unquote, urlparse

from plutarc_access.opa_server import bin_dir
from pulumi import automation as auto
from pulumi.automation._stack import StackInitMode

from .base import ProviderUnavailable, StackBusy

PULUMI_VERSION: Final = "v3.274.1"
"""The CLI scripts/ensure-pulumi builds (pinned there too)."""
REPO_ROOT: Final = Path(__file__).resolve().parents[5]
"""The checkout, when run from one (tests and benchmarks); meaningless in an installed package."""
LAUNCHER_DIR: Final = Path(__file__).resolve().parent / "launcher"
"""Holds `pulumi-resource-pulumi-python`, the plugin dynamic providers need."""
_STACK_NAME = re.compile(r"[A-Za-z0-9][A-Za-z0-9_.-]{0,99}")

T = TypeVar("T")
Program = Callable[[], None]


class PulumiMissing(ProviderUnavailable):
    """No `pulumi` binary where the settings say; the message says how to build one."""


class StackFailed(RuntimeError):
    """A Pulumi operation failed for another reason than a lock; the message has its output."""


@dataclass(frozen=True)
class PulumiSettings:
    """Where the Pulumi workspace lives and how it is driven (the compute service's settings)."""

    data_dir: Path
    backend_url: str | None = None
    """Any Pulumi backend URL; `file://<data_dir>/pulumi` when None."""
    passphrase: str = ""
    """PULUMI_CONFIG_PASSPHRASE: protects the stacks' secrets (the providers keep none)."""
    home: Path | None = None
    """PULUMI_HOME; `<data_dir>/pulumi-home` when None."""
    python: str = field(default_factory=lambda: sys.executable)
    """The interpreter the dynamic-provider launcher runs (PLUTARC_PULUMI_PYTHON)."""
    bin_dir: Path = field(default_factory=bin_dir)
    """Where scripts/ensure-pulumi puts `pulumi`."""
    launcher_dir: Path = LAUNCHER_DIR
    lock_budget_seconds: float = 60.0
    """How long a locked stack is retried before `StackBusy`."""
    max_concurrent: int = 4
    """Pulumi operations (each a CLI and a provider process) running at once."""

    @property
    def backend(self) -> str:
        return self.backend_url or f"file://{(self.data_dir / 'pulumi').resolve()}"

    @property
    def pulumi_home(self) -> Path:
        return self.home or self.data_dir / "pulumi-home"

    def env(self) -> dict[str, str]:
        """The environment of every `pulumi` run (and so of the provider processes it starts)."""
        path = os.pathsep.join(
            [str(self.launcher_dir), str(self.bin_dir), os.environ.get("PATH", os.defpath)]
        )
        return {
            "PULUMI_BACKEND_URL": self.backend,
            "PULUMI_HOME": str(self.pulumi_home),
            "PULUMI_CONFIG_PASSPHRASE": self.passphrase,
            "PULUMI_SKIP_UPDATE_CHECK": "true",
            "PULUMI_DISABLE_AUTOMATIC_PLUGIN_ACQUISITION": "true",
            "PULUMI_AUTOMATION_API_SKIP_VERSION_CHECK": "true",
            "PLUTARC_PULUMI_PYTHON": self.python,
            "PATH": path,
        }


def stack_name(bot_id: str) -> str:
    name = f"bot-{bot_id}"
    if not _STACK_NAME.fullmatch(name):
        raise ValueError(f"{bot_id!r} cannot name a stack")
    return name


def pulumi_command(settings: PulumiSettings) -> auto.PulumiCommand:
    """The CLI the settings name; `PulumiMissing` when it is not there or does not run."""
    binary = settings.bin_dir / "pulumi"
    how = "build it with scripts/ensure-pulumi (make pulumi; Go is needed, about 7 minutes once)"
    if not os.access(binary, os.X_OK):
        raise PulumiMissing(f"no pulumi CLI at {binary}: {how}")
    root = binary.parent.parent
    if binary.parent.name != "bin":  # PulumiCommand runs <root>/bin/pulumi: give it one
        root = settings.pulumi_home / "cli"
        link = root / "bin" / "pulumi"
        link.parent.mkdir(parents=True, exist_ok=True)
        if not link.is_symlink() or link.readlink() != binary:
            link.unlink(missing_ok=True)
            link.symlink_to(binary)
    try:
        return auto.PulumiCommand(root=str(root), skip_version_check=True)
    except (OSError, subprocess.SubprocessError) as exc:
        raise PulumiMissing(f"the pulumi CLI at {binary} does not run ({exc}): {how}") from None


def _output_tail(exc: auto.CommandError, lines: int = 25) -> str:
    text = str(exc).strip().splitlines()
    return "\n".join(text[-lines:])


class Stacks:
    """The bots' stacks of one Pulumi project."""

    def __init__(
        self,
        settings: PulumiSettings,
        project: str,
        *,
        rng: random.Random | None = None,
        monotonic: Callable[[], float] = time.monotonic,
        sleep: Callable[[float], Awaitable[None]] = asyncio.sleep,
    ) -> None:
        self.settings = settings
        self.project = project
        self._rng = rng or random.Random()
        self._monotonic, self._sleep = monotonic, sleep
        self._command: auto.PulumiCommand | None = None
        self._stacks: dict[str, auto.Stack] = {}
        self._work: Path | None = None
        self._gate = asyncio.Semaphore(settings.max_concurrent)
        self._threads = ThreadPoolExecutor(settings.max_concurrent + 1, "plutarc-pulumi")
        self.lock_waits = 0
        """Attempts that found the stack locked by a live update and waited."""
        self.recovered = 0
        """Locks left by a dead process that were removed."""

    def check(self) -> str:
        """The CLI's version; `PulumiMissing` (naming scripts/ensure-pulumi) when there is none.
        For the service to call at startup, before any bot needs a host."""
        if self._command is None:
            self._command = pulumi_command(self.settings)
        return str(self._command.version)

    def close(self) -> None:
        self._threads.shutdown(wait=False, cancel_futures=True)
        if self._work is not None:
            shutil.rmtree(self._work, ignore_errors=True)
            self._work = None
            self._stacks.clear()

    # --- operations -------------------------------------------------------------------------------
    async def up(self, bot_id: str, program: Program) -> dict[str, Any]:
        """Make the stack match ``program``; its outputs."""

        def op(stack: auto.Stack) -> dict[str, Any]:
            result = stack.up(program=program, color="never", suppress_progress=True)
            return {k: v.value for k, v in result.outputs.items()}

        return await self._run(bot_id, "up", op)

    async def destroy(self, bot_id: str) -> None:
        """Delete every resource of the stack, then the stack itself."""
        if not await self.exists(bot_id):
            return

        def op(stack: auto.Stack) -> None:
            stack.destroy(color="never", suppress_progress=True, remove=True)

        await self._run(bot_id, "destroy", op)
        self._stacks.pop(bot_id, None)

    async def outputs(self, bot_id: str) -> dict[str, Any] | None:
        """The stack's outputs; None when it has no stack."""
        if not await self.exists(bot_id):
            return None

        def op(stack: auto.Stack) -> dict[str, Any]:
            return {k: v.value for k, v in stack.outputs().items()}

        return await self._run(bot_id, "stack output", op)

    async def export(self, bot_id: str) -> dict[str, Any] | None:
        """The stack's deployment (resources, pending operations); None when it has no stack."""
        if not await self.exists(bot_id):
            return None

        def op(stack: auto.Stack) -> dict[str, Any]:
            return dict(stack.export_stack().deployment or {})

        return await self._run(bot_id, "stack export", op)

    async def resources(self, bot_id: str) -> list[dict[str, Any]] | None:
        """The resources the stack's state holds (with their ``type``, ``id`` and ``outputs``);
        None when it has no stack. Read from the checkpoint on a file backend, no CLI run."""
        checkpoint = self._checkpoint(stack_name(bot_id))
        if checkpoint is not None:
            if not await self.exists(bot_id):
                return None
            found = _checkpoint_resources(checkpoint)
            if found is not None:
                return found
        deployment = await self.export(bot_id)
        if deployment is None:
            return None
        return list(deployment.get("resources") or [])

    async def exists(self, bot_id: str) -> bool:
        checkpoint = self._checkpoint(stack_name(bot_id))
        if checkpoint is not None:
            return checkpoint.exists() or checkpoint.with_suffix(".json.gz").exists()
        try:
            await self._stack(bot_id, create=False)
        except auto.StackNotFoundError:
            return False
        return True

    # --- machinery --------------------------------------------------------------------------------
    async def _run(self, bot_id: str, what: str, op: Callable[[auto.Stack], T]) -> T:
        name = stack_name(bot_id)
        deadline = self._monotonic() + self.settings.lock_budget_seconds
        delay = 0.2
        while True:
            async with self._gate:
                stack: auto.Stack | None = None
                try:
                    stack = await self._stack(bot_id)
                    return await self._thread(op, stack)
                except auto.ConcurrentUpdateError as exc:
                    busy = exc
                except auto.CommandError as exc:
                    raise StackFailed(
                        f"pulumi {what} of stack {name} failed:\n{_output_tail(exc)}"
                    ) from None
                if stack is not None and await self._thread(self._recover, stack):
                    continue
            if self._monotonic() + delay > deadline:
                raise StackBusy(
                    f"stack {name} stayed locked for {self.settings.lock_budget_seconds:.0f} s:"
                    f"\n{_output_tail(busy, 6)}"
                )
            self.lock_waits += 1
            await self._sleep(delay * (0.5 + self._rng.random()))
            delay = min(delay * 2, 2.0)

    async def _thread(self, fn: Callable[..., T], *args: Any) -> T:
        """Blocking Pulumi calls run on threads of their own (the CLI runs minutes at worst)."""
        loop = asyncio.get_running_loop()
        return await loop.run_in_executor(self._threads, functools.partial(fn, *args))

    async def _stack(self, bot_id: str, *, create: bool = True) -> auto.Stack:
        stack = self._stacks.get(bot_id)
        if stack is not None:
            return stack
        stack = await self._thread(self._open, stack_name(bot_id), create)
        self._stacks[bot_id] = stack
        return stack

    def _open(self, name: str, create: bool) -> auto.Stack:
        if self._command is None:
            self._command = pulumi_command(self.settings)
        work_dir = self._work_root() / name
        work_dir.mkdir(parents=True, exist_ok=True)
        self.settings.pulumi_home.mkdir(parents=True, exist_ok=True)
        state = self._state_dir()
        if state is not None:
            state.mkdir(parents=True, exist_ok=True)
        workspace = auto.LocalWorkspace(
            work_dir=str(work_dir),
            pulumi_home=str(self.settings.pulumi_home),
            env_vars=self.settings.env(),
            project_settings=auto.ProjectSettings(
                name=self.project,
                runtime="python",
                backend=auto.ProjectBackend(self.settings.backend),
            ),
            pulumi_command=self._command,
        )
        checkpoint = self._checkpoint(name)
        if checkpoint is None:
            mode = StackInitMode.CREATE_OR_SELECT if create else StackInitMode.SELECT
        else:
            new = create and not any(checkpoint.parent.glob(f"{name}.json*"))
            mode = StackInitMode.CREATE if new else StackInitMode.SELECT
        try:
            return _Stack(name, workspace, mode, checkpoint)
        except (auto.StackAlreadyExistsError, auto.ConcurrentUpdateError):
            # another process created it a moment ago (and may be updating it already)
            return _Stack(name, workspace, StackInitMode.SELECT, checkpoint)

    def _work_root(self) -> Path:
        """This instance's own work directories: a workspace writes its Pulumi.yaml there, and
        two services (or two providers in a test) must not rewrite the file the other's CLI reads."""
        if self._work is None:
            parent = self.settings.data_dir / "pulumi-work"
            parent.mkdir(parents=True, exist_ok=True)
            self._work = Path(tempfile.mkdtemp(prefix=f"{self.project}-{os.getpid()}-", dir=parent))
        return self._work

    def _checkpoint(self, name: str) -> Path | None:
        state = self._state_dir()
        if state is None:
            return None
        return state / ".pulumi" / "stacks" / self.project / f"{name}.json"

    def _state_dir(self) -> Path | None:
        """The file backend's directory, or None for another backend."""
        url = urlparse(self.settings.backend)
        if url.scheme != "file":
            return None
        return Path(unquote(url.netloc + url.path)).expanduser()

    # --- locks left by dead processes -------------------------------------------------------------
    def lock_files(self, name: str) -> list[Path]:
        state = self._state_dir()
        if state is None:
            return []
        where = state / ".pulumi" / "locks" / "organization" / self.project / name
        return sorted(where.glob("*.json")) if where.is_dir() else []

    def _recover(self, stack: auto.Stack) -> bool:
        """Remove the locks of ``stack`` whose holder is gone, then repair its pending operations;
        whether any lock was removed. Only a file backend records holders this host can check."""
        state = self._state_dir()
        if state is None:
            return False
        removed = False
        with _flock(state / ".plutarc" / f"recover-{self.project}-{stack.name}.lock"):
            for path in self.lock_files(stack.name):
                if _holder_gone(path):
                    path.unlink(missing_ok=True)
                    path.with_name(path.name + ".attrs").unlink(missing_ok=True)
                    removed = True
            if not removed:
                return False
            self.recovered += 1
            try:
                stack.refresh(color="never", suppress_progress=True, clear_pending_creates=True)
            except auto.ConcurrentUpdateError:
                pass  # another caller is already updating it: the lock is live again
            except auto.CommandError as exc:
                raise StackFailed(
                    f"pulumi refresh of stack {stack.name} after removing a dead update's lock "
                    f"failed:\n{_output_tail(exc)}"
                ) from None
        return True


class _Stack(auto.Stack):
    """A stack whose `up` costs one CLI run instead of four: the Automation API follows every
    update with `stack output` twice (to tell secrets apart) and `stack history` (for a summary).
    The providers keep no secret in outputs and read no summary, so on a file backend the outputs
    come from the checkpoint the update just wrote, and the summary is a placeholder."""

    def __init__(
        self, name: str, workspace: auto.Workspace, mode: StackInitMode, checkpoint: Path | None
    ) -> None:
        self.checkpoint = checkpoint
        super().__init__(name, workspace, mode)

    def outputs(self) -> auto.OutputMap:
        values = _checkpoint_outputs(self.checkpoint) if self.checkpoint else None
        if values is None:
            return super().outputs()
        return {k: auto.OutputValue(v, False) for k, v in values.items()}

    def info(self, show_secrets: bool = True) -> auto.UpdateSummary | None:
        now = datetime.now(UTC)
        return auto.UpdateSummary(
            kind="update",
            start_time=now,
            message="",
            environment={},
            config={},
            result="succeeded",
            end_time=now,
        )


_SECRET_SIG = "4dabf18193072939515e22adb298388d"


def _checkpoint_resources(path: Path) -> list[dict[str, Any]] | None:
    """The resources of the file backend's checkpoint; None if it cannot say (no such file,
    another format, a secret)."""
    try:
        latest = json.loads(path.read_text())["checkpoint"].get("latest") or {}
        resources = list(latest.get("resources") or [])
    except (OSError, ValueError, KeyError, TypeError, AttributeError):
        return None
    if _SECRET_SIG in json.dumps([r.get("outputs") for r in resources]):
        return None
    return resources


def _checkpoint_outputs(path: Path) -> dict[str, Any] | None:
    """The stack's outputs as the file backend's checkpoint holds them; None if it cannot say."""
    resources = _checkpoint_resources(path)
    if resources is None:
        return None
    for resource in resources:
        if resource.get("type") == "pulumi:pulumi:Stack":
            outputs: dict[str, Any] = resource.get("outputs") or {}
            return outputs
    return {}


@contextlib.contextmanager
def _flock(path: Path) -> Iterator[None]:
    path.parent.mkdir(parents=True, exist_ok=True)
    with open(path, "w") as handle:
        fcntl.flock(handle, fcntl.LOCK_EX)
        yield


def _holder_gone(lock: Path) -> bool:
    """The lock was written by a process of this host that is no longer a running `pulumi`."""
    try:
        content = json.loads(lock.read_text())
        pid, host = int(content["pid"]), str(content["hostname"])
    except (OSError, ValueError, KeyError, TypeError):
        return False
    if host != socket.gethostname():
        return False
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return True
    name = stat[stat.index("(") + 1 : stat.rindex(")")]
    state = stat[stat.rindex(")") + 2 :].split(" ", 1)[0]
    return state in ("Z", "X") or name != "pulumi"
