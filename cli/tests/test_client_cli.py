"""`plutarc login`, `workspaces`, `switch`, `members`, `invite`, `accept`, `role`, `org create`:
the command line as a real client of the running platform (identity service + API on real Kafka).

The platform serves from the test's event loop, so every CLI invocation runs in a worker thread.
"""
# ruff: noqa: F811  (tests take the imported `platform` fixture as a parameter, as pytest intends)

from __future__ import annotations

import asyncio
import json
import socket
import stat
import sys
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from uuid import uuid4

import httpx
import pytest
from click.testing import Result
from typer.testing import CliRunner

# e2e/ is a package at the repository root; pytest (--import-mode=importlib) does not put the root
# on sys.path, so put it at the end (nothing installed is shadowed) and reuse its fixture as is.
_ROOT = Path(__file__).resolve().parents[2]
if str(_ROOT) not in sys.path:
    sys.path.append(str(_ROOT))

from plutarc_cli.client import ApiError, Credentials, PlutarcClient  # noqa: E402
from plutarc_cli.main import app  # noqa: E402

from e2e.conftest import Platform, platform  # noqa: E402, F401

PASSWORD = "correct horse battery"


@dataclass
class Cli:
    """One person at one terminal: their own config directory, the platform's URL in the env."""

    home: Path
    api_url: str
    runner: CliRunner

    @property
    def config_dir(self) -> Path:
        return self.home / "config" / "plutarc"

    @property
    def credentials(self) -> dict[str, Any]:
        return json.loads((self.config_dir / "credentials.json").read_text())

    def env(self) -> dict[str, str]:
        return {
            "HOME": str(self.home),
            "XDG_CONFIG_HOME": str(self.home / "config"),
            "PLUTARC_API_URL": self.api_url,
        }

    async def __call__(self, *args: str, input: str | None = None) -> Result:
        result = await asyncio.to_thread(
            self.runner.invoke, app, list(args), input=input, env=self.env()
        )
        assert result.exception is None or isinstance(result.exception, SystemExit), (
            f"a traceback escaped: {result.exception!r}\n{result.output}"
        )
        assert "Traceback" not in result.output
        return result

    async def ok(self, *args: str, input: str | None = None) -> Result:
        result = await self(*args, input=input)
        assert result.exit_code == 0, f"{args}: exit {result.exit_code}\n{result.output}"
        return result

    async def json(self, *args: str) -> Any:
        return json.loads((await self.ok(*args, "--json")).stdout)


@pytest.fixture
def cli(tmp_path: Path) -> Callable[[str, str], Cli]:
    def make(name: str, api_url: str) -> Cli:
        home = tmp_path / name
        home.mkdir()
        return Cli(home, api_url, CliRunner())

    return make


def _email(name: str, platform: Platform) -> str:
    """Unique across the session: every test's API replays the one shared identity topic."""
    return f"{name}-{uuid4().hex[:8]}@example.com"


async def _account(c: Cli, name: str, email: str) -> None:
    await c.ok("register", "--email", email, "--name", name, "--password-stdin", input=PASSWORD)
    await c.ok("login", "--email", email, "--password-stdin", input=PASSWORD + "\n")


def _error_line(result: Result) -> str:
    lines = [line for line in result.stderr.splitlines() if line.startswith("error:")]
    assert len(lines) == 1, result.output
    return lines[0]


@pytest.mark.kafka
async def test_a_team_forms_from_the_command_line(platform: Platform, cli) -> None:
    olivia, bob = cli("olivia", platform.base_url), cli("bob", platform.base_url)
    olivia_email, bob_email = _email("olivia", platform), _email("bob", platform)

    # register prompts for the password twice; login prompts once, without echo.
    r = await olivia.ok(
        "register",
        "--email",
        olivia_email,
        "--name",
        "Olivia",
        input=f"{PASSWORD}\n{PASSWORD}\n",
    )
    assert "Registered" in r.stdout and PASSWORD not in r.output
    r = await olivia.ok("login", "--email", olivia_email, input=PASSWORD + "\n")
    assert f"Logged in to {platform.base_url} as {olivia_email}" in r.stdout
    assert "Current workspace: Olivia" in r.stdout and PASSWORD not in r.output

    stored = olivia.credentials
    assert stored["api_url"] == platform.base_url and stored["token"].startswith("pls_")
    assert stored["token"] not in r.output, "the session token is never printed"
    creds_file = olivia.config_dir / "credentials.json"
    assert stat.S_IMODE(creds_file.stat().st_mode) == 0o600
    assert stat.S_IMODE(olivia.config_dir.stat().st_mode) == 0o700

    [personal] = await olivia.json("workspaces")
    assert (personal["kind"], personal["role"], personal["current"]) == ("personal", "owner", True)

    # org create switches to the new organisation
    desk = await olivia.json("org", "create", "Tokyo Desk")
    assert (desk["name"], desk["your_role"], desk["current"]) == ("Tokyo Desk", "owner", True)
    listing = await olivia.json("workspaces")
    assert [(w["name"], w["kind"], w["current"]) for w in listing] == [
        ("Olivia", "personal", False),
        ("Tokyo Desk", "organisation", True),
    ]
    table = (await olivia.ok("workspaces")).stdout
    [current_row] = [line for line in table.splitlines() if line.lstrip().startswith("*")]
    assert "Tokyo Desk" in current_row and desk["workspace_id"] in current_row
    assert "organisation" in current_row and "owner" in current_row

    # switch by unique name prefix, by id; the same token serves every workspace
    token = olivia.credentials["token"]
    r = await olivia.ok("switch", "olI")
    assert "Switched to Olivia (personal, owner)" in r.stdout
    assert olivia.credentials["workspace_id"] == personal["workspace_id"]
    await olivia.ok("switch", desk["workspace_id"])
    assert olivia.credentials["workspace_id"] == desk["workspace_id"]
    assert stat.S_IMODE(creds_file.stat().st_mode) == 0o600, "rewritten, still private"
    assert olivia.credentials["token"] == token

    # invite a second user, who accepts from their own terminal
    await _account(bob, "Bob", bob_email)
    r = await olivia.ok("invite", bob_email, "--role", "trader", "--days", "3")
    [invitation_token] = [line for line in r.stdout.splitlines() if line.startswith("pli_")]
    assert "shown only once" in r.stderr
    assert f"Invited {bob_email} to Tokyo Desk as trader" in r.stdout

    r = await bob.ok("accept", invitation_token, "--switch")
    assert "Joined Tokyo Desk as trader" in r.stdout
    assert bob.credentials["workspace_id"] == desk["workspace_id"]
    assert {(w["kind"], w["role"]) for w in await bob.json("workspaces")} == {
        ("personal", "owner"),
        ("organisation", "trader"),
    }

    r = await bob.ok("members")
    assert "Members of Tokyo Desk" in r.stdout
    rows = {line.split()[0]: line for line in r.stdout.splitlines() if "@" in line}
    assert "owner" in rows[olivia_email] and "trader" in rows[bob_email]
    assert "(you)" in rows[bob_email] and "(you)" not in rows[olivia_email]

    # a trader may not invite at all
    r = await bob("invite", "carol@example.com", "--role", "viewer")
    assert r.exit_code == 1
    assert _error_line(r).startswith("error: access.forbidden: ")

    # role change by email, then by user id
    r = await olivia.ok("role", bob_email, "manager")
    assert f"{bob_email} is now manager in Tokyo Desk" in r.stdout
    people = await olivia.json("members", "--workspace", "tokyo")
    roles = {m["email"]: m["role"] for m in people}
    assert roles == {olivia_email: "owner", bob_email: "manager"}
    bob_id = next(m["user_id"] for m in people if m["email"] == bob_email)

    # a manager may invite, but not with a role above their own
    r = await bob("invite", "carol@example.com", "--role", "admin")
    assert r.exit_code == 1
    assert _error_line(r).startswith("error: access.role_escalation: ")
    assert not r.stdout.strip(), "nothing but the error line"

    updated = await olivia.json("role", bob_id, "viewer")
    assert {m["user_id"]: m["role"] for m in updated}[bob_id] == "viewer"

    # nobody changes their own role
    r = await olivia("role", olivia_email, "admin")
    assert r.exit_code == 1
    assert _error_line(r).startswith("error: access.self_role_change: ")

    # the invitation was used once and only once
    r = await bob("accept", invitation_token)
    assert r.exit_code == 1
    assert _error_line(r).startswith("error: identity.invitation_used: ")


@pytest.mark.kafka
async def test_wrong_password_is_refused_with_its_code_and_stores_nothing(
    platform: Platform, cli
) -> None:
    _, _, email = await platform.user("wendy")
    c = cli("wendy", platform.base_url)
    r = await c("login", "--email", email, "--password-stdin", input="not the password\n")
    assert r.exit_code == 1
    assert _error_line(r) == "error: auth.invalid_credentials: the email or password is wrong"
    assert not (c.config_dir / "credentials.json").exists()

    r = await c("workspaces")
    assert r.exit_code == 4
    assert _error_line(r).startswith("error: cli.not_logged_in: ")


@pytest.mark.kafka
async def test_register_shows_the_invalid_field_and_a_taken_email(platform: Platform, cli) -> None:
    c = cli("rita", platform.base_url)
    email = _email("rita", platform)
    r = await c("register", "--email", email, "--name", "Rita", "--password-stdin", input="short")
    assert r.exit_code == 1
    line = _error_line(r)
    assert line.startswith("error: request.invalid: ") and "password" in line

    await c.ok("register", "--email", email, "--name", "Rita", "--password-stdin", input=PASSWORD)
    r = await c("register", "--email", email, "--name", "Rita", "--password-stdin", input=PASSWORD)
    assert r.exit_code == 1
    assert _error_line(r).startswith("error: identity.email_taken: ")


@pytest.mark.kafka
async def test_logout_ends_the_session_on_the_api_and_forgets_the_token(
    platform: Platform, cli
) -> None:
    c = cli("lou", platform.base_url)
    await _account(c, "Lou", _email("lou", platform))
    token = c.credentials["token"]
    workspace = c.credentials["workspace_id"]

    r = await c.ok("logout")
    assert f"Logged out of {platform.base_url}" in r.stdout
    assert c.credentials["token"] is None and c.credentials["workspace_id"] == workspace
    async with platform.client(token) as http:
        refused = await http.get("/v1/me")
    assert refused.status_code == 401 and refused.json()["code"] == "auth.unauthenticated"

    r = await c("members")
    assert r.exit_code == 4 and "cli.not_logged_in" in _error_line(r)
    assert (await c.ok("logout")).stdout.startswith("Not logged in")


@pytest.mark.kafka
async def test_switch_names_what_it_cannot_resolve(platform: Platform, cli) -> None:
    c = cli("sam", platform.base_url)
    await _account(c, "Sam", _email("sam", platform))
    await c.ok("org", "create", "Desk Alpha", "--no-switch")
    await c.ok("org", "create", "Desk Beta", "--no-switch")
    [current] = [w for w in await c.json("workspaces") if w["current"]]
    assert current["kind"] == "personal", "--no-switch keeps the current workspace"

    r = await c("switch", "desk")
    assert r.exit_code == 2
    line = _error_line(r)
    assert line.startswith("error: cli.workspace_ambiguous: ")
    assert "Desk Alpha" in line and "Desk Beta" in line

    r = await c("switch", "nowhere")
    assert r.exit_code == 1 and _error_line(r).startswith("error: cli.workspace_not_found: ")

    await c.ok("switch", "desk b")
    r = await c.ok("members")
    assert "Members of Desk Beta" in r.stdout


@pytest.mark.kafka
async def test_an_expired_or_foreign_session_is_reported_not_traced(
    platform: Platform, cli
) -> None:
    c = cli("eve", platform.base_url)
    await _account(c, "Eve", _email("eve", platform))
    creds = Credentials(**c.credentials)
    creds.token = "pls_" + "x" * 43  # a session the API does not know
    creds.save(c.config_dir / "credentials.json")
    r = await c("workspaces")
    assert r.exit_code == 4
    line = _error_line(r)
    assert line.startswith("error: auth.unauthenticated: ") and "plutarc login" in line


# --- without the platform ------------------------------------------------------------------------


def _closed_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


async def test_an_unreachable_api_exits_3_with_one_line(cli) -> None:
    url = f"http://127.0.0.1:{_closed_port()}"
    c = cli("nobody", url)
    r = await c("login", "--email", "a@example.com", "--password-stdin", input=PASSWORD)
    assert r.exit_code == 3
    assert _error_line(r).startswith(f"error: cli.unreachable: cannot reach the API at {url}")


async def test_a_token_is_only_sent_to_the_api_that_issued_it(cli) -> None:
    c = cli("tess", "http://127.0.0.1:9")
    Credentials(api_url="http://127.0.0.1:8", token="pls_secret", workspace_id="w").save(
        c.config_dir / "credentials.json"
    )
    r = await c("workspaces", "--api", "http://127.0.0.1:9")
    assert r.exit_code == 4
    assert "you are logged in to http://127.0.0.1:8" in _error_line(r)


def test_problem_json_becomes_an_api_error_and_writes_carry_an_idempotency_key() -> None:
    seen: list[httpx.Request] = []

    def handler(request: httpx.Request) -> httpx.Response:
        seen.append(request)
        if len(seen) == 1:  # the first attempt meets an API still replaying the event log
            return httpx.Response(
                503,
                json={"code": "api.warming_up", "detail": "retry shortly", "status": 503},
                headers={"Retry-After": "0", "content-type": "application/problem+json"},
            )
        return httpx.Response(
            403,
            json={
                "type": "https://plutarc.dev/problems/identity/role_escalation",
                "title": "identity role escalation",
                "status": 403,
                "detail": "a manager may not grant admin",
                "code": "access.role_escalation",
            },
            headers={"content-type": "application/problem+json"},
        )

    client = PlutarcClient(
        "http://api", "pls_t", transport=httpx.MockTransport(handler), sleep=lambda _: None
    )
    with pytest.raises(ApiError) as caught:
        client.invite("w1", "x@example.com", "admin")
    e = caught.value
    assert (e.code, e.status, e.detail) == (
        "access.role_escalation",
        403,
        "a manager may not grant admin",
    )
    keys = {r.headers["Idempotency-Key"] for r in seen}
    assert len(seen) == 2 and len(keys) == 1, "a retried write carries the key it first sent"
    assert seen[0].headers["Authorization"] == "Bearer pls_t"


def test_a_late_reply_is_followed_on_its_status_url() -> None:
    def handler(request: httpx.Request) -> httpx.Response:
        if request.method == "POST":
            url = "/v1/commands/c1"
            body = {"command_id": "c1", "status": "pending", "status_url": url}
            return httpx.Response(202, json=body, headers={"Location": url})
        if request.url.path == "/v1/commands/c1":
            polls.append(request)
            status = "pending" if len(polls) == 1 else "accepted"
            return httpx.Response(
                200, json={"command_id": "c1", "status": status, "result": {"workspace_id": "w9"}}
            )
        assert request.url.path == "/v1/workspaces/w9"
        return httpx.Response(200, json={"workspace_id": "w9", "name": "Late Desk"})

    polls: list[httpx.Request] = []
    client = PlutarcClient(
        "http://api", "pls_t", transport=httpx.MockTransport(handler), sleep=lambda _: None
    )
    assert client.create_organisation("Late Desk")["name"] == "Late Desk"
    assert len(polls) == 2
