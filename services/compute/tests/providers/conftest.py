"""The real Pulumi CLI (built by scripts/ensure-pulumi on first use), a local provider whose host is
tests/providers/host_script.py, and a TCP server that records where connections come from."""

from __future__ import annotations

import contextlib
import os
import signal
import socketserver
import subprocess
import sys
import threading
from collections.abc import Iterator
from pathlib import Path
from uuid import uuid4

import pytest
from plutarc_compute.providers.local import LocalProvider
from plutarc_compute.providers.stacks import REPO_ROOT, PulumiSettings

HOST_SCRIPT = Path(__file__).with_name("host_script.py")


@pytest.fixture(scope="session")
def pulumi_bin() -> Path:
    """The pinned CLI; the tests that drive Pulumi are skipped only if it cannot be built."""
    try:
        done = subprocess.run(
            [str(REPO_ROOT / "scripts" / "ensure-pulumi")],
            capture_output=True,
            text=True,
            timeout=1800,
        )
    except (OSError, subprocess.TimeoutExpired) as exc:
        pytest.skip(f"the pulumi CLI cannot be built here (scripts/ensure-pulumi: {exc})")
    if done.returncode != 0:
        pytest.skip(f"the pulumi CLI cannot be built here: {done.stderr.strip()[-400:]}")
    return Path(done.stdout.strip())


def settings_for(data_dir: Path, pulumi_bin: Path, **changes: object) -> PulumiSettings:
    return PulumiSettings(
        data_dir=data_dir,
        passphrase="test",
        bin_dir=pulumi_bin.parent,
        lock_budget_seconds=30,
        **changes,  # type: ignore[arg-type]
    )


def make_provider(data_dir: Path, pulumi_bin: Path, **changes: object) -> LocalProvider:
    return LocalProvider(
        settings_for(data_dir, pulumi_bin, **changes),
        command=[sys.executable, str(HOST_SCRIPT)],
        ready_timeout=20,
        stop_grace=2,
    )


@pytest.fixture
def provider(tmp_path: Path, pulumi_bin: Path) -> Iterator[LocalProvider]:
    made = make_provider(tmp_path, pulumi_bin)
    yield made
    made.stacks.close()


@pytest.fixture
def bot_id() -> Iterator[str]:
    """A new bot's id; whatever process of it a failed test left is killed afterwards."""
    bot = str(uuid4())
    yield bot
    for pid in bot_processes(bot):
        with contextlib.suppress(OSError):
            os.kill(pid, signal.SIGKILL)


class Recorder(socketserver.ThreadingTCPServer):
    daemon_threads = True
    allow_reuse_address = True

    def __init__(self) -> None:
        super().__init__(("127.0.0.1", 0), _Handler)
        self.seen: list[tuple[str, str]] = []
        """(source address, the first line: the bot's id) per connection."""

    @property
    def target(self) -> str:
        host, port = self.server_address[:2]
        return f"{host!s}:{port}"


class _Handler(socketserver.StreamRequestHandler):
    def handle(self) -> None:
        assert isinstance(self.server, Recorder)
        line = self.rfile.readline().decode().strip()
        self.server.seen.append((self.client_address[0], line))
        self.request.settimeout(60)
        while self.request.recv(1024):
            pass


@pytest.fixture
def recorder() -> Iterator[Recorder]:
    server = Recorder()
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield server
    finally:
        server.shutdown()
        server.server_close()


def bot_processes(bot_id: str) -> list[int]:
    """Live processes started for ``bot_id`` (their environment names it)."""
    marker = f"PLUTARC_BOT_ID={bot_id}".encode()
    found = []
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            stat = (entry / "stat").read_text()
            environ = (entry / "environ").read_bytes()
        except OSError:
            continue
        if stat[stat.rindex(")") + 2] in "ZX":
            continue
        if marker in environ.split(b"\0"):
            found.append(int(entry.name))
    return found
