"""A real, throwaway PostgreSQL server for tests, built from Debian's packages.

Why: plutarc's event stores run on PostgreSQL (``eventsourcing.postgres``), and the bugs that
matter (locking, notification ordering, connection limits) only show up on the real server. A fresh
CI machine has nothing installed and no Docker, so the kit installs Debian's ``postgresql`` package
itself, then runs a private cluster per test run: its own data dir (in a scratch folder outside
pytest's basetemp, see :mod:`plutarc_testkit.scratch`), a free port on 127.0.0.1, trust auth,
durability off for speed. Debian's own cluster service is never started.

PostgreSQL refuses to run as root, so as root every server command runs as the ``postgres`` system
user (created by the Debian package) via ``runuser``.
"""

from __future__ import annotations

import atexit
import contextlib
import fcntl
import os
import pwd
import re
import shutil
import socket
import stat
import subprocess
import tempfile
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from subprocess import CompletedProcess
from typing import Any
from urllib.parse import quote

import psycopg
from psycopg import sql

from .scratch import ScratchDir, make_scratch_dir

PG_ROOT = Path("/usr/lib/postgresql")
SERVER_BINARIES = ("initdb", "pg_ctl", "postgres")
SYSTEM_USER = "postgres"  # OS account the server runs as when we are root
SUPERUSER = "postgres"  # database superuser created by initdb
HOST = "127.0.0.1"
APP_USER, APP_PASSWORD, APP_DBNAME = "plutarc", "plutarc", "plutarc_test"
POLICY_RC_D = Path("/usr/sbin/policy-rc.d")
_SOCKET_PATH_MAX = 107  # Linux sun_path limit, minus the NUL
_PORT_ATTEMPTS = 3  # a probed free port can be taken before the server binds it


class PostgresError(RuntimeError):
    """PostgreSQL could not be installed, started, stopped or bootstrapped; the message says why."""


def find_pg_bin(root: Path = PG_ROOT) -> Path | None:
    """Return the newest ``/usr/lib/postgresql/<major>/bin`` holding initdb, pg_ctl and postgres.

    Debian keeps server binaries out of PATH (only client wrappers live in /usr/bin), so PATH is
    never consulted.
    """
    found: list[tuple[tuple[int, ...], Path]] = []
    for bin_dir in root.glob("*/bin"):
        version = bin_dir.parent.name
        usable = all(os.access(bin_dir / name, os.X_OK) for name in SERVER_BINARIES)
        if usable and re.fullmatch(r"\d+(\.\d+)*", version):
            found.append((tuple(int(part) for part in version.split(".")), bin_dir))
    return max(found)[1] if found else None


def ensure_postgres_installed(timeout: float = 900.0) -> Path:
    """Return the server bin dir, first installing Debian's ``postgresql`` package if missing.

    A file lock serialises parallel test workers, which would otherwise fight over the dpkg lock.
    """
    bin_dir = find_pg_bin()
    if bin_dir is not None:
        return bin_dir
    if os.geteuid() != 0:
        raise PostgresError(
            f"PostgreSQL server binaries not found under {PG_ROOT}/<major>/bin and this process is "
            "not root, so it cannot install them. Run: "
            "sudo apt-get install -y --no-install-recommends postgresql"
        )
    apt_get = shutil.which("apt-get") or "/usr/bin/apt-get"
    if not Path(apt_get).exists():
        raise PostgresError("PostgreSQL is not installed and there is no apt-get to install it")
    env = {**os.environ, "DEBIAN_FRONTEND": "noninteractive"}
    apt = [apt_get, "-o", "DPkg::Lock::Timeout=300"]
    lock_path = Path(tempfile.gettempdir()) / "plutarc-postgres-install.lock"
    with lock_path.open("a") as lock, _services_not_started():
        fcntl.flock(lock, fcntl.LOCK_EX)  # released when the file closes
        if find_pg_bin() is None:  # another worker may have installed it while we waited
            for args in (["update"], ["install", "-y", "--no-install-recommends", "postgresql"]):
                what = "apt-get " + " ".join(args) + " (network access to the Debian mirrors?)"
                _check(_run([*apt, *args], what, timeout, env=env), what)
    bin_dir = find_pg_bin()
    if bin_dir is None:
        raise PostgresError(f"apt-get installed postgresql, yet no server binaries in {PG_ROOT}")
    return bin_dir


@contextlib.contextmanager
def _services_not_started() -> Iterator[None]:
    """Veto service starts by maintainer scripts while installing.

    Why: the package's postinst runs ``invoke-rc.d postgresql start``, which would start Debian's
    ``main`` cluster on port 5432. A ``policy-rc.d`` exiting 101 is Debian's documented veto.
    Docker images ship one already; then it is left alone.
    """
    if POLICY_RC_D.exists():
        yield
        return
    POLICY_RC_D.write_text("#!/bin/sh\n# temporary, written by plutarc_testkit\nexit 101\n")
    POLICY_RC_D.chmod(0o755)
    try:
        yield
    finally:
        POLICY_RC_D.unlink(missing_ok=True)


def _run(cmd: list[str], what: str, timeout: float, **kwargs: Any) -> CompletedProcess[str]:
    """subprocess.run with a deadline and captured output; never raises for a non-zero exit."""
    try:
        return subprocess.run(cmd, capture_output=True, text=True, timeout=timeout, **kwargs)
    except subprocess.TimeoutExpired as exc:
        raise PostgresError(f"{what} did not finish within {timeout:.0f}s: {cmd}") from exc


def _check(result: CompletedProcess[str], what: str, log: str = "") -> None:
    """Raise with the command's output (and the server log tail, if given) unless it succeeded."""
    if result.returncode != 0:
        output = _tail(result.stdout + result.stderr)
        log = f"\n--- server log ---\n{log}" if log else ""
        raise PostgresError(
            f"{what} failed (exit {result.returncode}): {result.args}\n{output}{log}"
        )


def _tail(text: str, lines: int = 40) -> str:
    return "\n".join(text.strip().splitlines()[-lines:])


@dataclass(eq=False)
class PostgresServer:
    """A running private cluster; connect with :attr:`url`, isolate with :meth:`create_database`."""

    host: str
    port: int
    user: str
    password: str
    dbname: str
    bin_dir: Path
    cluster_dir: Path  # holds data/, server.log and the unix socket
    run_as: str | None  # OS user for server commands; None means the current user
    scratch: ScratchDir | None = field(default=None, repr=False)  # removed once stopped
    _stopped: bool = field(default=False, init=False, repr=False)

    @property
    def data_dir(self) -> Path:
        return self.cluster_dir / "data"

    @property
    def log_path(self) -> Path:
        return self.cluster_dir / "server.log"

    @property
    def url(self) -> str:
        """``postgresql://plutarc:plutarc@127.0.0.1:PORT/plutarc_test``."""
        return self.url_for(self.dbname)

    @property
    def admin_url(self) -> str:
        """Superuser URL (trust auth, no password) for setup the application role may not do."""
        return f"postgresql://{SUPERUSER}@{self.host}:{self.port}/postgres"

    def url_for(self, dbname: str) -> str:
        """URL of another database on this server, as the application role."""
        user, password, db = (quote(part, safe="") for part in (self.user, self.password, dbname))
        return f"postgresql://{user}:{password}@{self.host}:{self.port}/{db}"

    def create_database(self, name: str) -> str:
        """Create database ``name`` owned by the application role and return its URL."""
        if not name or len(name.encode()) > 63:
            raise ValueError(f"invalid PostgreSQL database name: {name!r}")
        owner = sql.Identifier(self.user)
        self._admin(sql.SQL("CREATE DATABASE {} OWNER {}").format(sql.Identifier(name), owner))
        return self.url_for(name)

    def log_tail(self, lines: int = 40) -> str:
        """Last lines of the server log, for error messages."""
        try:
            return _tail(self.log_path.read_text(errors="replace"), lines)
        except OSError as exc:
            return f"(server log {self.log_path} unreadable: {exc})"

    def running(self) -> bool:
        """``pg_ctl status`` as the server's OS user: False too when that user cannot read its data."""
        return self._pg_ctl("status", timeout=10).returncode == 0

    def stop(self, timeout: float = 30.0, mode: str = "fast") -> None:
        """``pg_ctl stop -m fast``, then remove the scratch folder if the server owns one.

        Calling it again, or after the server died, is a no-op.
        """
        if self._stopped:
            return
        pid_file = self.data_dir / "postmaster.pid"
        if pid_file.exists():
            result = self._pg_ctl("stop", "-m", mode, timeout=timeout)
            if pid_file.exists():
                _check(result, f"pg_ctl stop for {self.data_dir}", log=self.log_tail())
        self._stopped = True
        atexit.unregister(self.stop)
        if self.scratch is not None:
            self.scratch.close()

    def __enter__(self) -> PostgresServer:
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.stop()

    def _server_run(self, cmd: list[str], what: str, timeout: float) -> CompletedProcess[str]:
        """Run a server binary as the server's OS user, without PG* variables that redirect it."""
        if self.run_as is not None:
            cmd = [shutil.which("runuser") or "/usr/sbin/runuser", "-u", self.run_as, "--", *cmd]
        env = {key: value for key, value in os.environ.items() if not key.startswith("PG")}
        return _run(cmd, what, timeout, env=env, cwd=self.cluster_dir)

    def _pg_ctl(self, mode: str, *opts: str, timeout: float) -> CompletedProcess[str]:
        """``pg_ctl -w`` with its own ``-t`` deadline; the process deadline adds slack on top."""
        pg_ctl = [str(self.bin_dir / "pg_ctl"), "-D", str(self.data_dir)]
        cmd = [*pg_ctl, "-w", "-t", str(int(timeout)), *opts, mode]
        return self._server_run(cmd, f"pg_ctl {mode}", timeout + 15)

    def _admin(self, statement: sql.Composed) -> None:
        with psycopg.connect(self.admin_url, autocommit=True, connect_timeout=10) as conn:
            conn.execute(statement)


def start_test_postgres(
    base_dir: Path | None = None, port: int | None = None, start_timeout: float = 60.0
) -> PostgresServer:
    """initdb a fresh cluster in a new directory under ``base_dir``, start it and bootstrap it.

    Without ``base_dir`` the cluster gets a scratch folder of its own, removed when it stops.
    Bootstrap: role ``plutarc`` with password ``plutarc`` (trust auth ignores it, but clients such
    as eventsourcing insist on one) owning database ``plutarc_test``. With ``port=None`` a free
    port is picked, and re-picked if taken before the server binds it. Forgotten servers stop at
    interpreter exit.
    """
    bin_dir = ensure_postgres_installed()
    run_as = SYSTEM_USER if os.geteuid() == 0 else None
    account = _server_account(run_as)
    if account is not None and base_dir is not None:
        _refuse_pytest_basetemp(base_dir)
    scratch = None
    if base_dir is None:
        scratch = make_scratch_dir("postgres")
        base_dir = scratch.path
    server = None
    try:
        base_dir.mkdir(parents=True, exist_ok=True)
        cluster_dir = Path(tempfile.mkdtemp(prefix="pg-", dir=base_dir)).resolve()
        cluster_dir.chmod(0o755)
        if account is not None:
            _make_traversable(cluster_dir.parent, account)
            os.chown(cluster_dir, account.pw_uid, account.pw_gid)
        server = PostgresServer(
            HOST, 0, APP_USER, APP_PASSWORD, APP_DBNAME, bin_dir, cluster_dir, run_as, scratch
        )
        _init_and_start(server, port, start_timeout)
    except BaseException:
        if server is not None:
            server.stop()
        elif scratch is not None:
            scratch.close()
        raise
    return server


def stop_abandoned_cluster(data_dir: Path, timeout: float = 30.0) -> None:
    """``pg_ctl stop -m immediate`` a cluster whose owner died; no-op when it does not run.

    Used by the scratch sweep: the postmaster runs detached, so it outlives a killed test session.
    """
    bin_dir = find_pg_bin()
    if bin_dir is None or data_dir.name != "data":
        return
    owner = data_dir.stat().st_uid
    run_as = pwd.getpwuid(owner).pw_name if os.geteuid() == 0 and owner != 0 else None
    server = PostgresServer(
        HOST, 0, APP_USER, APP_PASSWORD, APP_DBNAME, bin_dir, data_dir.parent, run_as
    )
    server.stop(timeout, mode="immediate")


def _server_account(run_as: str | None) -> pwd.struct_passwd | None:
    if run_as is None:
        return None
    try:
        return pwd.getpwnam(run_as)
    except KeyError:
        raise PostgresError(
            f"running as root but there is no '{run_as}' system user to run PostgreSQL as "
            "(Debian's postgresql-common package creates it)"
        ) from None


def _refuse_pytest_basetemp(base_dir: Path) -> None:
    """pytest resets ``pytest-of-<user>`` to 0700 at every session start, locking the server out."""
    if any(part.startswith("pytest-of-") for part in base_dir.resolve().parts):
        raise PostgresError(
            f"{base_dir} is below pytest's basetemp, which the next pytest session on this machine "
            f"resets to mode 0700, locking the {SYSTEM_USER} user out of its data: leave base_dir "
            "unset to get a scratch folder outside it"
        )


def _init_and_start(server: PostgresServer, port: int | None, start_timeout: float) -> None:
    bin_dir, run_as = server.bin_dir, server.run_as
    initdb = [str(bin_dir / "initdb"), "-D", str(server.data_dir), "-U", SUPERUSER]
    # C locale always exists; --no-sync because the cluster is thrown away anyway.
    initdb += ["--auth=trust", "--encoding=UTF8", "--locale=C", "--no-sync"]
    what = f"initdb as {run_as or 'the current user'}"
    _check(server._server_run(initdb, what, 120), what)
    for attempt in range(1 if port else _PORT_ATTEMPTS):
        server.port = port or _free_port()
        _write_config(server)
        try:
            _start(server, start_timeout)
            break
        except PostgresError:
            taken = "could not bind" in server.log_tail()
            if port or not taken or attempt == _PORT_ATTEMPTS - 1:
                raise
    atexit.register(server.stop)
    role = sql.SQL("CREATE ROLE {} LOGIN PASSWORD {}")
    server._admin(role.format(sql.Identifier(APP_USER), sql.Literal(APP_PASSWORD)))
    server.create_database(APP_DBNAME)


def _write_config(server: PostgresServer) -> None:
    """Listen on 127.0.0.1 only, trust only loopback, and trade durability for speed."""
    socket_path = f"{server.cluster_dir}/.s.PGSQL.{server.port}"
    socket_dir = str(server.cluster_dir) if len(socket_path) <= _SOCKET_PATH_MAX else ""
    settings = {
        "listen_addresses": f"'{HOST}'",
        "port": str(server.port),
        "unix_socket_directories": f"'{socket_dir}'",  # '' (path too long): TCP only
        "max_connections": "200",
        "fsync": "off",
        "synchronous_commit": "off",
        "full_page_writes": "off",
        # Parallel workers use /dev/shm, 64 MB in containers; tests gain nothing from them.
        "max_parallel_workers_per_gather": "0",
    }
    files = {
        "plutarc.conf": "".join(f"{key} = {value}\n" for key, value in settings.items()),
        "pg_hba.conf": f"local all all trust\nhost all all {HOST}/32 trust\n",
    }
    owner = server.cluster_dir.stat()  # the server's OS user
    for name, text in files.items():
        path = server.data_dir / name
        path.write_text(text)
        path.chmod(0o600)
        os.chown(path, owner.st_uid, owner.st_gid)
    main_conf = server.data_dir / "postgresql.conf"
    if "include 'plutarc.conf'" not in main_conf.read_text():
        with main_conf.open("a") as handle:
            handle.write("\ninclude 'plutarc.conf'\n")


def _start(server: PostgresServer, timeout: float) -> None:
    """``pg_ctl -w start``: return once the server accepts connections, or fail at the deadline."""
    result = server._pg_ctl("start", "-l", str(server.log_path), timeout=timeout)
    if result.returncode != 0:
        with contextlib.suppress(PostgresError):  # leave no half-started postmaster behind
            server._pg_ctl("stop", "-m", "immediate", timeout=10)
        what = f"starting PostgreSQL on {HOST}:{server.port} within {timeout:.0f}s"
        _check(result, what, log=f"{server.log_path}:\n{server.log_tail()}")


def _free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind((HOST, 0))
        return int(sock.getsockname()[1])


def _make_traversable(directory: Path, account: pwd.struct_passwd) -> None:
    """Give ``account`` search (x) permission on ``directory`` and its ancestors where it lacks it.

    Why: a base dir the caller passes (or ``$TMPDIR``) may sit below a folder of mode 0700, which
    would lock the postgres user out of its own data dir. Only the x bit of the class the account
    falls in is added, never read.
    """
    groups = set(os.getgrouplist(account.pw_name, account.pw_gid))
    for path in (directory, *directory.parents):
        st = path.stat()
        owner, group = st.st_uid == account.pw_uid, st.st_gid in groups
        needed = stat.S_IXUSR if owner else stat.S_IXGRP if group else stat.S_IXOTH
        if not st.st_mode & needed:
            path.chmod(stat.S_IMODE(st.st_mode) | needed)
