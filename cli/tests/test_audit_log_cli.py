"""`plutarc audit log` against a fake API (httpx.MockTransport): pages of the audit log, then with
--follow the live stream, resumed with Last-Event-ID whenever it ends, until Ctrl-C; filters, bad
input and what the server sends, escaped. The same command against the real platform is in
test_audit_log_live.py.
"""

from __future__ import annotations

import functools
import json
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx
import pytest
from click.testing import Result
from plutarc_cli import client_cmd
from plutarc_cli.client import Credentials, PlutarcClient
from plutarc_cli.main import app
from plutarc_runtime.text import is_unsafe
from typer.testing import CliRunner

API = "http://fake-api"
WS = "0199a1e2-0000-7000-8000-000000000001"
HOSTILE = "\x1b]0;pwned\x07Desk\u202e[bold red]x[/]"


def entry(
    position: int, action: str = "identity.workspace_renamed", **after: Any
) -> dict[str, Any]:
    return {
        "position": position,
        "event_id": f"e{position}",
        "occurred_at": f"2026-11-25T10:00:{position:02d}Z",
        "actor": "user:u1",
        "action": action,
        "workspace_id": WS,
        "target": f"workspace:{WS}",
        "before": {"name": f"Desk {position - 1}"} if not after else {},
        "after": after or {"name": f"Desk {position}"},
        "correlation_id": "c",
        "causation_id": None,
    }


def frame(e: dict[str, Any]) -> bytes:
    return f"id: {e['position']}\nevent: {e['action']}\ndata: {json.dumps(e)}\n\n".encode()


Connection = Callable[[], Iterator[bytes]]


@dataclass
class FakeApi:
    """The audit log in pages of two; each connection to the stream plays the next script."""

    log: list[dict[str, Any]]
    streams: list[Connection | httpx.Response] = field(default_factory=list)
    audit_queries: list[dict[str, str]] = field(default_factory=list)
    resumed_after: list[str | None] = field(default_factory=list)
    sleeps: list[float] = field(default_factory=list)

    def __call__(self, request: httpx.Request) -> httpx.Response:
        path = request.url.path
        if path == "/v1/me/workspaces":
            membership = {
                "workspace_id": WS,
                "name": "Desk",
                "kind": "organisation",
                "role": "owner",
                "archived": False,
            }
            return httpx.Response(200, json=[membership])
        if path == f"/v1/workspaces/{WS}/audit":
            query = dict(request.url.params)
            self.audit_queries.append(query)
            log = [e for e in self.log if query.get("action", e["action"]) == e["action"]]
            if query.get("order") == "newest":
                log = log[::-1]
            start = int(query.get("cursor", "0"))
            size = min(2, int(query["limit"]))
            rows = log[start : start + size]
            more = start + size < len(log)
            return httpx.Response(
                200, json={"entries": rows, "next_cursor": str(start + size) if more else None}
            )
        if path == f"/v1/workspaces/{WS}/events":
            self.resumed_after.append(request.headers.get("Last-Event-ID"))
            script = self.streams.pop(0)
            if isinstance(script, httpx.Response):
                return script
            return httpx.Response(
                200, headers={"Content-Type": "text/event-stream"}, content=script()
            )
        return problem(404, "request.not_found", f"no route {path}")


def problem(status: int, code: str, detail: str) -> httpx.Response:
    body = {"type": "about:blank", "title": code, "status": status, "detail": detail, "code": code}
    return httpx.Response(status, json=body, headers={"Content-Type": "application/problem+json"})


def ctrl_c() -> Iterator[bytes]:
    raise KeyboardInterrupt
    yield b""  # a generator, interrupted as the user presses Ctrl-C while it waits


@pytest.fixture
def api(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> FakeApi:
    fake = FakeApi(log=[entry(1), entry(2), entry(3)])
    monkeypatch.setattr(
        client_cmd,
        "PlutarcClient",
        functools.partial(
            PlutarcClient, transport=httpx.MockTransport(fake), sleep=fake.sleeps.append
        ),
    )
    monkeypatch.setenv("XDG_CONFIG_HOME", str(tmp_path / "config"))
    monkeypatch.setenv("PLUTARC_API_URL", API)
    Credentials(api_url=API, token="pls_t", user_id="u1", workspace_id=WS).save()
    return fake


def run(*args: str) -> Result:
    result = CliRunner().invoke(app, ["audit", "log", *args])
    assert "Traceback" not in result.output
    assert result.exception is None or isinstance(result.exception, SystemExit), result.exception
    return result


def error_line(result: Result) -> str:
    [line] = [x for x in result.stderr.splitlines() if x.startswith("error:")]
    return line


def positions(result: Result) -> list[int]:
    return [json.loads(line)["position"] for line in result.stdout.splitlines()]


def test_it_prints_every_page_oldest_first_with_the_filters_sent(api: FakeApi) -> None:
    r = run("--json", "--actor", "user:u1", "--action", "identity.workspace_renamed")
    assert r.exit_code == 0, r.output
    assert positions(r) == [1, 2, 3]
    assert [q.get("cursor") for q in api.audit_queries] == [None, "2"]
    assert all(q["actor"] == "user:u1" for q in api.audit_queries)
    assert all(q["action"] == "identity.workspace_renamed" for q in api.audit_queries)

    since = run("--json", "--since", "2026-11-25T12:00:00+02:00", "--until", "2026-11-26T00:00:00Z")
    assert since.exit_code == 0, since.output
    assert api.audit_queries[-1]["since"] == "2026-11-25T10:00:00+00:00"
    assert api.audit_queries[-1]["until"] == "2026-11-26T00:00:00+00:00"

    table = run("--workspace", "desk")
    assert table.exit_code == 0, table.output
    lines = table.stdout.splitlines()
    assert len(lines) == 3
    assert lines[0].startswith("2026-11-25 10:00:01 UTC  #1  identity.workspace_renamed  user:u1")
    assert lines[0].endswith("name: Desk 0 → Desk 1")
    assert f"on workspace:{WS}" in lines[0]


def test_limit_stops_after_that_many(api: FakeApi) -> None:
    r = run("--json", "--limit", "1")
    assert (r.exit_code, positions(r)) == (0, [1])
    assert api.audit_queries[0]["limit"] == "1"


def test_newest_first_asks_the_api_for_that_order_and_limit_takes_the_last(api: FakeApi) -> None:
    r = run("--json", "--newest-first")
    assert (r.exit_code, positions(r)) == (0, [3, 2, 1])
    assert all(q["order"] == "newest" for q in api.audit_queries)
    last = run("--json", "-r", "--limit", "1")
    assert (last.exit_code, positions(last)) == (0, [3])


def test_follow_resumes_after_the_last_entry_each_time_and_ctrl_c_exits_0(api: FakeApi) -> None:
    def first() -> Iterator[bytes]:
        yield b"retry: 2000\n\n"
        yield b": keep-alive\n\n"
        yield frame(entry(4))
        yield frame(entry(5, "identity.invitation_created", email="b@example.com"))
        # the server ends the stream (it shuts down, say): the CLI resumes after 5

    def second() -> Iterator[bytes]:
        yield frame(entry(6))
        raise httpx.ReadError("connection reset")

    api.streams = [first, second, problem(503, "api.warming_up", "retry shortly"), ctrl_c]
    r = run("--json", "--follow")
    assert r.exit_code == 0, r.output
    assert positions(r) == [1, 2, 3, 4, 5, 6]
    assert api.resumed_after == ["3", "5", "6", "6"]
    # The server's retry, doubled for each connection in a row that brings no event.
    assert api.sleeps == [2.0, 2.0, 4.0]
    warnings = [x for x in r.stderr.splitlines() if x.startswith("warning:")]
    assert len(warnings) == 3 and "api.warming_up" in warnings[2]


def test_follow_applies_the_filters_to_new_entries_and_limit_ends_it(api: FakeApi) -> None:
    def stream() -> Iterator[bytes]:
        yield frame(entry(4, "identity.invitation_created", email="b@example.com"))
        yield frame(entry(5))
        yield frame(entry(6))
        raise AssertionError("read past --limit")

    api.log = [entry(1), entry(2, "identity.invitation_created", email="a@example.com")]
    api.streams = [stream]
    r = run("--json", "--follow", "--action", "identity.workspace_renamed", "--limit", "3")
    assert (r.exit_code, positions(r)) == (0, [1, 5, 6]), r.output
    assert api.resumed_after == ["1"], "after the last entry printed"


def test_follow_on_an_empty_log_starts_from_the_first_event(api: FakeApi) -> None:
    api.log = []
    api.streams = [lambda: iter([frame(entry(1))]), ctrl_c]
    r = run("--json", "--follow")
    assert (r.exit_code, positions(r)) == (0, [1])
    assert api.resumed_after == ["0", "1"]


def test_losing_access_while_following_ends_with_the_problem(api: FakeApi) -> None:
    api.streams = [
        lambda: iter([frame(entry(4))]),
        problem(404, "workspace.not_found", "no such workspace"),
    ]
    r = run("--json", "--follow")
    assert r.exit_code == 1
    assert positions(r) == [1, 2, 3, 4]
    assert error_line(r) == "error: workspace.not_found: no such workspace"


@pytest.mark.parametrize(
    ("args", "code", "message"),
    [
        (["--since", "yesterday"], 2, "error: cli.usage: --since must be an ISO 8601 instant"),
        (["--since", "2026-11-25T10:00:00"], 2, "error: cli.usage: --since needs a time zone"),
        (["--until", "2026-13-01T00:00:00Z"], 2, "error: cli.usage: --until must be"),
        (
            ["--since", "2026-11-26T00:00:00Z", "--until", "2026-11-25T00:00:00Z"],
            2,
            "error: cli.usage: --since (2026-11-26T00:00:00Z) is after --until",
        ),
        (["--follow", "--until", "2026-11-25T00:00:00Z"], 2, "error: cli.usage: --follow"),
        (["--follow", "--newest-first"], 2, "error: cli.usage: --follow prints entries"),
        (["--workspace", "nowhere"], 1, "error: cli.workspace_not_found: "),
        (["--limit", "0"], 2, None),
    ],
)
def test_bad_input_is_one_error_line_and_a_non_zero_exit(
    api: FakeApi, args: list[str], code: int, message: str | None
) -> None:
    r = run(*args)
    assert r.exit_code == code, r.output
    if message is not None:
        assert error_line(r).startswith(message)
    assert r.stdout == ""
    assert api.audit_queries == []


def test_an_api_refusal_or_no_login_is_its_code(
    api: FakeApi, monkeypatch: pytest.MonkeyPatch
) -> None:
    def forbidden(request: httpx.Request) -> httpx.Response:
        if request.url.path.endswith("/audit"):
            return problem(403, "access.forbidden", "a viewer may not audit:read")
        return api(request)

    monkeypatch.setattr(
        client_cmd,
        "PlutarcClient",
        functools.partial(PlutarcClient, transport=httpx.MockTransport(forbidden)),
    )
    r = run()
    assert r.exit_code == 1
    assert error_line(r) == "error: access.forbidden: a viewer may not audit:read"

    Credentials(api_url=API).save()
    r = run()
    assert r.exit_code == 4 and error_line(r).startswith("error: cli.not_logged_in: ")


def test_what_the_server_sends_is_printed_escaped(api: FakeApi) -> None:
    hostile = entry(4, "identity.member_joined", display_name=HOSTILE)
    hostile["target"] = "user:\x1b[2J"
    api.log = [hostile]
    for args in ([], ["--json"]):
        api.streams = [lambda: iter([frame({**hostile, "position": 5})]), ctrl_c]
        r = run("--follow", *args)
        assert r.exit_code == 0, r.output
        assert [hex(ord(c)) for c in r.output if is_unsafe(c) and c != "\n"] == []
        assert len(r.stdout.splitlines()) == 2
    table = run()
    assert "\\x1b]0;pwned\\x07Desk\\u202e[bold red]x[/]" in table.stdout
    assert "on user:\\x1b[2J" in table.stdout
    as_json = run("--json")
    assert json.loads(as_json.stdout)["after"]["display_name"] == HOSTILE
