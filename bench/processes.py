"""Services run as child processes, as in production, and what they use (Linux /proc).

A service may serve from several processes (a supervisor and its workers): CPU time and
resident memory are read over the whole process tree, and `workers` says how many serve.
"""

from __future__ import annotations

import contextlib
import os
import resource
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import httpx

from .common import ROOT


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def tree(pid: int) -> list[int]:
    """`pid` and every process descended from it, found by parent id in /proc."""
    parents: dict[int, list[int]] = {}
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        with contextlib.suppress(OSError, IndexError, ValueError):
            ppid = int((entry / "stat").read_text().rsplit(")", 1)[1].split()[1])
            parents.setdefault(ppid, []).append(int(entry.name))
    found, todo = [], [pid]
    while todo:
        current = todo.pop()
        found.append(current)
        todo.extend(parents.get(current, ()))
    return found


def cpu_seconds(pid: int) -> float:
    """User + system CPU time of one process so far, or 0 where unavailable."""
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    except OSError:
        return 0.0
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def tree_cpu(pid: int) -> dict[int, float]:
    return {p: cpu_seconds(p) for p in tree(pid)}


def rss_mb(pid: int, field: str = "VmRSS") -> float:
    """Resident memory of one process in MB (VmRSS now, VmHWM its peak), 0 if it is gone."""
    with contextlib.suppress(OSError):
        for line in Path(f"/proc/{pid}/status").read_text().splitlines():
            if line.startswith(field + ":"):
                return int(line.split()[1]) / 1024
    return 0.0


def host_ticks() -> tuple[int, int]:
    """(busy, total) CPU ticks of the whole machine so far, all cores (Linux /proc/stat)."""
    try:
        values = [int(v) for v in Path("/proc/stat").read_text().split("\n", 1)[0].split()[1:]]
    except (OSError, ValueError):
        return 0, 0
    idle = values[3] + (values[4] if len(values) > 4 else 0)  # idle + iowait
    return sum(values) - idle, sum(values)


class Usage:
    """CPU used by one process tree and by the whole machine between start and stop."""

    def __init__(self, pid: int) -> None:
        self.pid = pid
        self.cpu0, self.host0, self.t0 = tree_cpu(pid), host_ticks(), time.perf_counter()
        self.children0 = self._children()
        self.each: list[float] = []  # CPU s of each busy process in the tree, set by stop()

    @staticmethod
    def _children() -> float:
        r = resource.getrusage(resource.RUSAGE_CHILDREN)  # children reaped so far, e.g. wrk
        return r.ru_utime + r.ru_stime

    def stop(self) -> tuple[float, float, float, float]:
        """(tree CPU s, wall s, machine busy fraction of all cores, CPU s of reaped children)."""
        now, wall = tree_cpu(self.pid), time.perf_counter() - self.t0
        each = {p: s - self.cpu0.get(p, 0.0) for p, s in now.items()}
        self.each = sorted((s for s in each.values() if s > 0.05 * wall), reverse=True)
        cpu = sum(each.values())
        (b1, t1), (b0, t0) = host_ticks(), self.host0
        busy = (b1 - b0) / (t1 - t0) if t1 > t0 else 0.0
        return cpu, wall, busy, self._children() - self.children0


@dataclass
class Child:
    name: str
    proc: subprocess.Popen[bytes]
    log: Path

    @property
    def workers(self) -> int:
        """Processes serving: the one process, or the workers its supervisor started
        (`python -m plutarc_api.workers`)."""
        spawned = 0
        for pid in tree(self.proc.pid)[1:]:
            with contextlib.suppress(OSError):
                spawned += b"plutarc_api.workers" in Path(f"/proc/{pid}/cmdline").read_bytes()
        return max(1, spawned)

    def rss_mb(self) -> tuple[float, list[float]]:
        """(sum, each process's) resident memory of the whole tree, in MB."""
        each = [rss_mb(p) for p in tree(self.proc.pid)]
        return sum(each), each

    def tail(self, lines: int = 30) -> str:
        with contextlib.suppress(OSError):
            return "\n".join(self.log.read_text(errors="replace").splitlines()[-lines:])
        return ""

    def stop(self, timeout: float = 20) -> None:
        if self.proc.poll() is None:
            # Both entry points stop cleanly on SIGINT; uvicorn re-raises the signal once it has
            # shut down, and SIGINT (unlike SIGTERM) then lets the profiler wrapper save its data.
            self.proc.send_signal(signal.SIGINT)
            try:
                self.proc.wait(timeout)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait(10)


@contextlib.contextmanager
def child(name: str, args: list[str], env: dict[str, str], work: Path) -> Iterator[Child]:
    """`python <args>` in its own session, logging to <work>/<name>.log; stopped on exit."""
    log = work / f"{name}.log"
    with open(log, "wb") as out:
        proc = subprocess.Popen(
            [sys.executable, *args],
            cwd=ROOT,
            env=env,
            stdin=subprocess.DEVNULL,
            stdout=out,
            stderr=subprocess.STDOUT,
            start_new_session=True,  # a Ctrl-C reaches the bench, which then stops it in order
        )
    running = Child(name, proc, log)
    try:
        yield running
    finally:
        running.stop()


def environment(**settings: object) -> dict[str, str]:
    """This environment without any PLUTARC_* (a developer's DATABASE_URL must not leak in)."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("PLUTARC_")}
    env.update({f"PLUTARC_{k.upper()}": str(v) for k, v in settings.items()})
    return env


def wait_ready(running: Child, url: str, timeout: float = 90) -> float:
    """Poll `url` until it answers 200; returns the seconds waited."""
    start = time.monotonic()
    deadline = start + timeout
    last = "no answer"
    while time.monotonic() < deadline:
        if running.proc.poll() is not None:
            raise RuntimeError(
                f"{running.name} exited with {running.proc.returncode} before it was ready:\n"
                + running.tail()
            )
        try:
            r = httpx.get(url, timeout=2)
            if r.status_code == 200:
                return time.monotonic() - start
            last = f"{r.status_code} {r.text[:200]}"
        except httpx.HTTPError as exc:
            last = repr(exc)
        time.sleep(0.1)
    raise TimeoutError(
        f"{running.name} not ready at {url} after {timeout:.0f} s ({last}):\n{running.tail()}"
    )


def wait_workers_ready(running: Child, base_url: str, timeout: float = 90) -> None:
    """Until every worker answers /ready with 200: each connection goes to one worker (the
    kernel picks), so ask on new connections until each worker's pid has answered."""
    deadline = time.monotonic() + timeout
    ready: set[int] = set()
    while len(ready) < running.workers:
        if running.proc.poll() is not None or time.monotonic() > deadline:
            raise RuntimeError(
                f"{running.name}: {len(ready)} of {running.workers} workers ready:\n{running.tail()}"
            )
        with contextlib.suppress(httpx.HTTPError), httpx.Client(base_url=base_url) as http:
            if http.get("/ready", timeout=2).status_code == 200:
                ready.add(http.get("/health", timeout=2).json()["worker"])
        time.sleep(0.05)
