"""The local provider's host as processes: started in a session of its own, found again from its
pid file, stopped as a whole process group. Runs inside Pulumi's dynamic-provider process.

A process is named by its pid and its start time (``/proc/<pid>/stat``), so a pid reused by
another process is never mistaken for the host. Zombies count as gone.
"""

from __future__ import annotations

import contextlib
import fcntl
import json
import os
import signal
import subprocess
import threading
import time
from collections.abc import Callable, Iterator, Mapping, Sequence
from dataclasses import asdict, dataclass
from pathlib import Path

HOST_ADDRESS_ENV = "PLUTARC_HOST_ADDRESS"
READY_FILE_ENV = "PLUTARC_HOST_READY_FILE"
BOT_ID_ENV = "PLUTARC_BOT_ID"
_PRIVATE_ENV = ("PULUMI_", "PLUTARC_PULUMI_")
"""Variables of the provider process a host must not inherit (the stacks' passphrase)."""


SPAWNING = threading.Lock()
"""Held from starting a host until its pid file names it."""


class HostFailed(RuntimeError):
    """The host did not become ready (it exited, or took too long); nothing of it is left."""


class HostNotStopped(RuntimeError):
    """Processes of the host's group survived SIGKILL."""


@dataclass(frozen=True)
class HostProcess:
    pid: int
    start_time: int
    """Clock ticks after boot at which the process started (``/proc/<pid>/stat`` field 22)."""
    address: str


@dataclass(frozen=True)
class _Stat:
    state: str
    pgrp: int
    start_time: int


def _stat(pid: int) -> _Stat | None:
    try:
        text = Path(f"/proc/{pid}/stat").read_text()
    except (OSError, ValueError):
        return None
    fields = text[text.rindex(")") + 2 :].split()
    return _Stat(state=fields[0], pgrp=int(fields[2]), start_time=int(fields[19]))


def _live(stat: _Stat | None) -> bool:
    return stat is not None and stat.state not in ("Z", "X")


def alive(pid: int, start_time: int) -> bool:
    """The process ``pid`` that started at ``start_time`` still runs."""
    stat = _stat(pid)
    return _live(stat) and stat is not None and stat.start_time == start_time


def group_members(pgid: int) -> list[int]:
    """Live processes of process group ``pgid``."""
    members = []
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            stat = _stat(int(entry.name))
            if _live(stat) and stat is not None and stat.pgrp == pgid:
                members.append(int(entry.name))
    return members


def holds_address(pid: int, address: str) -> bool:
    """The process was started as the host of ``address``."""
    try:
        environ = Path(f"/proc/{pid}/environ").read_bytes()
    except OSError:
        return False
    return f"{HOST_ADDRESS_ENV}={address}".encode() in environ.split(b"\0")


def _wait(condition: Callable[[], bool], timeout: float, poll: float = 0.02) -> bool:
    deadline = time.monotonic() + timeout
    while not condition():
        if time.monotonic() > deadline:
            return False
        time.sleep(poll)
    return True


def stop_group(pgid: int, grace: float, kill_wait: float = 5.0) -> None:
    """SIGTERM the group, SIGKILL what is left after ``grace`` seconds; raise if anything survives."""
    if not group_members(pgid):
        return
    with contextlib.suppress(ProcessLookupError, PermissionError):
        os.killpg(pgid, signal.SIGTERM)
    if _wait(lambda: not group_members(pgid), grace):
        return
    with contextlib.suppress(ProcessLookupError, PermissionError):
        os.killpg(pgid, signal.SIGKILL)
    if not _wait(lambda: not group_members(pgid), kill_wait):
        raise HostNotStopped(f"processes {group_members(pgid)} of group {pgid} survived SIGKILL")


@dataclass(frozen=True)
class HostRequest:
    """What the host resource's inputs ask for."""

    bot_id: str
    address: str
    command: Sequence[str]
    env: Mapping[str, str]
    run_dir: Path
    ready_timeout: float
    stop_grace: float

    @property
    def pid_file(self) -> Path:
        return self.run_dir / "host.json"

    @property
    def ready_file(self) -> Path:
        return self.run_dir / "ready"

    @property
    def log_file(self) -> Path:
        return self.run_dir / "host.log"

    def argv(self) -> list[str]:
        values = {"bot_id": self.bot_id, "address": self.address, "ready_file": self.ready_file}
        return [part.format(**values) for part in self.command]

    def environment(self) -> dict[str, str]:
        base = {k: v for k, v in os.environ.items() if not k.startswith(_PRIVATE_ENV)}
        return {
            **base,
            **self.env,
            BOT_ID_ENV: self.bot_id,
            HOST_ADDRESS_ENV: self.address,
            READY_FILE_ENV: str(self.ready_file),
        }


def read_pid_file(path: Path) -> HostProcess | None:
    try:
        return HostProcess(**json.loads(path.read_text()))
    except (OSError, ValueError, TypeError):
        return None


def _write_pid_file(path: Path, host: HostProcess) -> None:
    tmp = path.with_suffix(".tmp")
    tmp.write_text(json.dumps(asdict(host)))
    tmp.replace(path)


@contextlib.contextmanager
def host_lock(run_dir: Path) -> Iterator[None]:
    """One create or delete of a bot's host at a time, whatever started it."""
    run_dir.mkdir(parents=True, exist_ok=True)
    with open(run_dir / "host.lock", "w") as handle:
        fcntl.flock(handle, fcntl.LOCK_EX)
        yield


def ensure_host(request: HostRequest) -> HostProcess:
    """The bot's running host: the one its pid file names if it is alive and has the address
    (a create interrupted after it started one), else a new one. Returns once it is ready."""
    with host_lock(request.run_dir):
        known = read_pid_file(request.pid_file)
        if known is not None and alive(known.pid, known.start_time):
            if known.address == request.address and holds_address(known.pid, request.address):
                _wait_ready(request, known, None)
                return known
            stop_group(known.pid, request.stop_grace)
        return _start(request)


def _start(request: HostRequest) -> HostProcess:
    request.ready_file.unlink(missing_ok=True)
    with SPAWNING, open(request.log_file, "ab") as log:
        child = subprocess.Popen(
            request.argv(),
            env=request.environment(),
            cwd=request.run_dir,
            stdin=subprocess.DEVNULL,
            stdout=log,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
        stat = _stat(child.pid)
        host = HostProcess(child.pid, stat.start_time if stat else 0, request.address)
        _write_pid_file(request.pid_file, host)
    _wait_ready(request, host, child)
    return host


def _wait_ready(
    request: HostRequest, host: HostProcess, child: subprocess.Popen[bytes] | None
) -> None:
    def exited() -> bool:
        return child.poll() is not None if child else not alive(host.pid, host.start_time)

    _wait(lambda: request.ready_file.exists() or exited(), request.ready_timeout, poll=0.01)
    gone = exited()
    if request.ready_file.exists() and not gone:
        return
    code = child.poll() if child else None
    stop_group(host.pid, request.stop_grace)
    if child is not None:
        child.wait()
    request.pid_file.unlink(missing_ok=True)
    if gone:
        why = "exited" + (f" with status {code}" if code is not None else "")
    else:
        why = f"was not ready after {request.ready_timeout:g} s"
    raise HostFailed(f"the host of bot {request.bot_id} {why}; its log ends:\n{_tail(request)}")


def _tail(request: HostRequest, lines: int = 15) -> str:
    try:
        text = request.log_file.read_text(errors="replace")
    except OSError:
        return "(no log)"
    return "\n".join(text.splitlines()[-lines:]) or "(empty)"


def remove_host(request_dir: Path, pid: int, start_time: int, grace: float) -> None:
    """Stop the host (the group ``pid`` leads) and whatever host its pid file names."""
    with host_lock(request_dir):
        known = read_pid_file(request_dir / "host.json")
        for host_pid, started in {
            (pid, start_time),
            *([(known.pid, known.start_time)] if known else []),
        }:
            if alive(host_pid, started) or group_members(host_pid):
                stop_group(host_pid, grace)
        (request_dir / "host.json").unlink(missing_ok=True)
        (request_dir / "ready").unlink(missing_ok=True)
