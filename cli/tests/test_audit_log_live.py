"""`plutarc audit log` against the running platform (identity service + API on real Kafka): the log
as the API pages it, and `--follow` as a real process that prints new entries as they happen and
exits 0 when it gets SIGINT (Ctrl-C).

The platform serves from the test's event loop, so the CLI runs in a worker thread or a process.
"""
# ruff: noqa: F811  (tests take the imported `platform` fixture as a parameter, as pytest intends)

from __future__ import annotations

import asyncio
import json
import os
import signal
import sys
from pathlib import Path
from typing import Any

import pytest
from click.testing import Result
from typer.testing import CliRunner

# e2e/ is a package at the repository root (see test_client_cli.py).
_ROOT = Path(__file__).resolve().parents[2]
if str(_ROOT) not in sys.path:
    sys.path.append(str(_ROOT))

from plutarc_cli.client import Credentials  # noqa: E402
from plutarc_cli.main import app  # noqa: E402
from plutarc_testkit.waiting import until  # noqa: E402

from e2e.conftest import Platform, platform  # noqa: E402, F401
from e2e.sse import audit, join, organisation  # noqa: E402

pytestmark = pytest.mark.kafka
DEADLINE = 30.0


def logged_in(home: Path, platform: Platform, token: str, workspace_id: str) -> dict[str, str]:
    """The environment of a terminal logged in to the platform with `token`."""
    env = {"XDG_CONFIG_HOME": str(home / "config"), "PLUTARC_API_URL": platform.base_url}
    path = home / "config" / "plutarc" / "credentials.json"
    Credentials(api_url=platform.base_url, token=token, workspace_id=workspace_id).save(path)
    return env


async def cli(env: dict[str, str], *args: str) -> Result:
    result = await asyncio.to_thread(CliRunner().invoke, app, ["audit", "log", *args], env=env)
    assert "Traceback" not in result.output
    return result


async def test_the_log_is_the_apis_with_its_filters(platform: Platform, tmp_path: Path) -> None:
    olivia, _, _ = await platform.user("olivia")
    async with platform.client(olivia) as http:
        ws = await organisation(http, "Desk")
        for name in ("Desk 1", "Desk 2"):
            assert (await http.patch(f"/v1/workspaces/{ws}", json={"name": name})).is_success
        viewer, _ = await join(platform, http, ws, "vic", "viewer")
        log = await audit(http, ws)
    env = logged_in(tmp_path / "olivia", platform, olivia, ws)

    r = await cli(env, "--json", "--workspace", "Desk 2")
    assert r.exit_code == 0, r.output
    assert [json.loads(line) for line in r.stdout.splitlines()] == log

    r = await cli(env, "--action", "identity.workspace_renamed")
    assert r.exit_code == 0, r.output
    lines = r.stdout.splitlines()
    assert len(lines) == 2 and all("identity.workspace_renamed" in line for line in lines)
    assert lines[1].endswith("name: Desk 1 → Desk 2")

    r = await cli(env, "--since", "2999-01-01T00:00:00Z")
    assert (r.exit_code, r.stdout) == (0, "")

    r = await cli(logged_in(tmp_path / "vic", platform, viewer, ws))
    assert r.exit_code == 1
    assert r.stderr.startswith("error: access.forbidden: ")


class Process:
    """`plutarc` in a process of its own, its output read as it comes."""

    def __init__(self, proc: asyncio.subprocess.Process) -> None:
        self.proc = proc
        self.lines: list[dict[str, Any]] = []
        self.reading = asyncio.create_task(self._read())

    async def _read(self) -> None:
        assert self.proc.stdout is not None
        async for line in self.proc.stdout:
            self.lines.append(json.loads(line))

    async def printed(self, count: int) -> list[dict[str, Any]]:
        await until(
            lambda: len(self.lines) >= count or self.proc.returncode is not None,
            timeout=DEADLINE,
            what=f"{count} entries printed",
        )
        assert len(self.lines) >= count, f"exited {self.proc.returncode}: {self.lines}"
        return self.lines


async def test_follow_prints_new_entries_until_ctrl_c_then_exits_0(
    platform: Platform, tmp_path: Path
) -> None:
    olivia, _, _ = await platform.user("olivia")
    async with platform.client(olivia) as http:
        ws = await organisation(http, "Desk")
        history = await audit(http, ws)
        env = {**os.environ, **logged_in(tmp_path, platform, olivia, ws)}
        proc = await asyncio.create_subprocess_exec(
            str(Path(sys.executable).parent / "plutarc"),
            *("audit", "log", "--follow", "--json"),
            env=env,
            stdout=asyncio.subprocess.PIPE,
            stderr=asyncio.subprocess.PIPE,
        )
        follower = Process(proc)
        try:
            await follower.printed(len(history))
            for name in ("Desk 1", "Desk 2"):
                assert (await http.patch(f"/v1/workspaces/{ws}", json={"name": name})).is_success
            lines = await follower.printed(len(history) + 2)
            proc.send_signal(signal.SIGINT)
            code = await asyncio.wait_for(proc.wait(), DEADLINE)
        finally:
            if proc.returncode is None:
                proc.kill()
                await proc.wait()
        assert proc.stderr is not None
        stderr = (await proc.stderr.read()).decode()
        assert code == 0, stderr
        assert "Traceback" not in stderr and "Aborted" not in stderr
        await follower.reading
        assert lines == await audit(http, ws), "each entry once, in order, no gap"
        assert [e["after"]["name"] for e in lines[len(history) :]] == ["Desk 1", "Desk 2"]
