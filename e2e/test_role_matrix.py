"""Every workspace endpoint, called by each of the five roles, against the catalogue's answer.

The cases are generated from the app's routes (each declares its permission as `x-permission`)
and from the permission catalogue, so a new endpoint or permission cannot be left out. Routes of
the `operator` kind (platform operators, not a workspace role) are called by an operator, by a
user who is not one, by an operator's personal access token and by nobody.
"""

from __future__ import annotations

import asyncio
from typing import Any
from uuid import uuid4

import pytest
from plutarc_api.app import create_app
from plutarc_contracts.permissions import PERMISSIONS, ROLES, grants

pytestmark = pytest.mark.kafka


def workspace_routes() -> list[tuple[str, str, str]]:
    """(method, path, permission) of every operation in the published OpenAPI document."""
    found = []
    for path, operations in create_app().openapi()["paths"].items():
        for method, operation in operations.items():
            assert "x-permission" in operation, f"{method.upper()} {path} declares no permission"
            found.append((method.upper(), path, operation["x-permission"]))
    return found


def test_every_route_declares_a_known_permission() -> None:
    routes = workspace_routes()
    assert len(routes) >= 25
    for method, path, permission in routes:
        if "{workspace_id}" in path:
            assert permission in PERMISSIONS, (
                f"{method} {path}: {permission!r} is not in the catalogue"
            )
        else:
            assert permission in ("self", "public", "operator"), (
                f"{method} {path}: outside a workspace, so self, public or operator"
            )


TICKET = {"subject": "Help", "body": "Something broke", "category": "other"}
SPEC = {
    "timeframe": "1h",
    "components": [
        {"component": "ma_crossover", "params": {"fast": 9, "slow": 21}},
        {"component": "fixed_fraction", "params": {"fraction": 0.02}},
    ],
}


CONNECTION = {
    "venue": "binance",
    "label": "Main",
    "credentials": {"testnet": {"api_key": "matrix-key", "secret": "matrix-secret"}},
}
RESTING_ORDER = {"side": "buy", "type": "limit", "quantity": "0.1", "price": "90"}
"""Rests on the e2e gateway's paper desk (it fills at 100): open until cancelled."""


def bot_config(strategy_id: str, name: str = "BTC trend") -> dict[str, Any]:
    return {
        "name": name,
        "strategy": {"strategy_id": strategy_id, "version": 1},
        "market": {"venue": "binance", "symbol": "BTC/USDT"},
        "connection_id": "conn-1",
    }


def body_for(method: str, path: str, env: dict[str, str]) -> dict[str, Any] | None:
    bodies: dict[str, dict[str, Any]] = {
        "PATCH /v1/workspaces/{workspace_id}": {"name": "Renamed"},
        "PUT /v1/workspaces/{workspace_id}/settings": {"risk": {"max_position": "1000"}},
        "POST /v1/workspaces/{workspace_id}/transfer-ownership": {"user_id": env["victim"]},
        "PATCH /v1/workspaces/{workspace_id}/members/{user_id}": {"role": "viewer"},
        "POST /v1/workspaces/{workspace_id}/invitations": {
            "email": f"{uuid4().hex[:8]}@example.com",
            "role": "viewer",
        },
        "POST /v1/workspaces/{workspace_id}/invitations/{invitation_id}/resend": {},
        "POST /v1/workspaces/{workspace_id}/tokens": {
            "name": "t",
            "permissions": ["workspace:read"],
        },
        "POST /v1/workspaces/{workspace_id}/support/tickets": TICKET,
        "POST /v1/workspaces/{workspace_id}/support/tickets/{ticket_id}/messages": {"body": "hi"},
        "POST /v1/workspaces/{workspace_id}/support/tickets/{ticket_id}/status": {
            "status": "resolved"
        },
        "POST /v1/support/tickets/{ticket_id}/messages": {"body": "from the operators"},
        "POST /v1/support/tickets/{ticket_id}/notes": {"body": "an internal note"},
        "POST /v1/support/tickets/{ticket_id}/status": {"status": "waiting_on_user"},
        "PUT /v1/support/tickets/{ticket_id}/assignee": {"operator_id": env.get("operator", "")},
        "POST /v1/workspaces/{workspace_id}/strategies": {"name": "Trend", "spec": SPEC},
        "POST /v1/workspaces/{workspace_id}/strategies/copies": {
            "source_workspace_id": env.get("workspace_id", ""),
            "source_strategy_id": env.get("strategy_id", ""),
        },
        "POST /v1/workspaces/{workspace_id}/strategies/{strategy_id}/versions": {
            "spec": {**SPEC, "timeframe": "4h"}
        },
        "POST /v1/workspaces/{workspace_id}/bots": {
            "config": bot_config(env.get("strategy_id", ""))
        },
        "PUT /v1/workspaces/{workspace_id}/bots/{bot_id}/config": {
            "config": bot_config(env.get("strategy_id", ""), "Renamed")
        },
        "POST /v1/workspaces/{workspace_id}/bots/{bot_id}/mode": {"mode": "testnet"},
        "POST /v1/workspaces/{workspace_id}/connections": CONNECTION,
        "POST /v1/workspaces/{workspace_id}/bots/{bot_id}/orders": RESTING_ORDER,
    }
    return bodies.get(f"{method} {path}", {} if method in ("POST", "PUT", "PATCH") else None)


async def setup(
    platform,
    role: str,
    owner: tuple[str, str, str],
    member: tuple[str, str, str],
    victim: tuple[str, str, str],
    *,
    path: str | None = None,
) -> dict[str, str]:
    """A fresh organisation where `member` holds `role`, with what a call of ``path`` needs (for
    no path, everything): a viewer, a pending invitation, a token, a ticket, bots, a connection."""

    def needs(*parts: str) -> bool:
        return path is None or any(part in path for part in parts)

    async with platform.client(owner[0]) as http:
        ws = (await http.post("/v1/organisations", json={"name": "Matrix"})).json()["workspace_id"]
        env = {"workspace_id": ws, "victim": victim[1], "user_id": victim[1]}
        joining = [(member, role)]
        if needs("{user_id}", "/transfer-ownership"):
            joining.append((victim, "viewer"))
        for who, r in joining:
            inv = await http.post(
                f"/v1/workspaces/{ws}/invitations", json={"email": who[2], "role": r}
            )
            assert inv.status_code == 201, inv.text
            async with platform.client(who[0]) as as_them:
                accepted = await as_them.post(
                    "/v1/invitations/accept", json={"token": inv.json()["token"]}
                )
                assert accepted.status_code == 200, accepted.text
        if needs("{invitation_id}"):
            pending = await http.post(
                f"/v1/workspaces/{ws}/invitations",
                json={"email": "pending@example.com", "role": "viewer"},
            )
            env["invitation_id"] = pending.json()["invitation_id"]
        if needs("{token_id}") and "api_tokens:manage" not in grants(role):
            token = await http.post(
                f"/v1/workspaces/{ws}/tokens",
                json={"name": "owner-token", "permissions": ["workspace:read"]},
            )
            env["token_id"] = token.json()["token_id"]
        if needs("{ticket_id}"):
            ticket = await http.post(f"/v1/workspaces/{ws}/support/tickets", json=TICKET)
            assert ticket.status_code == 201, ticket.text
            env["ticket_id"] = ticket.json()["ticket_id"]
    if needs("/strategies", "/bots"):
        await bots_setup(platform, owner, env)
    if needs("/connections", "/orders"):
        await exchange_setup(platform, owner, env)
    if needs("{token_id}") and "api_tokens:manage" in grants(role):
        # Revoking is judged on one's own token: someone else's needs members:remove as well,
        # which the service checks against the holder's role.
        async with platform.client(member[0]) as http:
            own = await http.post(
                f"/v1/workspaces/{ws}/tokens",
                json={"name": "own-token", "permissions": ["workspace:read"]},
            )
            assert own.status_code == 201, own.text
            env["token_id"] = own.json()["token_id"]
    return env


async def bots_setup(platform, owner: tuple[str, str, str], env: dict[str, str]) -> None:
    """Two strategies and a bot in `env`'s workspace: the bot pins one, so the other
    (`strategy_id`) may be deleted."""
    ws = env["workspace_id"]
    async with platform.client(owner[0]) as http:
        pinned, free = [
            await http.post(f"/v1/workspaces/{ws}/strategies", json={"name": n, "spec": SPEC})
            for n in ("Pinned", "Trend")
        ]
        assert pinned.status_code == free.status_code == 201, (pinned.text, free.text)
        env["strategy_id"], env["version"] = free.json()["strategy_id"], "1"
        bot = await http.post(
            f"/v1/workspaces/{ws}/bots",
            json={"config": bot_config(pinned.json()["strategy_id"])},
        )
        assert bot.status_code == 201, bot.text
        env["bot_id"] = bot.json()["bot_id"]


async def exchange_setup(platform, owner: tuple[str, str, str], env: dict[str, str]) -> None:
    """A venue connection (`connection_id`), and when there is a bot, the bot running with a
    resting order (`order_id`)."""
    ws = env["workspace_id"]
    async with platform.client(owner[0]) as http:
        made = await http.post(f"/v1/workspaces/{ws}/connections", json=CONNECTION)
        assert made.status_code == 201, made.text
        env["connection_id"] = made.json()["connection_id"]
        if "bot_id" not in env:
            return
        bot = f"/v1/workspaces/{ws}/bots/{env['bot_id']}"
        started = await http.post(f"{bot}/start")
        assert started.status_code == 200, started.text
        order = await http.post(f"{bot}/orders", json=RESTING_ORDER)
        assert order.status_code == 201, order.text
        env["order_id"] = order.json()["order_id"]


async def prepare(http: Any, method: str, path: str, env: dict[str, str]) -> None:
    """What a write needs before it can succeed: a running bot to stop."""
    if path.endswith("/bots/{bot_id}/stop"):
        r = await http.post(path.format(**env).removesuffix("/stop") + "/start")
        assert r.status_code == 200, r.text


async def call(http: Any, method: str, url: str, body: Any) -> tuple[int, str | None]:
    """(status, problem code); a live stream (server-sent events) is left once its head is in."""
    async with http.stream(method, url, json=body) as r:
        if r.headers.get("content-type", "").startswith("text/event-stream"):
            return r.status_code, None
        await r.aread()
        if r.headers.get("content-type") == "application/problem+json":
            return r.status_code, r.json().get("code")
        return r.status_code, None


@pytest.mark.timeout(900)  # every workspace route x every role: it grows with the API
async def test_each_role_gets_exactly_what_the_catalogue_grants(platform) -> None:
    owner = await platform.user("owner")
    victim = await platform.user("victim")
    members = {role: await platform.user(role) for role in ROLES}
    routes = [r for r in workspace_routes() if "{workspace_id}" in r[1]]
    assert len(routes) >= 17
    failures: list[str] = []

    # A call that changes nothing (every read, and every write the role is refused) is made in
    # one organisation per role, set up once with everything a route names. A write the role is
    # granted changes its organisation, so it is made in a fresh one.
    made = await asyncio.gather(
        *(setup(platform, role, owner, members[role], victim) for role in ROLES)
    )
    shared = dict(zip(ROLES, made, strict=True))

    async def one(method: str, path: str, permission: str, role: str) -> None:
        allowed = permission in grants(role)
        env = shared[role]
        if allowed and method != "GET":
            env = await setup(platform, role, owner, members[role], victim, path=path)
        url = path.format(**env)
        async with platform.client(members[role][0]) as http:
            status, code = await call(http, method, url, body_for(method, path, env))
        if allowed and code in ("access.forbidden", "workspace.not_found"):
            failures.append(f"{role} {method} {path}: expected allowed, got {status} {code}")
        if not allowed and (status, code) != (403, "access.forbidden"):
            failures.append(
                f"{role} {method} {path}: expected 403 access.forbidden, got {status} {code}"
            )

    # Every case at once, a bounded number in flight: they wait on Kafka round trips, not on
    # each other (nothing a case does is seen by another).
    gate = asyncio.Semaphore(16)

    async def gated(method: str, path: str, permission: str, role: str) -> None:
        async with gate:
            await one(method, path, permission, role)

    await asyncio.gather(*(gated(*route, role) for route in routes for role in ROLES))
    assert not failures, "\n".join(failures)


async def test_outsiders_get_404_for_every_workspace_endpoint(platform) -> None:
    owner = await platform.user("owner")
    victim = await platform.user("victim")
    member = await platform.user("member")
    outsider = await platform.user("outsider")
    env = await setup(platform, "admin", owner, member, victim)
    async with platform.client(outsider[0]) as http:
        for method, path, _ in workspace_routes():
            if "{workspace_id}" not in path:
                continue
            got = await call(http, method, path.format(**env), body_for(method, path, env))
            assert got == (404, "workspace.not_found"), f"{method} {path}"


async def test_operator_routes_answer_operators_only(platform) -> None:
    """Every `operator` route: an operator is let through; a user who is not one, and an
    operator's own personal access token, get 403 access.not_an_operator; nobody gets 401."""
    owner = await platform.user("owner")
    victim = await platform.user("victim")
    member = await platform.user("member")
    op_token, op_id, _ = await platform.operator("operator")
    env = {**await setup(platform, "trader", owner, member, victim), "operator": op_id}
    async with platform.client(op_token) as http:
        me = (await http.get("/v1/me")).json()
        pat = await http.post(
            f"/v1/workspaces/{me['personal_workspace_id']}/tokens",
            json={"name": "op-token", "permissions": ["workspace:read"]},
        )
        assert pat.status_code == 201, pat.text
    routes = [r for r in workspace_routes() if r[2] == "operator"]
    assert len(routes) >= 9
    failures = []
    for method, path, _ in routes:
        url = path.format(**env)
        body = body_for(method, path, env)
        for who, token, expected in (
            ("operator", op_token, None),
            ("non-operator", member[0], (403, "access.not_an_operator")),
            ("operator's token", pat.json()["token"], (403, "access.not_an_operator")),
            ("nobody", None, (401, "auth.unauthenticated")),
        ):
            async with platform.client(token) as http:
                status, code = await call(http, method, url, body)
            if expected is None and (status >= 500 or status in (401, 403)):
                failures.append(f"{who} {method} {path}: expected allowed, got {status} {code}")
            if expected is not None and (status, code) != expected:
                failures.append(f"{who} {method} {path}: expected {expected}, got {status} {code}")
    assert not failures, "\n".join(failures)
