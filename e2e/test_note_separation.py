"""Internal notes never reach a user, through any read path a user has.

Generated from the route table: every route a non-operator may call (every operation whose
`x-permission` is not `operator`, as the published OpenAPI document lists them) is called by the
ticket's own user, the workspace's owner, after an operator wrote a note holding a unique marker;
so are the live stream (SSE), the notification feed and the audit export. The marker appears in
no response. A public reply, written around the note, is the control: it must show up on the
thread, the stream, the feed and the audit log, so each path is known to carry the ticket.

A new route is in the table, so it is called here without anyone remembering to add it.
"""

from __future__ import annotations

import json
from pathlib import Path
from uuid import uuid4

import pytest
from plutarc_cli.main import app as cli
from typer.testing import CliRunner

from .conftest import Platform
from .sse import live
from .test_role_matrix import body_for, setup, workspace_routes

pytestmark = pytest.mark.kafka

# Calls that end the caller's session or standing go last, so the routes before them are read
# with full access.
LAST = (
    "/v1/auth/logout",
    "/leave",
    "/transfer-ownership",
    "/archive",
    "/members/{user_id}",
)


def order(route: tuple[str, str, str]) -> tuple[int, int, str]:
    method, path, _ = route
    rank = 2 if path == LAST[0] else 1 if any(path.endswith(end) for end in LAST) else 0
    return (rank, method != "GET", path)


async def test_no_note_reaches_a_user_through_any_route_stream_feed_or_export(
    platform: Platform, tmp_path: Path
) -> None:
    secret = f"NOTE-{uuid4().hex}"
    public = f"PUBLIC-{uuid4().hex}"
    owner = await platform.user("owner")
    victim = await platform.user("victim")
    member = await platform.user("member")
    op_token, _, _ = await platform.operator("operator")
    env = await setup(platform, "trader", owner, member, victim)
    ws, tid = env["workspace_id"], env["ticket_id"]
    env["command_id"] = str(uuid4())

    async with platform.client(owner[0]) as http:
        async with live(http, ws, after=0) as stream:
            async with platform.client(op_token) as ops:
                for path, body in (
                    (f"/v1/support/tickets/{tid}/messages", {"body": f"{public} before"}),
                    (f"/v1/support/tickets/{tid}/notes", {"body": f"{secret} one"}),
                    (f"/v1/support/tickets/{tid}/notes", {"body": f"{secret} two"}),
                    (f"/v1/support/tickets/{tid}/messages", {"body": f"{public} after"}),
                ):
                    r = await ops.post(path, json=body)
                    assert r.status_code == 201, r.text
                notes = (await ops.get(f"/v1/support/tickets/{tid}/notes")).json()
                assert [n["body"] for n in notes] == [f"{secret} one", f"{secret} two"]
            # Both public messages are on the stream, so everything between them was read too.
            await stream.wait_for("support.message_posted", 2)
            frames = json.dumps([f.data for f in stream.frames])
        assert public in frames, "the stream carries the ticket's public messages"
        assert secret not in frames, "a note reached the live stream"

        routes = sorted(
            (r for r in workspace_routes() if r[2] != "operator"),
            key=order,
        )
        assert any("/support/" in path for _, path, _ in routes)
        assert any(path == "/v1/me/notifications" for _, path, _ in routes)
        seen_public = []
        for method, path, _ in routes:
            url = path.format(**env)
            async with http.stream(method, url, json=body_for(method, path, env)) as r:
                if r.headers.get("content-type", "").startswith("text/event-stream"):
                    continue  # the stream, read above from its first event
                text = (await r.aread()).decode()
            assert secret not in text, f"{method} {path} answered a note: {r.status_code}"
            if public in text:
                seen_public.append(f"{method} {path}")
        for expected in (
            "GET /v1/workspaces/{workspace_id}/support/tickets/{ticket_id}",
            "GET /v1/me/notifications",
            "GET /v1/workspaces/{workspace_id}/audit",
        ):
            assert expected in seen_public, f"control: {expected} does not show the ticket"

    # The support service's own audit export (what an auditor may hand to a workspace).
    exported = CliRunner().invoke(
        cli,
        ["audit", "export", "--service", "support", "--data-dir", str(tmp_path / "support")],
    )
    assert exported.exit_code == 0, exported.output
    assert "support.internal_note_added" in exported.output
    assert public in exported.output and secret not in exported.output


async def test_every_user_route_is_covered_by_the_generated_calls() -> None:
    """The route table the test above walks: every non-operator route, each formattable."""
    env = {
        k: "x"
        for k in (
            "workspace_id",
            "ticket_id",
            "user_id",
            "invitation_id",
            "token_id",
            "command_id",
            "strategy_id",
            "bot_id",
            "version",
            "connection_id",
            "order_id",
        )
    }
    routes = [r for r in workspace_routes() if r[2] != "operator"]
    assert len(routes) >= 30
    for _, path, _ in routes:
        path.format(**env)  # a new path parameter must be given a value above
