"""A bot's venue egress: the forward proxy its host runs, bound to the bot's own address.

The exchange gateway keeps every credential; its ccxt client for a bot in live or testnet mode sends
REST and websocket traffic through this proxy (``httpsProxy``/``wssProxy`` = `Egress.url`). The proxy
only opens CONNECT tunnels to the allowed ports, from the bot's address (``Bind``), for the allowed
clients: TLS runs end to end through the tunnel, so it never sees a key, a signature or a path.
Plain-HTTP forwarding is refused. The proxy is Debian's tinyproxy (``scripts/ensure-tinyproxy``),
one process per bot, its configuration, filter and log in a runtime directory of that bot. See
docs/egress.md.

    async with Egress(EgressSettings(bind="127.0.0.7", runtime_dir=path)) as egress:
        exchange = ccxt.binance({..., "httpsProxy": egress.url, "wssProxy": egress.url})
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import ctypes
import ctypes.util
import ipaddress
import json
import os
import pwd
import shutil
import signal
import socket
import stat
import sys
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from types import TracebackType

STAT_HOST = "plutarc-egress.invalid"
"""The host name tinyproxy answers itself (its statistics page): the health check asks for it."""

CONFIG_FILE, FILTER_FILE, LOG_FILE, OUTPUT_FILE = (
    "tinyproxy.conf",
    "connect-only.filter",
    "tinyproxy.log",
    "tinyproxy.out",
)
LOG_LEVEL = "Connect"
"""Connections and request lines (for a tunnel, ``CONNECT host:port``); never a header."""

_CHILD_PATH = "/usr/sbin:/usr/bin:/sbin:/bin"
_START_ATTEMPTS = 3


class EgressError(RuntimeError):
    """The egress proxy cannot be configured, started or reached."""


def _address(value: str, what: str) -> str:
    try:
        return str(ipaddress.ip_address(value))
    except ValueError:
        raise EgressError(f"{what} must be an IP address, not {value!r}") from None


def _network(value: str) -> str:
    try:
        network = ipaddress.ip_network(value, strict=False)
    except ValueError:
        raise EgressError(
            f"an allowed client must be an IP address or network, not {value!r}"
        ) from None
    single = network.num_addresses == 1
    return str(network.network_address) if single else str(network)


def _port(value: int, what: str, *, zero: bool = False) -> int:
    if not (0 if zero else 1) <= value <= 65535:
        raise EgressError(f"{what} out of range: {value}")
    return value


@dataclass(frozen=True)
class EgressSettings:
    """One bot's egress. ``bind`` is the bot's address (the source of every venue connection);
    ``listen_host``/``listen_port`` where the gateway reaches the proxy (port 0: a free one at
    start); ``allowed_clients`` who may use it (addresses or networks; the listen address itself
    is always allowed, for the host's own health check); ``connect_ports`` where tunnels may go."""

    bind: str
    runtime_dir: Path
    listen_host: str = "127.0.0.1"
    listen_port: int = 0
    allowed_clients: tuple[str, ...] = ("127.0.0.1",)
    connect_ports: tuple[int, ...] = (443,)
    idle_timeout_seconds: int = 600
    max_clients: int = 100
    user: str | None = None
    """Started as root, tinyproxy drops to this user (and its group); the runtime directory is
    handed to it, since tinyproxy opens its log after dropping privileges."""
    start_timeout_seconds: float = 10.0
    stop_timeout_seconds: float = 5.0

    def __post_init__(self) -> None:
        set_ = object.__setattr__
        set_(self, "bind", _address(self.bind, "bind"))
        set_(self, "listen_host", _address(self.listen_host, "listen_host"))
        _port(self.listen_port, "listen_port", zero=True)
        if not self.connect_ports:
            raise EgressError("at least one CONNECT port is needed")
        set_(self, "connect_ports", tuple(_port(p, "connect port") for p in self.connect_ports))
        clients = [_network(c) for c in (self.listen_host, *self.allowed_clients)]
        set_(self, "allowed_clients", tuple(dict.fromkeys(clients)))
        set_(self, "runtime_dir", Path(self.runtime_dir).absolute())
        if any(ch in str(self.runtime_dir) for ch in '"\n\r'):
            raise EgressError(f"runtime_dir cannot hold quotes or newlines: {self.runtime_dir!r}")
        if self.user is not None:
            _account(self.user)
        if self.idle_timeout_seconds < 1 or self.max_clients < 1:
            raise EgressError("idle_timeout_seconds and max_clients must be positive")

    def _user_lines(self) -> list[str]:
        if self.user is None:
            return []
        uid, gid = _account(self.user)
        return [f"User {uid}", f"Group {gid}"]

    def config_text(self, port: int) -> str:
        """tinyproxy's configuration for this egress listening on ``port``."""
        lines = [
            "# A plutarc bot's venue egress (plutarc_bots.egress). It holds no credential.",
            f"Port {port}",
            f"Listen {self.listen_host}",
            f"Bind {self.bind}",
            *(f"Allow {client}" for client in self.allowed_clients),
            *(f"ConnectPort {p}" for p in self.connect_ports),
            f"Timeout {self.idle_timeout_seconds}",
            f"MaxClients {self.max_clients}",
            *self._user_lines(),
            f'LogFile "{self.runtime_dir / LOG_FILE}"',
            f"LogLevel {LOG_LEVEL}",
            "XTinyproxy No",
            "DisableViaHeader Yes",
            f'StatHost "{STAT_HOST}"',
            f'Filter "{self.runtime_dir / FILTER_FILE}"',
            "FilterURLs On",
            "FilterType ere",
            "FilterCaseSensitive Yes",
            "FilterDefaultDeny Yes",
        ]
        return "\n".join(lines) + "\n"


FILTER_TEXT = (
    "# Allowed: CONNECT targets (host:port, no slash) and the statistics page; nothing else.\n"
    "^[^/]+$\n"
    f"^http://{STAT_HOST.replace('.', '[.]')}/$\n"
)


def find_tinyproxy() -> str:
    found = shutil.which("tinyproxy", path=_CHILD_PATH)
    if found is None:
        raise EgressError("tinyproxy is not installed: run scripts/ensure-tinyproxy (as root)")
    return found


def _free_port(host: str) -> int:
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    with socket.socket(family) as s:
        s.bind((host, 0))
        return int(s.getsockname()[1])


def _check_local(address: str) -> None:
    family = socket.AF_INET6 if ":" in address else socket.AF_INET
    with socket.socket(family) as s:
        try:
            s.bind((address, 0))
        except OSError as error:
            raise EgressError(f"{address} is not an address of this host: {error}") from None


def _parent_death_signal() -> Callable[[], None] | None:
    """In the child before exec: die with the parent, so no proxy outlives the bot's process."""
    if not sys.platform.startswith("linux"):
        return None
    libc = ctypes.CDLL(ctypes.util.find_library("c"), use_errno=True)
    prctl = libc.prctl
    pr_set_pdeathsig = 1

    def preexec() -> None:
        prctl(pr_set_pdeathsig, signal.SIGTERM, 0, 0, 0)

    return preexec


@dataclass
class Egress:
    """One tinyproxy process. ``async with Egress(settings) as egress`` starts it and waits until
    it answers (or raises `EgressError`); leaving the block stops it."""

    settings: EgressSettings
    binary: str | None = None
    _process: asyncio.subprocess.Process | None = field(default=None, init=False, repr=False)
    _port: int | None = field(default=None, init=False)

    @property
    def port(self) -> int:
        if self._port is None:
            raise EgressError("the egress has not been started")
        return self._port

    @property
    def url(self) -> str:
        """The proxy URL for ccxt's ``httpsProxy`` and ``wssProxy``."""
        host = self.settings.listen_host
        return f"http://{f'[{host}]' if ':' in host else host}:{self.port}"

    @property
    def pid(self) -> int | None:
        process = self._process
        return process.pid if process is not None and process.returncode is None else None

    @property
    def running(self) -> bool:
        return self._process is not None and self._process.returncode is None

    @property
    def config_file(self) -> Path:
        return self.settings.runtime_dir / CONFIG_FILE

    @property
    def log_file(self) -> Path:
        return self.settings.runtime_dir / LOG_FILE

    async def __aenter__(self) -> Egress:
        await self.start()
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        await self.stop()

    async def start(self) -> None:
        if self.running:
            return
        binary = self.binary or find_tinyproxy()
        settings = self.settings
        _check_local(settings.bind)
        settings.runtime_dir.mkdir(parents=True, exist_ok=True, mode=0o700)
        settings.runtime_dir.chmod(0o700)
        _write(settings.runtime_dir / FILTER_FILE, FILTER_TEXT)
        attempts = 1 if settings.listen_port else _START_ATTEMPTS
        for attempt in range(1, attempts + 1):
            port = settings.listen_port or _free_port(settings.listen_host)
            _write(self.config_file, settings.config_text(port))
            if settings.user is not None:
                _hand_over(settings.runtime_dir, *_account(settings.user))
            await self._spawn(binary)
            self._port = port
            try:
                await self._wait_ready(time.monotonic() + settings.start_timeout_seconds)
                return
            except EgressError:
                await self.stop()
                if attempt == attempts:
                    raise

    async def _spawn(self, binary: str) -> None:
        output = (self.settings.runtime_dir / OUTPUT_FILE).open("ab")
        try:
            self._process = await asyncio.create_subprocess_exec(
                binary,
                "-d",
                "-c",
                str(self.config_file),
                stdin=asyncio.subprocess.DEVNULL,
                stdout=output,
                stderr=output,
                env={"PATH": _CHILD_PATH},
                cwd=self.settings.runtime_dir,
                preexec_fn=_parent_death_signal(),
            )
        finally:
            output.close()

    async def _wait_ready(self, deadline: float) -> None:
        while True:
            if not self.running:
                raise EgressError(f"tinyproxy exited while starting: {self._tail()}")
            if await self.healthy(timeout=0.5):
                return
            if time.monotonic() > deadline:
                raise EgressError(
                    f"tinyproxy did not answer on {self.url} within "
                    f"{self.settings.start_timeout_seconds}s: {self._tail()}"
                )
            await asyncio.sleep(0.02)

    async def healthy(self, timeout: float = 2.0) -> bool:
        """The process runs and answers an HTTP request on its port (its statistics page)."""
        if not self.running or self._port is None:
            return False
        try:
            async with asyncio.timeout(timeout):
                reader, writer = await asyncio.open_connection(self.settings.listen_host, self.port)
                try:
                    writer.write(f"GET http://{STAT_HOST}/ HTTP/1.0\r\n\r\n".encode())
                    await writer.drain()
                    status = await reader.readline()
                finally:
                    writer.close()
                    with contextlib.suppress(OSError):
                        await writer.wait_closed()
        except (OSError, TimeoutError):
            return False
        return status.split(b" ", 2)[1:2] == [b"200"]

    async def stop(self) -> None:
        process, self._process = self._process, None
        if process is None or process.returncode is not None:
            return
        process.terminate()
        try:
            await asyncio.wait_for(process.wait(), self.settings.stop_timeout_seconds)
        except TimeoutError:
            process.kill()
            await process.wait()

    def _tail(self, lines: int = 8) -> str:
        texts = []
        for name in (OUTPUT_FILE, LOG_FILE):
            with contextlib.suppress(OSError):
                texts += (self.settings.runtime_dir / name).read_text(errors="replace").splitlines()
        return " | ".join(texts[-lines:]) or "(no output)"


def _account(user: str) -> tuple[int, int]:
    try:
        entry = pwd.getpwuid(int(user)) if user.isdigit() else pwd.getpwnam(user)
    except (KeyError, OverflowError):
        raise EgressError(f"no such user: {user!r}") from None
    return entry.pw_uid, entry.pw_gid


def _hand_over(directory: Path, uid: int, gid: int) -> None:
    """Give the runtime directory to the user tinyproxy runs as, once it can reach it."""
    if os.geteuid() != 0:
        return
    groups = set(os.getgrouplist(pwd.getpwuid(uid).pw_name, gid))
    for parent in directory.parents:
        info = parent.stat()
        if info.st_uid == uid:
            bit = stat.S_IXUSR
        elif info.st_gid in groups:
            bit = stat.S_IXGRP
        else:
            bit = stat.S_IXOTH
        if not info.st_mode & bit:
            raise EgressError(
                f"user {uid} cannot reach {directory}: {parent} is not searchable for it"
            )
    (directory / LOG_FILE).touch(mode=0o600)
    for path in (directory, *directory.iterdir()):
        os.chown(path, uid, gid)


def _write(path: Path, text: str) -> None:
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "w") as file:
        file.write(text)


def _split_host_port(value: str) -> tuple[str, int]:
    host, _, port = value.rpartition(":")
    if not host or not port.isdigit():
        raise EgressError(f"--listen takes HOST:PORT, not {value!r}")
    return host.strip("[]"), int(port)


def settings_from_args(argv: Sequence[str] | None = None) -> EgressSettings:
    parser = argparse.ArgumentParser(
        prog="plutarc-bot-egress", description="Run one bot's venue egress proxy (tinyproxy)."
    )
    parser.add_argument("--bot-id", required=True, help="names the runtime directory")
    parser.add_argument("--bind", required=True, help="the bot's address: source of venue traffic")
    parser.add_argument("--listen", default="127.0.0.1:0", help="HOST:PORT (port 0: a free one)")
    parser.add_argument("--allow", action="append", help="a client address or network (repeat)")
    parser.add_argument("--connect-port", action="append", type=int, help="(repeat; default 443)")
    parser.add_argument("--runtime-dir", type=Path, help="default var/run/egress/BOT_ID")
    parser.add_argument("--user", help="started as root, run as this user")
    args = parser.parse_args(argv)
    host, port = _split_host_port(args.listen)
    return EgressSettings(
        bind=args.bind,
        runtime_dir=args.runtime_dir or Path("var/run/egress") / args.bot_id,
        listen_host=host,
        listen_port=port,
        allowed_clients=tuple(args.allow or ("127.0.0.1",)),
        connect_ports=tuple(args.connect_port or (443,)),
        user=args.user,
    )


async def serve(settings: EgressSettings, *, stop: asyncio.Event | None = None) -> None:
    """Run the egress until ``stop`` is set, printing its URL as one JSON line. Without ``stop``
    (the command), until SIGINT or SIGTERM."""
    signals = (signal.SIGINT, signal.SIGTERM) if stop is None else ()
    stop = stop or asyncio.Event()
    loop = asyncio.get_running_loop()
    for signum in signals:
        loop.add_signal_handler(signum, stop.set)
    try:
        async with Egress(settings) as egress:
            print(json.dumps({"egress": egress.url, "bind": settings.bind, "pid": egress.pid}))
            sys.stdout.flush()
            while not stop.is_set():
                with contextlib.suppress(TimeoutError):
                    await asyncio.wait_for(stop.wait(), 1)
                if not stop.is_set() and not egress.running:
                    raise EgressError(f"tinyproxy exited: {egress._tail()}")
    finally:
        for signum in signals:
            loop.remove_signal_handler(signum)


def main(argv: Sequence[str] | None = None) -> None:
    try:
        asyncio.run(serve(settings_from_args(argv)))
    except EgressError as error:
        raise SystemExit(f"plutarc-bot-egress: {error}") from None


if __name__ == "__main__":
    main()
