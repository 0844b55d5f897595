"""PLUTARC_WORKERS > 1: a supervisor and that many worker processes behind the one port.

Each worker listens on a socket of its own, bound to the port with SO_REUSEPORT, and the kernel
spreads new connections over those sockets. (uvicorn's supervisor shares one listening socket, and
whichever worker woke first accepted: under load one worker often took every connection.) The
supervisor holds a socket bound to the port but not listening: it settles the port once for all
workers (0 picks a free one) and keeps it for the API while a worker restarts; since it does not
listen, no connection is ever queued on it. Before that it checks that nothing else holds the port:
SO_REUSEPORT would otherwise let a second API started on the same port share its connections.

The supervisor imports neither the app nor its runtime, so it stays small. It starts each worker as
`python -m plutarc_api.workers PORT FD`, FD being the worker's end of a socket pair: the worker
writes `ready` there once it serves, and reads end-of-file there if the supervisor dies, which
makes it stop. A worker that exits before it is ready is a failed start: the supervisor stops the
others and exits with status 3. One that exits later is replaced. SIGTERM or SIGINT to the
supervisor sends each worker one SIGTERM (a worker ignores SIGINT, which a Ctrl-C also sends it
directly), waits for them to shut down, SIGKILLs those still running after `grace` seconds, and
exits 0.
"""

from __future__ import annotations

import contextlib
import logging
import selectors
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Sequence
from dataclasses import dataclass, field
from types import FrameType

from .settings import ApiSettings

log = logging.getLogger(__name__)

STARTUP_FAILURE = 3  # uvicorn's status for a server that did not start
READY = b"ready\n"


def _address(host: str, port: int) -> tuple[socket.AddressFamily, tuple[str, int]]:
    family, _, _, _, address = socket.getaddrinfo(
        host, port, type=socket.SOCK_STREAM, proto=socket.IPPROTO_TCP, flags=socket.AI_PASSIVE
    )[0]
    return family, address[:2]  # type: ignore[return-value]


def listener(host: str, port: int, *, reuse_port: bool = True) -> socket.socket:
    """A TCP socket bound to (host, port), not yet listening.

    Marked IPPROTO_TCP: asyncio sets TCP_NODELAY only on connections accepted from a socket that
    says so, and without it every keep-alive response waited about 40 ms for the client's delayed
    ACK (Kludex/uvicorn#3149)."""
    if reuse_port and not hasattr(socket, "SO_REUSEPORT"):
        raise OSError("PLUTARC_WORKERS > 1 needs SO_REUSEPORT (Linux, the BSDs, macOS)")
    family, address = _address(host, port)
    sock = socket.socket(family, socket.SOCK_STREAM, socket.IPPROTO_TCP)
    try:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        if reuse_port:
            sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEPORT, 1)
        sock.bind(address)
    except OSError:
        sock.close()
        raise
    return sock


def reserve_port(host: str, port: int) -> socket.socket:
    """The supervisor's socket on the port (bound, never listening); OSError if it is taken."""
    with listener(host, port, reuse_port=False) as probe:  # taken by anyone: EADDRINUSE here
        port = probe.getsockname()[1]
    return listener(host, port)


@dataclass
class Worker:
    proc: subprocess.Popen[bytes]
    channel: socket.socket
    ready: bool = False

    def signal(self, signum: int) -> None:
        if self.proc.poll() is None:
            with contextlib.suppress(ProcessLookupError):
                self.proc.send_signal(signum)


def worker_command() -> list[str]:
    """A worker's argv, to which the supervisor adds PORT and FD."""
    return [sys.executable, "-m", "plutarc_api.workers"]


@dataclass
class Supervisor:
    settings: ApiSettings
    grace: float = 30.0
    """Seconds the workers get to shut down after SIGTERM before they are killed."""
    command: Sequence[str] | None = None
    """The worker's argv before PORT and FD (tests start lighter workers); default: ours."""
    workers: list[Worker] = field(default_factory=list, init=False)
    port: int = field(default=0, init=False)
    """The port the workers serve on, once `run` has bound it."""
    _stop: int | None = field(default=None, init=False)

    def run(self) -> int:
        s = self.settings
        try:
            held = reserve_port(s.http_host, s.http_port)
        except OSError as exc:
            log.error("cannot bind the API port", extra={"port": s.http_port, "error": str(exc)})
            return STARTUP_FAILURE
        self.port = held.getsockname()[1]
        wake_r, wake_w = socket.socketpair()
        wake_r.setblocking(False)
        wake_w.setblocking(False)
        previous = {
            sig: signal.signal(sig, self._on_signal)
            for sig in (signal.SIGTERM, signal.SIGINT, signal.SIGCHLD)
        }
        old_wakeup = signal.set_wakeup_fd(wake_w.fileno())
        selector = selectors.DefaultSelector()
        selector.register(wake_r, selectors.EVENT_READ)
        try:
            for _ in range(s.workers):
                self._start(selector)
            log.info(
                "API workers starting",
                extra={"port": self.port, "workers": s.workers, "host": s.http_host},
            )
            return self._watch(selector, wake_r)
        finally:
            self._stop_all()
            signal.set_wakeup_fd(old_wakeup)
            for sig, handler in previous.items():
                signal.signal(sig, handler)
            selector.close()
            for sock in (wake_r, wake_w, held):
                sock.close()

    def _on_signal(self, signum: int, _frame: FrameType | None) -> None:
        if signum != signal.SIGCHLD and self._stop is None:
            self._stop = signum

    def _start(self, selector: selectors.BaseSelector) -> Worker:
        ours, theirs = socket.socketpair()
        argv = [*(self.command or worker_command()), str(self.port), str(theirs.fileno())]
        try:
            proc = subprocess.Popen(argv, pass_fds=[theirs.fileno()], stdin=subprocess.DEVNULL)
        finally:
            theirs.close()
        worker = Worker(proc, ours)
        self.workers.append(worker)
        selector.register(ours, selectors.EVENT_READ, worker)
        return worker

    def _watch(self, selector: selectors.BaseSelector, wake: socket.socket) -> int:
        announced = False
        while self._stop is None:
            for key, _ in selector.select(timeout=1.0):  # signals and channels wake it at once
                if key.fileobj is wake:
                    with contextlib.suppress(BlockingIOError):
                        while wake.recv(512):
                            pass
                    continue
                worker: Worker = key.data
                try:
                    said = worker.channel.recv(64)
                except OSError:
                    said = b""
                if said.startswith(READY):
                    worker.ready = True
                if not said:  # the worker closed its end: it is exiting
                    selector.unregister(worker.channel)
            for worker in list(self.workers):
                code = worker.proc.poll()
                if code is None:
                    continue
                if not worker.ready:
                    log.error(
                        "an API worker exited before it served; stopping",
                        extra={"pid": worker.proc.pid, "status": code},
                    )
                    return STARTUP_FAILURE
                log.warning(
                    "an API worker exited; starting another",
                    extra={"pid": worker.proc.pid, "status": code},
                )
                self._forget(selector, worker)
                self._start(selector)
            if not announced and all(w.ready for w in self.workers):
                announced = True
                log.info(
                    "API workers serving",
                    extra={"port": self.port, "pids": [w.proc.pid for w in self.workers]},
                )
        log.info("API workers stopping", extra={"signal": self._stop})
        return 0

    def _forget(self, selector: selectors.BaseSelector, worker: Worker) -> None:
        with contextlib.suppress(KeyError, ValueError):
            selector.unregister(worker.channel)
        worker.channel.close()
        self.workers.remove(worker)

    def _stop_all(self) -> None:
        for worker in self.workers:
            worker.signal(signal.SIGTERM)
        deadline = time.monotonic() + self.grace
        for worker in self.workers:
            try:
                worker.proc.wait(max(0.0, deadline - time.monotonic()))
            except subprocess.TimeoutExpired:
                log.warning("an API worker did not stop in time; killing it")
                worker.signal(signal.SIGKILL)
                worker.proc.wait()
            worker.channel.close()
        self.workers.clear()


def serve_worker(port: int, fd: int) -> int:
    """One worker: the app on a SO_REUSEPORT socket of its own, reporting to the supervisor."""
    import asyncio

    from plutarc_runtime.logs import configure_logging

    from .main import ApiServer, serve

    channel = socket.socket(fileno=fd)
    channel.set_inheritable(False)
    settings = ApiSettings(http_port=port)
    configure_logging("api", settings.log_level, settings.log_json)
    sock = listener(settings.http_host, port)

    def started(server: ApiServer) -> None:
        channel.sendall(READY)
        loop = asyncio.get_running_loop()

        def supervisor_gone() -> None:  # the supervisor never writes: readable means closed
            loop.remove_reader(channel.fileno())
            log.warning("the API supervisor is gone; this worker stops")
            server.should_exit = True

        loop.add_reader(channel.fileno(), supervisor_gone)

    try:
        started_ok = serve(settings, [sock], supervised=True, on_started=started)
        return 0 if started_ok else STARTUP_FAILURE
    finally:
        sock.close()
        channel.close()


if __name__ == "__main__":
    sys.exit(serve_worker(int(sys.argv[1]), int(sys.argv[2])))
