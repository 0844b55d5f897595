"""The gateway API as its own OS process (`python -m plutarc_api.main`), for tests that kill it
or run it with several workers behind one port."""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
from pathlib import Path

import httpx
from plutarc_testkit.waiting import until


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


class ApiProcess:
    def __init__(self, kafka_bootstrap: str, data_dir: Path, **env: str) -> None:
        self.port = free_port()
        self.base_url = f"http://127.0.0.1:{self.port}"
        self.data_dir = data_dir
        self.env = {
            **os.environ,
            "PLUTARC_KAFKA_BOOTSTRAP": kafka_bootstrap,
            "PLUTARC_DATA_DIR": str(data_dir),
            "PLUTARC_HTTP_PORT": str(self.port),
            "PLUTARC_OPS_PORT": "0",
            "PLUTARC_ARGON2_TIME_COST": "1",
            "PLUTARC_ARGON2_MEMORY_KIB": "8192",
            "PLUTARC_LOG_LEVEL": "WARNING",
            **{f"PLUTARC_{k.upper()}": v for k, v in env.items()},
        }
        self.proc: subprocess.Popen[bytes] | None = None

    def spawn(self) -> None:
        log = open(self.data_dir.parent / f"api-{self.port}.log", "ab")  # noqa: SIM115
        self.proc = subprocess.Popen(
            [sys.executable, "-m", "plutarc_api.main"],
            env=self.env,
            stdout=log,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
        log.close()

    async def start(self) -> ApiProcess:
        self.spawn()
        await until(self._ready, timeout=90, what=f"API process on {self.port} ready")
        return self

    async def _ready(self) -> bool:
        assert self.proc is not None
        if self.proc.poll() is not None:
            raise RuntimeError(f"the API process exited with {self.proc.returncode}")
        try:
            async with httpx.AsyncClient(base_url=self.base_url, timeout=2) as http:
                return (await http.get("/ready")).status_code == 200
        except httpx.TransportError:
            return False

    def kill(self) -> None:
        """SIGKILL to the whole process group (uvicorn's supervisor and its workers)."""
        assert self.proc is not None
        os.killpg(self.proc.pid, signal.SIGKILL)
        self.proc.wait(30)

    def stop(self) -> None:
        if self.proc is not None and self.proc.poll() is None:
            os.killpg(self.proc.pid, signal.SIGTERM)
            try:
                self.proc.wait(30)
            except subprocess.TimeoutExpired:
                self.kill()
