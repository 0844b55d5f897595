"""Launcher for the real local Apache Kafka broker (KRaft, one node as broker and controller).

plutarc runs Apache Kafka's own jars because Kafka-compatible stand-ins fail on idempotent
producers, offsets and Faust recovery (see LIBRARY-FACTS). The jars come from Maven Central into a
cache outside the checkout; the broker's data lives in ``cfg.data_dir`` and survives restarts.
Every file the launcher owns (config, pid file, logs, cluster id) is inside that data dir, so two
data dirs on two port pairs are two independent brokers: the test kit relies on that.
"""

from __future__ import annotations

import asyncio
import base64
import concurrent.futures
import contextlib
import dataclasses
import fcntl
import os
import re
import shutil
import signal
import socket
import stat
import subprocess
import time
import uuid
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import NoReturn

MAIN_CLASS = "kafka.Kafka"
STORAGE_TOOL = "kafka.tools.StorageTool"
_MARKER = ".plutarc-complete"
_PATTERN = "[%d] %p %m (%c)%n"
# The broker's log holds every event, credential hashes included: what the broker and the storage
# tool create is their owner's alone (files 0600, dirs 0700), so they run under this umask.
_UMASK = 0o077


class KafkaError(RuntimeError):
    """A local broker could not be prepared, started or stopped; the message says what to do."""


def repo_root() -> Path:
    """Find the checkout by its POM, because the Kafka version is pinned there and nowhere else."""
    for base in (Path(__file__).resolve(), Path.cwd().resolve()):
        for parent in (base, *base.parents):
            if (parent / "deploy" / "kafka" / "pom.xml").is_file():
                return parent
    raise KafkaError(
        "cannot find deploy/kafka/pom.xml: run plutarc from inside the plutarc checkout"
    )


def pom_path() -> Path:
    """The POM whose runtime dependencies are the broker's classpath."""
    return repo_root() / "deploy" / "kafka" / "pom.xml"


def kafka_version() -> str:
    """Read ``kafka.version`` from the POM so that bumping Kafka is a one-line change."""
    match = re.search(r"<kafka\.version>([^<]+)</kafka\.version>", pom_path().read_text())
    if not match:
        raise KafkaError(f"no <kafka.version> property in {pom_path()}")
    return match.group(1).strip()


def jars_dir(version: str | None = None) -> Path:
    """Jars live in the user's cache, not the checkout: 40+ MB, shared by every checkout."""
    cache = Path(os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache")
    return cache / "plutarc" / f"kafka-{version or kafka_version()}" / "libs"


def default_data_dir() -> Path:
    """``$PLUTARC_DATA_DIR/kafka`` when set, else ``<repo>/var/kafka`` (git-ignored)."""
    base = os.environ.get("PLUTARC_DATA_DIR")
    return Path(base) / "kafka" if base else repo_root() / "var" / "kafka"


def default_port() -> int:
    """``$PLUTARC_KAFKA_PORT`` or 9092, the port every Kafka client tries first."""
    return int(os.environ.get("PLUTARC_KAFKA_PORT", "9092"))


@dataclass(frozen=True)
class KafkaConfig:
    """Where one local broker listens and keeps its data. Listeners are loopback-only on purpose."""

    port: int = 9092
    controller_port: int = 9093
    data_dir: Path = field(default_factory=default_data_dir)
    host: str = "127.0.0.1"
    heap: str = "512m"
    # Extra JVM flags; the test kit passes -XX:TieredStopAtLevel=1 (C1 only: ~25% faster start,
    # slower peak), which is right for tests and wrong for benchmarks, so it is not the default.
    jvm_opts: tuple[str, ...] = ()

    @classmethod
    def from_env(
        cls,
        port: int | None = None,
        data_dir: Path | None = None,
        controller_port: int | None = None,
    ) -> KafkaConfig:
        """Explicit values win over the environment; the controller port follows the client port."""
        port = port if port is not None else default_port()
        ctl = controller_port if controller_port is not None else port + 1
        return cls(
            port=port, controller_port=ctl, data_dir=(data_dir or default_data_dir()).resolve()
        )

    @property
    def bootstrap(self) -> str:
        return f"{self.host}:{self.port}"

    @property
    def pid_file(self) -> Path:
        return self.data_dir / "kafka.pid"

    @property
    def properties_file(self) -> Path:
        return self.data_dir / "server.properties"

    @property
    def log_file(self) -> Path:
        return self.data_dir / "server.log"


@dataclass(frozen=True)
class KafkaStatus:
    """What ``status`` knows; ``note`` explains the odd cases (stale pid, foreign listener)."""

    running: bool
    pid: int | None
    bootstrap: str
    data_dir: Path
    version: str
    log_file: Path
    note: str | None = None

    def to_dict(self) -> dict[str, object]:
        """JSON-ready: paths as strings."""
        return {
            k: str(v) if isinstance(v, Path) else v for k, v in dataclasses.asdict(self).items()
        }


def ensure_jars(version: str | None = None) -> Path:
    """Resolve the broker's jars once; a marker written last makes an interrupted download visible.

    A lock beside the cache serialises concurrent test sessions, and Maven writes into a temporary
    dir renamed into place, so nobody ever runs a broker from a half-copied classpath.
    """
    version = version or kafka_version()
    libs = jars_dir(version)
    if _jars_complete(libs):
        return libs
    mvn = shutil.which("mvn")
    if mvn is None:
        raise KafkaError("Maven (mvn) not found on PATH: it is needed once to fetch the Kafka jars")
    with _flock(libs.parent / ".lock"):
        if _jars_complete(libs):  # another process finished while we waited for the lock
            return libs
        tmp = libs.parent / "libs.tmp"
        shutil.rmtree(tmp, ignore_errors=True)
        cmd = [mvn, "-q", "-B", "-f", str(pom_path()), "dependency:copy-dependencies"]
        cmd += ["-DincludeScope=runtime", f"-DoutputDirectory={tmp}"]
        proc = subprocess.run(cmd, capture_output=True, text=True, check=False)
        jars = sorted(p.name for p in tmp.glob("*.jar")) if tmp.is_dir() else []
        if proc.returncode != 0 or f"kafka_2.13-{version}.jar" not in jars:
            shutil.rmtree(tmp, ignore_errors=True)
            output = (proc.stdout + proc.stderr).strip()[-2000:]
            raise KafkaError(f"mvn could not fetch the Kafka {version} jars:\n{output}")
        (tmp / _MARKER).write_text("\n".join(jars) + "\n")
        shutil.rmtree(libs, ignore_errors=True)
        tmp.rename(libs)
    return libs


def _jars_complete(libs: Path) -> bool:
    marker = libs / _MARKER
    names = marker.read_text().split() if marker.is_file() else []
    return bool(names) and all((libs / n).is_file() for n in names)


def find_java() -> str:
    """Prefer ``$JAVA_HOME`` like Kafka's own scripts, and insist on Java 17+ (Kafka 4 needs it)."""
    home = os.environ.get("JAVA_HOME")
    java = str(Path(home) / "bin" / "java") if home else None
    if not (java and os.access(java, os.X_OK)):
        java = shutil.which("java")
    if java is None:
        raise KafkaError(
            "Java not found: install a JDK/JRE 17+ (e.g. apt-get install openjdk-17-jre)"
        )
    out = subprocess.run([java, "-version"], capture_output=True, text=True, check=False).stderr
    match = re.search(r'version "(\d+)(?:\.(\d+))?', out)
    major = int(match.group(1)) if match else 0
    if match and major == 1:
        major = int(match.group(2) or 0)
    if major < 17:
        raise KafkaError(f"{java} is Java {major or 'unknown'}; Kafka 4 needs Java 17 or newer")
    return java


def render_server_properties(cfg: KafkaConfig) -> str:
    """One node as broker and controller, tuned for a dev box: no auto-created topics, RF 1.

    Topics come from the contracts' topic registry, so a typo must fail rather than create a topic.
    Zero rebalance delay and a 1 s minimum session timeout keep group joins in tests fast; a small
    cleaner buffer keeps compacted topics inside a 512 MB heap.
    """
    h, port, ctl = cfg.host, cfg.port, cfg.controller_port
    return f"""\
process.roles=broker,controller
node.id=1
controller.quorum.voters=1@{h}:{ctl}
listeners=PLAINTEXT://{h}:{port},CONTROLLER://{h}:{ctl}
advertised.listeners=PLAINTEXT://{h}:{port}
controller.listener.names=CONTROLLER
inter.broker.listener.name=PLAINTEXT
listener.security.protocol.map=PLAINTEXT:PLAINTEXT,CONTROLLER:PLAINTEXT
log.dirs={cfg.data_dir / "logs"}
auto.create.topics.enable=false
num.partitions=1
default.replication.factor=1
min.insync.replicas=1
offsets.topic.replication.factor=1
transaction.state.log.replication.factor=1
transaction.state.log.min.isr=1
share.coordinator.state.topic.replication.factor=1
share.coordinator.state.topic.min.isr=1
group.initial.rebalance.delay.ms=0
group.min.session.timeout.ms=1000
num.network.threads=2
num.io.threads=4
log.cleaner.dedupe.buffer.size=33554432
"""


def _render_log4j(cfg: KafkaConfig, console: bool) -> str:
    """Broker logs go to a size-capped file in the data dir; in the foreground also to stdout."""
    text = f"""\
status = warn
appender.file.type = RollingFile
appender.file.name = FILE
appender.file.fileName = {cfg.log_file}
appender.file.filePattern = {cfg.log_file}.%i
appender.file.layout.type = PatternLayout
appender.file.layout.pattern = {_PATTERN}
appender.file.policies.type = Policies
appender.file.policies.size.type = SizeBasedTriggeringPolicy
appender.file.policies.size.size = 10MB
appender.file.strategy.type = DefaultRolloverStrategy
appender.file.strategy.max = 3
rootLogger.level = INFO
rootLogger.appenderRef.file.ref = FILE
"""
    if console:
        text += "appender.out.type = Console\nappender.out.name = OUT\n"
        text += (
            f"appender.out.layout.type = PatternLayout\nappender.out.layout.pattern = {_PATTERN}\n"
        )
        text += "rootLogger.appenderRef.out.ref = OUT\n"
    return text


def broker_command(cfg: KafkaConfig, java: str, libs: Path) -> list[str]:
    """The JVM command line; the properties path in it is how we recognise our own process later."""
    jvm = [f"-Xmx{cfg.heap}", "-Xms128m", "-XX:+UseG1GC", "-XX:MaxGCPauseMillis=20"]
    jvm += ["-Djava.awt.headless=true", f"-Dkafka.logs.dir={cfg.data_dir}"]
    jvm += [f"-Dlog4j2.configurationFile={cfg.data_dir / 'log4j2.properties'}", *cfg.jvm_opts]
    return [java, *jvm, "-cp", f"{libs}/*", MAIN_CLASS, str(cfg.properties_file)]


def _new_cluster_id() -> str:
    """Kafka's Uuid text form (22 chars, base64url); Kafka never hands out one starting with '-'."""
    while True:
        text = base64.urlsafe_b64encode(uuid.uuid4().bytes).decode().rstrip("=")
        if not text.startswith("-"):
            return text


def _private(path: Path, flags: int = os.O_WRONLY | os.O_CREAT | os.O_TRUNC) -> int:
    """Open (creating) a file of the data dir, readable by its owner only."""
    fd = os.open(path, flags, 0o600)
    os.fchmod(fd, 0o600)
    return fd


def _write_private(path: Path, text: str) -> None:
    with open(_private(path), "w") as fh:
        fh.write(text)


def _owner_only(data_dir: Path) -> None:
    """Make the data dir 0700 and take group and other access away from all in it (what an earlier
    version left readable); the data dir is the launcher's alone, unlike a service's."""
    data_dir.mkdir(mode=0o700, parents=True, exist_ok=True)
    for root, dirs, files in os.walk(data_dir):
        for path in (root, *(os.path.join(root, n) for n in (*dirs, *files))):
            with contextlib.suppress(FileNotFoundError):  # a rolled log, a deleted segment
                st = os.lstat(path)
                if st.st_mode & 0o077 and not stat.S_ISLNK(st.st_mode):
                    os.chmod(path, stat.S_IMODE(st.st_mode) & ~0o077)


def _prepare(cfg: KafkaConfig, console: bool = False) -> tuple[str, Path]:
    """Everything before the JVM starts: checks, jars, config files, and formatting storage once.

    The cluster id is kept in the data dir so that a wiped ``logs/`` is re-formatted as the same
    cluster, and ``--ignore-formatted`` makes a half-finished earlier format harmless.
    """
    java = find_java()
    _check_ports_free(cfg)
    libs = ensure_jars()
    _owner_only(cfg.data_dir)
    _write_private(cfg.properties_file, render_server_properties(cfg))
    _write_private(cfg.data_dir / "log4j2.properties", _render_log4j(cfg, console))
    if not (cfg.data_dir / "logs" / "meta.properties").is_file():
        id_file = cfg.data_dir / "cluster.id"
        if not id_file.is_file():
            _write_private(id_file, _new_cluster_id() + "\n")
        cmd = [java, "-Xmx256m", f"-Dlog4j2.configurationFile={cfg.data_dir / 'log4j2.properties'}"]
        cmd += ["-cp", f"{libs}/*", STORAGE_TOOL, "format", "--ignore-formatted"]
        cmd += ["-t", id_file.read_text().strip(), "-c", str(cfg.properties_file)]
        proc = subprocess.run(cmd, capture_output=True, text=True, check=False, umask=_UMASK)
        if proc.returncode != 0:
            raise KafkaError(
                f"formatting {cfg.data_dir / 'logs'} failed:\n{proc.stdout}{proc.stderr}"
            )
    return java, libs


def _check_ports_free(cfg: KafkaConfig) -> None:
    """Bind like the JVM will (SO_REUSEADDR), so a TIME_WAIT leftover is not mistaken for a user."""
    for port, what in ((cfg.port, "client"), (cfg.controller_port, "controller")):
        with socket.socket() as sock:
            sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
            try:
                sock.bind((cfg.host, port))
            except OSError as exc:
                raise KafkaError(
                    f"Kafka {what} port {cfg.host}:{port} is taken by another process "
                    f"({exc.strerror}); stop it or pick another port (--port / PLUTARC_KAFKA_PORT)"
                ) from None


def _cmdline(pid: int) -> str:
    try:
        return Path(f"/proc/{pid}/cmdline").read_bytes().replace(b"\0", b" ").decode()
    except OSError:
        ps = ["ps", "-o", "command=", "-p", str(pid)]
        return subprocess.run(ps, capture_output=True, text=True, check=False).stdout


def _alive(pid: int) -> bool:
    """Alive and not a zombie; reaps our own child so that a dead broker stops looking alive."""
    with contextlib.suppress(ChildProcessError):
        if os.waitpid(pid, os.WNOHANG)[0] == pid:
            return False
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    with contextlib.suppress(OSError, IndexError):
        if Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0] == "Z":
            return False
    return True


def _our_pid(cfg: KafkaConfig) -> int | None:
    """The pid from the pid file if it is alive and is this data dir's broker (pids get reused)."""
    try:
        pid = int(cfg.pid_file.read_text().strip())
    except (OSError, ValueError):
        return None
    cmd = _cmdline(pid) if _alive(pid) else ""
    return pid if MAIN_CLASS in cmd and str(cfg.properties_file) in cmd else None


def _version_of(pid: int | None) -> str:
    """A running broker reports the jars it was started from, which may predate a POM bump."""
    match = re.search(r"kafka-([^/\s]+)/libs", _cmdline(pid)) if pid else None
    return match.group(1) if match else kafka_version()


def _port_open(host: str, port: int, timeout: float = 0.5) -> bool:
    try:
        with socket.create_connection((host, port), timeout=timeout):
            return True
    except OSError:
        return False


async def _probe_async(bootstrap: str, seconds: float) -> bool:
    from aiokafka.admin import AIOKafkaAdminClient

    admin = AIOKafkaAdminClient(bootstrap_servers=bootstrap, request_timeout_ms=int(seconds * 1000))
    try:
        async with asyncio.timeout(seconds):
            await admin.start()
            return bool((await admin.describe_cluster()).get("brokers"))
    except Exception:
        return False
    finally:
        with contextlib.suppress(Exception):
            await admin.close()


def probe(bootstrap: str, timeout: float = 5.0) -> bool:
    """True when the broker answers a Metadata request listing itself: an open port is not enough.

    Runs on a private loop in a worker thread so that callers inside a running loop can use it.
    """
    host, _, port = bootstrap.rpartition(":")
    if not _port_open(host, int(port)):
        return False
    with concurrent.futures.ThreadPoolExecutor(1) as pool:
        return pool.submit(asyncio.run, _probe_async(bootstrap, max(timeout, 1.0))).result()


@contextlib.contextmanager
def _flock(path: Path) -> Iterator[None]:
    """An advisory lock the kernel drops if we die, so a crash never leaves a stale lock behind."""
    path.parent.mkdir(mode=0o700, parents=True, exist_ok=True)
    with open(_private(path, os.O_WRONLY | os.O_CREAT), "w") as fh:
        fcntl.flock(fh, fcntl.LOCK_EX)
        yield


def _locked(cfg: KafkaConfig) -> contextlib.AbstractContextManager[None]:
    """Serialise start/stop on one data dir, e.g. two terminals or two test sessions at once."""
    return _flock(cfg.data_dir / ".lock")


def _as_running(cfg: KafkaConfig) -> KafkaConfig:
    """A running broker keeps the port it was started with, whatever --port status/start got."""
    try:
        text = cfg.properties_file.read_text()
    except OSError:
        return cfg
    match = re.search(r"^advertised\.listeners=PLAINTEXT://.+:(\d+)$", text, re.MULTILINE)
    return dataclasses.replace(cfg, port=int(match.group(1))) if match else cfg


def _tail(path: Path, lines: int) -> str:
    try:
        return "\n".join(path.read_text(errors="replace").splitlines()[-lines:])
    except OSError:
        return ""


def _first_cause(paths: list[Path]) -> str | None:
    """The line saying a port was taken, wherever it is in the logs: the JVM's shutdown that
    follows can push it out of any tail."""
    for path in paths:
        try:
            text = path.read_text(errors="replace")
        except OSError:
            continue
        for line in text.splitlines():
            if "Address already in use" in line:
                return line.strip()
    return None


def _wait_ready(cfg: KafkaConfig, pid: int, deadline: float) -> None:
    while time.monotonic() < deadline:
        if not _alive(pid):
            logs = _tail(cfg.data_dir / "console.log", 20) + "\n" + _tail(cfg.log_file, 15)
            cause = _first_cause([cfg.data_dir / "console.log", cfg.log_file])
            said = f"\ncause: {cause}" if cause else ""
            raise KafkaError(
                f"Kafka exited during startup; see {cfg.log_file}{said}\n{logs.strip()}"
            )
        if probe(cfg.bootstrap, timeout=min(5.0, deadline - time.monotonic())):
            return
        time.sleep(0.2)
    raise KafkaError(
        f"Kafka (pid {pid}) did not answer on {cfg.bootstrap} in time; see {cfg.log_file}"
    )


def status(cfg: KafkaConfig) -> KafkaStatus:
    """Report this data dir's broker, telling 'nothing running' apart from 'someone else's port'."""
    pid = _our_pid(cfg)
    cfg = _as_running(cfg) if pid is not None else cfg
    note = None
    if pid is None and cfg.pid_file.exists():
        note = f"stale pid file {cfg.pid_file}"
    if pid is None and _port_open(cfg.host, cfg.port):
        note = f"{cfg.bootstrap} is answering, but not a broker started from {cfg.data_dir}"
    elif pid is not None and not _port_open(cfg.host, cfg.port):
        note = "process is alive but not listening (starting or stopping)"
    version = _version_of(pid)
    return KafkaStatus(
        pid is not None, pid, cfg.bootstrap, cfg.data_dir, version, cfg.log_file, note
    )


def start(cfg: KafkaConfig, timeout: float = 60.0) -> KafkaStatus:
    """Start the broker detached and return once it answers; if it already runs, return that one.

    A new session keeps the broker alive after the shell or test run that started it is gone.
    """
    deadline = time.monotonic() + timeout
    with _locked(cfg):
        pid = _our_pid(cfg)
        if pid is None:
            cfg.pid_file.unlink(missing_ok=True)
            java, libs = _prepare(cfg)
            appending = os.O_WRONLY | os.O_CREAT | os.O_APPEND
            with open(_private(cfg.data_dir / "console.log", appending), "ab") as console:
                proc = subprocess.Popen(
                    broker_command(cfg, java, libs),
                    stdin=subprocess.DEVNULL,
                    stdout=console,
                    stderr=subprocess.STDOUT,
                    cwd=cfg.data_dir,
                    start_new_session=True,
                    umask=_UMASK,
                )
            pid = proc.pid
            _write_private(cfg.pid_file, f"{pid}\n")
        _wait_ready(_as_running(cfg), pid, deadline)
    return status(cfg)


def stop(cfg: KafkaConfig, timeout: float = 30.0) -> KafkaStatus:
    """SIGTERM for a clean shutdown (no log recovery on the next start), SIGKILL if it hangs."""
    with _locked(cfg):
        pid = _our_pid(cfg)
        if pid is not None:
            _signal_and_wait(pid, signal.SIGTERM, time.monotonic() + timeout)
            if _alive(pid):
                _signal_and_wait(pid, signal.SIGKILL, time.monotonic() + 10)
            if _alive(pid):
                raise KafkaError(f"Kafka pid {pid} survived SIGKILL")
        cfg.pid_file.unlink(missing_ok=True)
    return status(cfg)


def _signal_and_wait(pid: int, sig: signal.Signals, deadline: float) -> None:
    with contextlib.suppress(ProcessLookupError):
        os.kill(pid, sig)
    while _alive(pid) and time.monotonic() < deadline:
        time.sleep(0.1)


def run_foreground(cfg: KafkaConfig) -> NoReturn:
    """Become the broker (for honcho/Procfiles), so signals and logs go straight to the JVM.

    The pid file is written before exec because exec keeps the pid, so ``status`` works here too.
    """
    with _locked(cfg):
        if _our_pid(cfg) is not None:
            raise KafkaError(f"Kafka for {cfg.data_dir} is already running; stop it first")
        java, libs = _prepare(cfg, console=True)
        _write_private(cfg.pid_file, f"{os.getpid()}\n")
    os.umask(_UMASK)  # this process becomes the broker
    os.execv(java, broker_command(cfg, java, libs))
