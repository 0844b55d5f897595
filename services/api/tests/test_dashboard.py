"""The dashboard's files at `/`: its pages fall back to index.html, while /v1, the docs, the
probes and missing files keep the API's own answers."""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path

import httpx
import pytest

from .conftest import warm_app

INDEX = "<!doctype html><title>plutarc</title>"


@pytest.fixture
def dist(tmp_path: Path) -> Path:
    root = tmp_path / "dist"
    (root / "assets").mkdir(parents=True)
    (root / "index.html").write_text(INDEX)
    (root / "assets" / "index-abc123.js").write_text("console.log(1)")
    (root / "favicon.svg").write_text("<svg/>")
    (tmp_path / "secret.txt").write_text("not served")
    return root


async def client_for(tmp_path: Path, web_dir: Path) -> AsyncIterator[httpx.AsyncClient]:
    app = warm_app(tmp_path / "api", web_dir=web_dir)
    transport = httpx.ASGITransport(app=app, raise_app_exceptions=False)
    async with httpx.AsyncClient(transport=transport, base_url="http://api") as client:
        yield client


@pytest.fixture
async def web(tmp_path: Path, dist: Path) -> AsyncIterator[httpx.AsyncClient]:
    async for client in client_for(tmp_path, dist):
        yield client


@pytest.mark.parametrize("path", ["/", "/login", "/w/0190-abc/members", "/invitations/accept"])
async def test_pages_are_the_app(web: httpx.AsyncClient, path: str) -> None:
    r = await web.get(path)
    assert r.status_code == 200 and r.text == INDEX
    assert r.headers["content-type"].startswith("text/html")
    assert r.headers["cache-control"] == "no-cache"
    assert "script-src 'self'" in r.headers["content-security-policy"]
    assert r.headers["x-content-type-options"] == "nosniff"


async def test_files_are_served_and_hashed_assets_cached_for_good(web: httpx.AsyncClient) -> None:
    r = await web.get("/assets/index-abc123.js")
    assert r.status_code == 200 and r.text == "console.log(1)"
    assert "immutable" in r.headers["cache-control"]
    r = await web.get("/favicon.svg")
    assert r.status_code == 200 and r.headers["cache-control"] == "no-cache"
    assert (await web.head("/login")).status_code == 200


@pytest.mark.parametrize(
    "path",
    ["/assets/missing.js", "/v1/nothing-here", "/v1", "/docs/nothing", "/assets/../../secret.txt"],
)
async def test_missing_files_and_api_paths_keep_the_problem(
    web: httpx.AsyncClient, path: str
) -> None:
    r = await web.get(path)
    assert r.status_code == 404, r.text
    assert r.headers["content-type"] == "application/problem+json"
    assert r.json()["code"] == "request.not_found"


async def test_a_traversal_never_leaves_the_build(web: httpx.AsyncClient) -> None:
    r = await web.get("/%2e%2e/secret.txt")
    assert "not served" not in r.text


async def test_api_routes_and_docs_are_not_shadowed(web: httpx.AsyncClient) -> None:
    assert (await web.get("/v1/me")).status_code == 401
    assert (await web.get("/openapi.json")).json()["info"]["title"] == "plutarc API"
    assert "swagger" in (await web.get("/docs")).text.lower()
    assert (await web.get("/health")).json()["status"] == "alive"
    r = await web.post("/login", json={})
    assert r.status_code == 404 and r.json()["code"] == "request.not_found"


async def test_without_a_build_the_root_says_how_to_make_one(tmp_path: Path) -> None:
    async for web in client_for(tmp_path, tmp_path / "nowhere"):
        r = await web.get("/")
        assert r.status_code == 404
        assert r.json()["code"] == "dashboard.not_built"
        assert "make web" in r.json()["detail"]
        assert (await web.get("/v1/nothing-here")).json()["code"] == "request.not_found"
