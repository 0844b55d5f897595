"""The compose platform (deploy/compose/compose.yaml) run by podman-compose for one test session:
its own project name, its own free ports, its own volumes; everything removed at the end."""

from __future__ import annotations

import os
import shlex
import socket
import subprocess
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import httpx
from plutarc_testkit.waiting import wait_until

ROOT = Path(__file__).resolve().parents[2]
COMPOSE_FILE = ROOT / "deploy" / "compose" / "compose.yaml"
PODMAN_COMPOSE = "podman-compose==1.5.0"
"""From PyPI through uv: Debian's 1.0.3 cannot run network_mode: host (it adds a network)."""
SERVICES = ("identity", "support", "bots", "exchange", "compute")
PORTS = ("KAFKA", "POSTGRES", "OPA", "API", "API_OPS", *(s.upper() for s in SERVICES))


def uv() -> list[str]:
    """The command that runs uv (`uv`, or `python3 -m uv` where uv came from pip)."""
    out = subprocess.run(
        [str(ROOT / "scripts" / "ensure-uv")], capture_output=True, text=True, check=True
    ).stdout
    return shlex.split(out)


def containers_conf() -> str:
    return subprocess.run(
        [str(ROOT / "scripts" / "ensure-podman")], capture_output=True, text=True, check=True
    ).stdout.strip()


def free_ports(n: int) -> list[int]:
    """n distinct free ports, none of them a port + 1 of another (Kafka's controller takes it)."""
    socks, ports = [], []
    while len(ports) < n:
        s = socket.socket()
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
        socks.append(s)
        if all(abs(port - p) > 1 for p in ports):
            ports.append(port)
    for s in socks:
        s.close()
    return ports


class ComposePlatform:
    def __init__(self, artifacts: Path) -> None:
        self.project = f"plutarc-t{uuid.uuid4().hex[:8]}"
        self.ports = dict(zip(PORTS, free_ports(len(PORTS)), strict=True))
        self.env = {
            **os.environ,
            "CONTAINERS_CONF": containers_conf(),
            **{f"PLUTARC_{name}_PORT": str(port) for name, port in self.ports.items()},
        }
        self.base_url = f"http://127.0.0.1:{self.ports['API']}"
        self.artifacts = artifacts
        self._uv = uv()

    def compose(self, *args: str, check: bool = True) -> subprocess.CompletedProcess[str]:
        cmd = [*self._uv, "tool", "run", "--quiet", "--from", PODMAN_COMPOSE, "podman-compose"]
        cmd += ["-p", self.project, "-f", str(COMPOSE_FILE), *args]
        proc = subprocess.run(cmd, env=self.env, capture_output=True, text=True, check=False)
        if check and proc.returncode != 0:
            raise AssertionError(f"{' '.join(args)} failed:\n{proc.stdout}\n{proc.stderr}")
        return proc

    def podman(self, *args: str) -> subprocess.CompletedProcess[str]:
        return subprocess.run(
            ["podman", *args], env=self.env, capture_output=True, text=True, check=False
        )

    def container(self, service: str) -> str:
        return f"{self.project}_{service}_1"

    def ready(self, port: int) -> bool:
        try:
            return httpx.get(f"http://127.0.0.1:{port}/ready", timeout=2).status_code == 200
        except httpx.HTTPError:
            return False

    def wait_ready(self, timeout: float = 240) -> None:
        """Every service's ops endpoint and the API answer ready (or the deadline passes)."""
        pending = [self.ports[s.upper()] for s in SERVICES] + [self.ports["API"]]

        def all_ready() -> bool:
            pending[:] = [p for p in pending if not self.ready(p)]
            return not pending

        try:
            wait_until(all_ready, timeout=timeout, interval=0.5, what="every service ready")
        except AssertionError:
            names = [k for k, v in self.ports.items() if v in pending]
            raise AssertionError(f"not ready: {names}; logs in {self.artifacts}") from None

    def save_logs(self) -> None:
        self.artifacts.mkdir(parents=True, exist_ok=True)
        names = self.podman(
            "ps", "-a", "--filter", f"name={self.project}_", "--format", "{{.Names}}"
        )
        for name in names.stdout.split():
            logs = self.podman("logs", name)
            (self.artifacts / f"{name}.log").write_text(logs.stdout + logs.stderr)

    def down(self) -> None:
        self.compose("down", "-v", "-t", "5", check=False)


@contextmanager
def compose_platform(artifacts: Path) -> Iterator[ComposePlatform]:
    platform = ComposePlatform(artifacts)
    try:
        platform.compose("up", "-d")
        platform.wait_ready()
        yield platform
    except BaseException:
        platform.save_logs()
        raise
    finally:
        platform.down()


def user(http: httpx.Client, name: str) -> str:
    email = f"{name}-{uuid.uuid4().hex[:8]}@example.com"
    body = {"email": email, "password": "correct horse battery", "display_name": name.title()}
    r = http.post("/v1/auth/register", json=body)
    assert r.status_code == 201, r.text
    r = http.post("/v1/auth/login", json={"email": email, "password": body["password"]})
    assert r.status_code == 200, r.text
    token: str = r.json()["token"]
    return token


def organisation(http: httpx.Client, name: str) -> str:
    """A new organisation's path (`/v1/workspaces/<id>`), once the API's read models know it."""
    r = http.post("/v1/organisations", json={"name": name})
    assert r.status_code == 201, r.text
    path = f"/v1/workspaces/{r.json()['workspace_id']}"
    wait_until(
        lambda: http.get(path).status_code == 200, timeout=60, interval=0.25, what=f"{name} known"
    )
    return path


def open_ticket(http: httpx.Client, ws: str, subject: str) -> str:
    """Open a support ticket and wait until the API lists it."""
    body = {"subject": subject, "body": "From the deploy tests", "category": "bots"}
    ticket_id: str = post_when_known(http, f"{ws}/support/tickets", body).json()["ticket_id"]

    def listed() -> bool:
        tickets = http.get(f"{ws}/support/tickets").json()["tickets"]
        return any(t["ticket_id"] == ticket_id for t in tickets)

    wait_until(listed, timeout=60, interval=0.5, what=f"ticket {subject!r} in the API's list")
    return ticket_id


def post_when_known(http: httpx.Client, path: str, body: dict[str, Any]) -> httpx.Response:
    """POST, asked again while a workspace created a moment ago has not reached the service that
    answers (`workspace.not_found`: nothing was done). Any other answer but 201 fails the test."""
    answer: list[httpx.Response] = []

    def done() -> bool:
        r = http.post(path, json=body)
        if r.status_code == 404 and r.json().get("code") == "workspace.not_found":
            return False
        assert r.status_code == 201, r.text
        answer.append(r)
        return True

    wait_until(done, timeout=60, interval=0.5, what=f"POST {path} answered")
    return answer[0]
