"""Build a pinned OPA with the Go toolchain and run it as a local server (tests, benchmarks, dev).

No OPA binary comes from PyPI or Debian, and we do not download release binaries; ``go install``
from the Go module proxy builds one instead. The first build takes a few minutes (downloads plus
compile); Go's module and build caches make a rebuild a few seconds, and an existing binary of
the pinned version is reused without calling Go at all.
"""

from __future__ import annotations

import contextlib
import fcntl
import os
import shutil
import socket
import subprocess
import tempfile
import time
import urllib.error
import urllib.request
from collections.abc import Callable
from pathlib import Path
from typing import Final

OPA_MODULE: Final = "github.com/open-policy-agent/opa"
OPA_VERSION: Final = "v1.22.2"
"""Pinned OPA release; needs Go >= 1.26.0 (its go.mod says so)."""


class OpaUnavailable(RuntimeError):
    """OPA could not be built or started; the message says why (and includes OPA's log)."""


def bin_dir() -> Path:
    """Where built tools live: ``$PLUTARC_BIN_DIR`` or ``~/.cache/plutarc/bin``."""
    override = os.environ.get("PLUTARC_BIN_DIR")
    return Path(override) if override else Path.home() / ".cache" / "plutarc" / "bin"


def installed_version(binary: Path) -> str | None:
    """``vX.Y.Z`` as reported by ``opa version``, or None if the binary does not run."""
    try:
        out = subprocess.run(
            [str(binary), "version"], capture_output=True, text=True, timeout=30, check=True
        ).stdout
    except (OSError, subprocess.SubprocessError):
        return None
    for line in out.splitlines():
        if line.startswith("Version:"):
            return "v" + line.split(":", 1)[1].strip()
    return None


def ensure_opa(version: str = OPA_VERSION, *, timeout: float = 1800.0) -> Path:
    """Path to an ``opa`` binary of ``version``, building it with ``go install`` if missing.

    A file lock serialises concurrent callers (parallel test sessions) so only one builds.
    """
    target_dir = bin_dir()
    target_dir.mkdir(parents=True, exist_ok=True)
    binary = target_dir / "opa"
    if binary.exists() and installed_version(binary) == version:
        return binary
    with open(target_dir / ".opa.lock", "w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        if binary.exists() and installed_version(binary) == version:
            return binary  # someone else built it while we waited
        go = shutil.which("go")
        if go is None:
            raise OpaUnavailable("building OPA needs the Go toolchain (`go` on PATH)")
        env = {**os.environ, "GOBIN": str(target_dir)}
        try:
            subprocess.run(
                [go, "install", f"{OPA_MODULE}@{version}"],
                env=env,
                capture_output=True,
                text=True,
                timeout=timeout,
                check=True,
            )
        except subprocess.CalledProcessError as exc:
            raise OpaUnavailable(
                f"go install {OPA_MODULE}@{version} failed:\n{exc.stderr}"
            ) from exc
        except subprocess.TimeoutExpired as exc:
            raise OpaUnavailable(f"go install of OPA took more than {timeout:.0f}s") from exc
    got = installed_version(binary)
    if got != version:
        raise OpaUnavailable(f"built {binary} reports version {got}, expected {version}")
    return binary


def free_port() -> int:
    """A TCP port that was free a moment ago (the OS picks it)."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind(("127.0.0.1", 0))
        port: int = s.getsockname()[1]
        return port


def _healthy(url: str) -> bool:
    try:
        with urllib.request.urlopen(f"{url}/health", timeout=1.0) as response:
            return bool(response.status == 200)
    except (urllib.error.URLError, OSError):
        return False


def start_opa_server(
    policy_dir: Path | None,
    port: int = 0,
    *,
    binary: Path | None = None,
    startup_timeout: float = 30.0,
) -> tuple[str, Callable[[], None]]:
    """Run ``opa run --server`` on 127.0.0.1 and return ``(url, stop)`` once ``/health`` answers.

    ``policy_dir`` is loaded like a bundle directory (``plutarc/data.json`` -> ``data.plutarc``);
    pass None for an empty server to push policy into. ``port=0`` picks a free port.
    Telemetry (a version check over the network) is disabled. ``stop`` is idempotent.
    """
    opa = binary or ensure_opa()
    port = port or free_port()
    url = f"http://127.0.0.1:{port}"
    log = tempfile.NamedTemporaryFile(prefix="plutarc-opa-", suffix=".log", delete=False)  # noqa: SIM115
    cmd = [
        str(opa),
        "run",
        "--server",
        "--addr",
        f"127.0.0.1:{port}",
        "--disable-telemetry",
        "--log-level",
        "error",
    ]
    if policy_dir is not None:
        cmd.append(str(policy_dir))
    proc = subprocess.Popen(cmd, stdout=log, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL)

    def stop() -> None:
        if proc.poll() is None:
            proc.terminate()
            try:
                proc.wait(timeout=10)
            except subprocess.TimeoutExpired:
                proc.kill()
                proc.wait(timeout=10)
        log.close()
        with contextlib.suppress(OSError):
            os.unlink(log.name)

    deadline = time.monotonic() + startup_timeout
    while not _healthy(url):
        if proc.poll() is not None or time.monotonic() > deadline:
            log.flush()
            output = Path(log.name).read_text(errors="replace")[-4000:]
            why = f"exited with {proc.returncode}" if proc.poll() is not None else "timed out"
            stop()
            raise OpaUnavailable(f"OPA server on {url} {why}:\n{output}")
        time.sleep(0.05)  # poll interval inside the deadline loop, not a wait for an outcome
    return url, stop
