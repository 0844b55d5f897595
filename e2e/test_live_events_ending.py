"""When a live event stream ends, and when it must not: what the caller may see is decided again for
every batch; the credential it was opened with, the policy, the client and the server each end it.
"""

from __future__ import annotations

import time
from pathlib import Path
from typing import Any

import pytest
from plutarc_api.problems import Problem
from plutarc_api.routes import core
from plutarc_testkit.waiting import until

from .conftest import Platform, running_platform
from .sse import DEADLINE, join, live, organisation

pytestmark = pytest.mark.kafka


def open_streams(platform: Platform) -> float | None:
    return platform.api.metrics.registry.get_sample_value("plutarc_api_live_streams")


async def test_a_demoted_member_stops_seeing_at_once_what_the_new_role_may_not(
    platform: Platform,
) -> None:
    olivia, _, _ = await platform.user("olivia")
    async with platform.client(olivia) as http:
        ws = await organisation(http, "Desk")
        mia, mia_id = await join(platform, http, ws, "mia", "manager")
        async with platform.client(mia) as mhttp, live(mhttp, ws) as stream:
            token = {"name": "one", "permissions": ["workspace:read"]}
            assert (await http.post(f"/v1/workspaces/{ws}/tokens", json=token)).status_code == 201
            await stream.wait_for("identity.api_token_issued")  # a manager holds audit:read
            r = await http.patch(f"/v1/workspaces/{ws}/members/{mia_id}", json={"role": "viewer"})
            assert r.status_code == 200, r.text
            token = {"name": "two", "permissions": ["workspace:read"]}
            assert (await http.post(f"/v1/workspaces/{ws}/tokens", json=token)).status_code == 201
            invite = {"email": "c@example.com", "role": "viewer"}
            r = await http.post(f"/v1/workspaces/{ws}/invitations", json=invite)
            assert r.status_code == 201, r.text
            await http.patch(f"/v1/workspaces/{ws}", json={"name": "Prop desk"})
            await stream.wait_for("identity.workspace_renamed")
    assert [f.data["after"]["name"] for f in stream.of("identity.api_token_issued")] == ["one"]
    assert stream.of("identity.member_role_changed"), "members:read: a viewer still sees it"
    assert not stream.of("identity.invitation_created")


async def test_ending_the_session_or_revoking_the_token_ends_the_stream(
    platform: Platform,
) -> None:
    olivia, _, _ = await platform.user("olivia")
    async with platform.client(olivia) as http:
        ws = await organisation(http, "Desk")
        bob, _ = await join(platform, http, ws, "bob", "trader")
        async with platform.client(bob) as bhttp:
            issued = await bhttp.post(
                f"/v1/workspaces/{ws}/tokens",
                json={"name": "ci", "permissions": ["workspace:read", "api_tokens:manage"]},
            )
            assert issued.status_code == 201, issued.text
            pat, token_id = issued.json()["token"], issued.json()["token_id"]
            async with live(bhttp, ws) as by_session, platform.client(pat) as phttp:
                async with live(phttp, ws) as by_token:
                    revoked = await phttp.delete(f"/v1/workspaces/{ws}/tokens/{token_id}")
                    assert revoked.status_code == 204, revoked.text
                    await until(lambda: by_token.ended, timeout=DEADLINE, what="token stream end")
                assert not by_session.ended
                assert (await bhttp.post("/v1/auth/logout")).status_code == 204
                await until(lambda: by_session.ended, timeout=DEADLINE, what="session stream end")


async def test_a_policy_that_cannot_decide_ends_the_stream_and_skips_nothing(
    platform: Platform, monkeypatch: pytest.MonkeyPatch
) -> None:
    """An OPA server that fails for a moment is not a denial: the stream ends rather than pass
    over an event, and the client's resumption (Last-Event-ID) delivers it."""
    failing = True
    real = core.authorize

    async def flaky(rt: Any, caller: Any, ws: str, permission: str, **resource: object) -> str:
        if failing and permission == "audit:read":
            raise Problem(503, "policy.unavailable", "authorization is unavailable")
        return await real(rt, caller, ws, permission, **resource)

    olivia, _, _ = await platform.user("olivia")
    async with platform.client(olivia) as http:
        ws = await organisation(http, "Desk")
        async with live(http, ws) as first:
            await http.patch(f"/v1/workspaces/{ws}", json={"name": "Desk 1"})
            [renamed] = await first.wait_for("identity.workspace_renamed")
            monkeypatch.setattr(core, "authorize", flaky)
            token = {"name": "ci", "permissions": ["workspace:read"]}
            assert (await http.post(f"/v1/workspaces/{ws}/tokens", json=token)).status_code == 201
            await http.patch(f"/v1/workspaces/{ws}", json={"name": "Desk 2"})
            await until(lambda: first.ended, timeout=DEADLINE, what="the stream ended")
        assert first.frames == [renamed]
        failing = False
        async with live(http, ws, last_event_id=renamed.id) as second:
            await second.wait_for("identity.workspace_renamed")
        assert [f.event for f in second.frames] == [
            "identity.api_token_issued",
            "identity.workspace_renamed",
        ]


@pytest.mark.parametrize("platform", [{"events_heartbeat": 0.2}], indirect=True)
async def test_a_quiet_stream_sends_heartbeats_and_a_closed_one_is_let_go(
    platform: Platform,
) -> None:
    olivia, _, _ = await platform.user("olivia")
    async with platform.client(olivia) as http:
        ws = await organisation(http, "Desk")
        async with live(http, ws) as stream:
            await until(lambda: len(stream.comments) >= 3, timeout=DEADLINE, what="heartbeats")
            assert set(stream.comments) == {"keep-alive"} and stream.frames == []
            assert open_streams(platform) == 1
        await until(lambda: open_streams(platform) == 0, timeout=DEADLINE, what="stream closed")


async def test_a_server_shutting_down_ends_its_streams_and_stops(
    kafka_bootstrap: str, tmp_path: Path
) -> None:
    """uvicorn waits for every open response before the app's own shutdown, and a live stream
    never finishes by itself: it must be told, or the server never stops."""
    async with running_platform(kafka_bootstrap, tmp_path) as platform:
        olivia, _, _ = await platform.user("olivia")
        http = platform.client(olivia)
        ws = await organisation(http, "Desk")
        streaming = live(http, ws)
        stream = await streaming.__aenter__()
        stopping = time.monotonic()
    try:
        assert time.monotonic() - stopping < 10
        await until(lambda: stream.ended, timeout=5, what="the response ended, not cut")
    finally:
        await streaming.__aexit__(None, None, None)
        await http.aclose()
