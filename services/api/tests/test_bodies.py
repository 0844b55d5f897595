"""Bodies the gateway cannot read get the codes docs/api.md promises: 400 `request.malformed` for
what is not JSON at all, 413 `request.too_large` however the body arrives, 422 `request.invalid`
for JSON with bad fields. No broker (see conftest.py)."""

from __future__ import annotations

from collections.abc import AsyncIterator

import httpx
import pytest

from .conftest import MAX_BODY_BYTES as LIMIT

JSON = {"Content-Type": "application/json"}


@pytest.mark.parametrize(
    "body",
    [
        pytest.param(b"{not json", id="not-json"),
        pytest.param(b'{"name": "\xff\xfe"}', id="invalid-utf8"),
        pytest.param(b"[" * 2000 + b"]" * 2000, id="nested-2000-deep"),
    ],
)
async def test_a_body_that_is_not_json_is_400_malformed(
    http: httpx.AsyncClient, body: bytes
) -> None:
    r = await http.post("/v1/organisations", content=body, headers=JSON)
    assert r.status_code == 400, r.text
    assert r.headers["content-type"] == "application/problem+json"
    assert r.json()["code"] == "request.malformed"
    assert r.json()["type"] == "https://plutarc.dev/problems/request/malformed"


async def test_json_with_bad_fields_stays_422_invalid(http: httpx.AsyncClient) -> None:
    r = await http.post(
        "/v1/auth/register", json={"email": "nope", "password": "x", "display_name": "A"}
    )
    assert r.status_code == 422
    assert r.json()["code"] == "request.invalid"
    assert {e["field"] for e in r.json()["errors"]} == {"email", "password"}


async def test_a_chunked_body_over_the_limit_is_413(http: httpx.AsyncClient) -> None:
    async def chunks() -> AsyncIterator[bytes]:
        yield b'{"name": "'
        for _ in range(LIMIT // 512 + 1):
            yield b"x" * 512
        yield b'"}'

    r = await http.post("/v1/organisations", content=chunks(), headers=JSON)
    assert "content-length" not in r.request.headers
    assert r.status_code == 413, r.text
    assert r.json()["code"] == "request.too_large"


async def test_a_chunked_body_under_the_limit_is_read(http: httpx.AsyncClient) -> None:
    async def chunks() -> AsyncIterator[bytes]:
        yield b'{"email": "a@example.com", "password": "correct horse battery",'
        yield b'"display_name": "' + b"x" * 50 + b'",'
        yield b'"colour": 1}'

    r = await http.post("/v1/auth/register", content=chunks(), headers=JSON)
    assert r.status_code == 422, r.text
    assert [e["field"] for e in r.json()["errors"]] == ["colour"]
