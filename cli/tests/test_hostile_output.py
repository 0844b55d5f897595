"""What the CLI prints that came from the server (names, emails, problem details) or from a store
reaches the terminal with no raw control or format character and no rich markup acted on: an ESC
sequence, a bidi override or `[bold red]` is shown as text (`\\x1b`, `\\u202e`), never obeyed.

The server here is a fake (httpx.MockTransport): the real API refuses such names since they were
made safe at the edge, but a CLI must not trust what it is told, and stores written before that
still hold them.
"""

from __future__ import annotations

import functools
import json
from datetime import timedelta
from pathlib import Path
from typing import Any
from uuid import uuid4

import httpx
import pytest
from click.testing import Result
from plutarc_cli import audit_cmd, client_cmd
from plutarc_cli.client import PlutarcClient
from plutarc_cli.main import app
from plutarc_contracts import default_registry
from plutarc_runtime.text import is_unsafe
from plutarc_testkit.vault import OpenSafe, StoreItem, Vault, vault_registry
from typer.testing import CliRunner

API = "http://fake-api"
HOSTILE = "\x1b]0;pwned\x07Desk\x1b[2J\u202eevil\u2066[bold red]x[/]\x9b31m\r\x00"
EMAIL = "eve\x1b[31m@example.com"
WS = "0199a1e2-0000-7000-8000-000000000001"
USER = "0199a1e2-0000-7000-8000-000000000002"


def raw_controls(text: str) -> list[str]:
    """Characters a terminal would act on; newlines are the CLI's own layout."""
    return [hex(ord(ch)) for ch in text if is_unsafe(ch) and ch != "\n"]


def fake_api(request: httpx.Request) -> httpx.Response:
    path = request.url.path
    membership = {
        "workspace_id": WS,
        "name": HOSTILE,
        "kind": "organisation",
        "role": "owner",
        "archived": False,
    }
    answers: dict[str, Any] = {
        "/v1/auth/login": {
            "token": "pls_t",
            "token_type": "bearer",
            "session_id": str(uuid4()),
            "user_id": USER,
            "expires_at": "2030-01-01T00:00:00Z",
        },
        "/v1/me": {
            "user_id": USER,
            "email": EMAIL,
            "display_name": HOSTILE,
            "personal_workspace_id": WS,
        },
        "/v1/me/workspaces": [membership],
        f"/v1/workspaces/{WS}/members": [
            {"user_id": USER, "email": EMAIL, "display_name": HOSTILE, "role": "owner"}
        ],
    }
    if path in answers:
        return httpx.Response(200, json=answers[path])
    problem = {
        "type": "https://plutarc.dev/problems/identity/last_owner",
        "title": "last owner",
        "status": 409,
        "detail": f"cannot leave {HOSTILE}",
        "code": "identity.last_owner",
        "instance": path,
        "errors": [{"field": "name", "message": HOSTILE}],
    }
    return httpx.Response(409, json=problem, headers={"Content-Type": "application/problem+json"})


@pytest.fixture
def cli(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> CliRunner:
    """Logged in to the fake API."""
    monkeypatch.setattr(
        client_cmd,
        "PlutarcClient",
        functools.partial(PlutarcClient, transport=httpx.MockTransport(fake_api)),
    )
    monkeypatch.setenv("XDG_CONFIG_HOME", str(tmp_path / "config"))
    monkeypatch.setenv("PLUTARC_API_URL", API)
    runner = CliRunner()
    login = runner.invoke(
        app, ["login", "--email", "eve@example.com", "--password-stdin"], input="pw\n"
    )
    assert login.exit_code == 0, login.output
    return runner


def shown(result: Result) -> str:
    assert "Traceback" not in result.output
    assert raw_controls(result.stdout) == [], result.stdout
    assert raw_controls(result.stderr) == [], result.stderr
    return result.output


# HOSTILE as the CLI must show it.
SHOWN = "\\x1b]0;pwned\\x07Desk\\x1b[2J\\u202eevil\\u2066[bold red]x[/]\\x9b31m\\x0d\\x00"


def test_names_and_emails_are_shown_escaped_and_markup_as_text(cli: CliRunner) -> None:
    assert SHOWN in shown(cli.invoke(app, ["workspaces"]))
    assert f"Switched to {SHOWN}" in shown(cli.invoke(app, ["switch", WS]))
    members = shown(cli.invoke(app, ["members"]))
    assert f"Members of {SHOWN}" in members and "eve\\x1b[31m@example.com" in members
    login = ["login", "--email", "eve@example.com", "--password-stdin"]
    again = shown(cli.invoke(app, login, input="pw\n"))
    assert f"Current workspace: {SHOWN}" in again and "eve\\x1b[31m@example.com" in again


def test_a_problem_detail_is_one_escaped_line(cli: CliRunner) -> None:
    refused = cli.invoke(app, ["org", "create", "Desk"])
    assert refused.exit_code == 1
    [line] = shown(refused).strip().splitlines()
    assert line.startswith("error: identity.last_owner: cannot leave \\x1b]0;pwned")
    assert "[bold red]x[/]" in line


def test_json_output_escapes_them_as_json_and_keeps_the_data(cli: CliRunner) -> None:
    out = cli.invoke(app, ["workspaces", "--json"])
    assert out.exit_code == 0
    assert json.loads(shown(out))[0]["name"] == HOSTILE
    assert "\\u202e" in out.stdout and "\\u001b" in out.stdout


def test_audit_output_from_a_store_is_escaped(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(
        audit_cmd, "default_registry", lambda: default_registry().merge(vault_registry()).freeze()
    )
    vault = Vault(sqlite_path=tmp_path / "vault.sqlite")
    desk, safe = str(uuid4()), str(uuid4())
    try:
        vault.ok(
            "user:eve",
            OpenSafe(safe_id=safe, workspace_id=desk, label=HOSTILE, pin_hash="0" * 64),
            desk,
        )
        vault.ok("user:eve", StoreItem(safe_id=safe, item="\u202egold"), desk)
        vault.clock.advance(timedelta(hours=1))
    finally:
        vault.close()
    args = ["--data-dir", str(tmp_path), "--service", "vault", "--workspace", desk]
    runner = CliRunner()

    exported = runner.invoke(app, ["audit", "export", *args])
    assert exported.exit_code == 0, exported.output
    entries = [json.loads(line) for line in shown(exported).splitlines() if line.startswith("{")]
    assert entries[0]["after"]["label"] == HOSTILE  # the same data, escaped as JSON

    as_of = "2100-01-01T00:00:00Z"
    table = runner.invoke(app, ["audit", "replay", "--as-of", as_of, *args])
    assert table.exit_code == 0, table.output
    assert "\\x1b]0;pwned\\x07Desk" in shown(table) and "\\u202egold" in table.stdout
    as_json = runner.invoke(app, ["audit", "replay", "--as-of", as_of, "--json", *args])
    assert json.loads(shown(as_json))["safes"][0]["label"] == HOSTILE
