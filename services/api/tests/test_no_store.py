"""No cache keeps a /v1 answer (they carry session, API and invitation tokens): every one says
`Cache-Control: no-store`, errors too, whichever layer answers. e2e/test_teams_over_http.py checks
the answers that carry tokens."""

from __future__ import annotations

import httpx
from fastapi import FastAPI

from .conftest import MAX_BODY_BYTES


async def test_every_v1_answer_says_no_store(app: FastAPI, http: httpx.AsyncClient) -> None:
    @app.get("/v1/boom")
    async def boom() -> None:
        raise RuntimeError("a bug")

    answers = [
        await http.get("/v1/me"),  # 401 from a dependency
        await http.get("/v1/nothing-here"),  # 404 from the router
        await http.post(  # 413 from BodyLimit, before the app
            "/v1/auth/register",
            content=b"x" * (MAX_BODY_BYTES + 1),
            headers={"Content-Type": "application/json"},
        ),
        await http.post("/v1/auth/register", json={}),  # 422 from validation
        await http.get("/v1/boom"),  # 500, answered outside the middleware
    ]
    assert [r.status_code for r in answers] == [401, 404, 413, 422, 500]
    for r in answers:
        assert r.headers.get_list("cache-control") == ["no-store"], (r.url, r.headers)


async def test_the_probes_are_left_alone(http: httpx.AsyncClient) -> None:
    r = await http.get("/health")
    assert r.status_code == 200 and "cache-control" not in r.headers
