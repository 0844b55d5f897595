"""Bad input gets a clear problem with a stable code, changes nothing, and never a 500."""

from __future__ import annotations

import httpx
import pytest

pytestmark = pytest.mark.kafka


async def audit_size(http, ws: str) -> int:
    return len(
        (await http.get(f"/v1/workspaces/{ws}/audit", params={"limit": 500})).json()["entries"]
    )


async def test_validation_errors_name_the_field_and_change_nothing(platform) -> None:
    token, _, _ = await platform.user("vera")
    async with platform.client(token) as http:
        ws = (await http.post("/v1/organisations", json={"name": "Desk"})).json()["workspace_id"]
        before = await audit_size(http, ws)

        unknown = await http.patch(f"/v1/workspaces/{ws}", json={"name": "X", "colour": "red"})
        assert unknown.status_code == 422 and unknown.json()["code"] == "request.invalid"
        assert [e["field"] for e in unknown.json()["errors"]] == ["colour"]

        for path, body in [
            (f"/v1/workspaces/{ws}", {"name": "\u202eksed"}),  # PATCH: a bidi override
            ("/v1/organisations", {"name": "Desk\x1b[2J"}),  # an ESC sequence
            (
                f"/v1/workspaces/{ws}/tokens",
                {"name": "ci\u2066", "permissions": ["workspace:read"]},
            ),
        ]:
            send = http.patch if path == f"/v1/workspaces/{ws}" else http.post
            control = await send(path, json=body)
            assert control.status_code == 422 and control.json()["code"] == "request.invalid"
            assert [e["field"] for e in control.json()["errors"]] == ["name"]

        bad_role = await http.post(
            f"/v1/workspaces/{ws}/invitations", json={"email": "a@example.com", "role": "god"}
        )
        assert bad_role.status_code == 422 and bad_role.json()["errors"][0]["field"] == "role"

        bad_email = await http.post(
            f"/v1/workspaces/{ws}/invitations", json={"email": "nope", "role": "viewer"}
        )
        assert bad_email.json()["errors"][0]["field"] == "email"

        too_long = await http.post(
            f"/v1/workspaces/{ws}/invitations",
            json={"email": "a@example.com", "role": "viewer", "expires_in_days": 31},
        )
        assert (
            too_long.status_code == 422
            and too_long.json()["errors"][0]["field"] == "expires_in_days"
        )

        not_json = await http.post(
            "/v1/organisations", content=b"{not json", headers={"Content-Type": "application/json"}
        )
        assert (
            not_json.status_code == 400
            and not_json.json()["code"] == "request.malformed"
            and not_json.headers["content-type"] == "application/problem+json"
        )

        # "s" + 21 nines: a position past BIGINT, which the database would refuse with a 500.
        for garbage in ("garbage!", "czk5OTk5OTk5OTk5OTk5OTk5OTk5"):
            cursor = await http.get(f"/v1/workspaces/{ws}/audit", params={"cursor": garbage})
            assert cursor.status_code == 422 and cursor.json()["errors"][0]["field"] == "cursor"

        # A cursor goes on in the order it was issued for; an order is oldest or newest.
        first = await http.get(f"/v1/workspaces/{ws}/audit", params={"limit": 1})
        other_order = await http.get(
            f"/v1/workspaces/{ws}/audit",
            params={"cursor": first.json()["next_cursor"], "order": "newest"},
        )
        assert other_order.status_code == 422, other_order.text
        assert other_order.json()["errors"][0]["field"] == "cursor"
        sideways = await http.get(f"/v1/workspaces/{ws}/audit", params={"order": "sideways"})
        assert sideways.status_code == 422 and sideways.json()["code"] == "request.invalid"

        naive = await http.get(
            f"/v1/workspaces/{ws}/audit", params={"since": "2026-01-01T00:00:00"}
        )
        assert naive.status_code == 422 and naive.json()["errors"][0]["field"] == "since"

        huge = await http.patch(
            f"/v1/workspaces/{ws}",
            content=b'{"name": "' + b"x" * 600_000 + b'"}',
            headers={"Content-Type": "application/json"},
        )
        assert huge.status_code == 413 and huge.json()["code"] == "request.too_large"

        bad_token = await http.post(
            "/v1/invitations/accept", json={"token": "pli_not-really-a-token"}
        )
        assert (
            bad_token.status_code == 422
            and bad_token.json()["code"] == "identity.invitation_mismatch"
        )

        unknown_route = await http.get("/v1/nothing-here")
        assert (
            unknown_route.status_code == 404 and unknown_route.json()["code"] == "request.not_found"
        )

        assert await audit_size(http, ws) == before, "bad input changed nothing"


async def test_rejections_from_the_service_keep_their_code(platform) -> None:
    token, user_id, _ = await platform.user("rita")
    async with platform.client(token) as http:
        ws = (await http.post("/v1/organisations", json={"name": "Desk"})).json()["workspace_id"]
        before = await audit_size(http, ws)
        last_owner = await http.post(f"/v1/workspaces/{ws}/leave")
        assert (last_owner.status_code, last_owner.json()["code"]) == (409, "identity.last_owner")
        self_change = await http.patch(
            f"/v1/workspaces/{ws}/members/{user_id}", json={"role": "viewer"}
        )
        assert (self_change.status_code, self_change.json()["code"]) == (
            403,
            "access.self_role_change",
        )
        escalate = await http.post(
            f"/v1/workspaces/{ws}/tokens", json={"name": "t", "permissions": ["made:up"]}
        )
        assert (
            escalate.status_code == 403 and escalate.json()["code"] == "identity.token_escalation"
        )
        assert await audit_size(http, ws) == before


@pytest.mark.parametrize("platform", [{"token_rate": 2.0, "token_burst": 3}], indirect=True)
async def test_rate_limit_per_token_answers_429_with_retry_after(platform) -> None:
    token, _, _ = await platform.user("rex")
    async with platform.client(token) as http:
        statuses = [(await http.get("/v1/me")).status_code for _ in range(6)]
        assert statuses[:3] == [200, 200, 200]
        limited = await http.get("/v1/me")
        assert limited.status_code == 429 and limited.json()["code"] == "api.rate_limited"
        assert int(limited.headers["Retry-After"]) >= 1


@pytest.mark.parametrize("platform", [{"login_failures": 3}], indirect=True)
async def test_login_is_throttled_after_repeated_failures(platform) -> None:
    _, _, email = await platform.user("tess")
    async with platform.client() as http:
        codes = [
            (await http.post("/v1/auth/login", json={"email": email, "password": "wrong"})).json()[
                "code"
            ]
            for _ in range(3)
        ]
        assert codes == ["auth.invalid_credentials"] * 3
        throttled = await http.post(
            "/v1/auth/login", json={"email": email, "password": "correct horse battery"}
        )
        assert throttled.status_code == 429 and throttled.json()["code"] == "auth.login_throttled"
        assert int(throttled.headers["Retry-After"]) > 0
    # one account's failures do not lock out the others at its address (everyone here is 127.0.0.1)
    await platform.user("uma")


async def test_unauthenticated_requests_get_401(platform) -> None:
    async with platform.client() as http:
        r = await http.get("/v1/me/workspaces")
        assert r.status_code == 401 and r.json()["code"] == "auth.unauthenticated"
        assert r.headers["WWW-Authenticate"].startswith("Bearer")
    async with platform.client("pls_forged") as http:
        assert (await http.get("/v1/me")).status_code == 401


async def test_metrics_count_requests_by_route_template_on_the_ops_port_only(platform) -> None:
    token, _, _ = await platform.user("mel")
    async with platform.client(token) as http:
        assert (await http.get("/v1/me")).status_code == 200
        assert (await http.get("/v1/workspaces/nope")).status_code == 404
        public = await http.get("/metrics")
        assert public.status_code == 404 and public.json()["code"] == "request.not_found"
    ops = platform.api.ops
    assert ops.host == "127.0.0.1" and f":{ops.port}" not in platform.base_url
    async with httpx.AsyncClient(base_url=f"http://127.0.0.1:{ops.port}", timeout=30) as http:
        scraped = await http.get("/metrics")
        ready = await http.get("/ready")
    assert scraped.status_code == 200 and ready.json()["checks"] == {"projections": "ok"}
    text = scraped.text
    assert 'plutarc_api_requests_total{method="GET",route="/v1/me",status="200"}' in text
    assert 'route="/v1/workspaces/{workspace_id}",status="404"' in text
    assert "plutarc_api_projection_caught_up 1.0" in text
    assert 'plutarc_api_commands_total{outcome="accepted",type="RegisterUser"}' in text
