"""The one route style: what `Require` needs of a route, and what OpenAPI then says."""

from __future__ import annotations

from typing import Annotated

import pytest
from fastapi import APIRouter, FastAPI
from plutarc_api.deps import Access, PermissionRoute, allowed


def test_a_route_that_requires_a_permission_needs_the_workspace_in_its_path() -> None:
    router = APIRouter(route_class=PermissionRoute)
    with pytest.raises(ValueError, match=r"needs \{workspace_id\}"):

        @router.get("/v1/things")
        async def things(access: Annotated[Access, allowed("workspace:read")]) -> None: ...


def test_idempotency_key_is_declared_on_writes_not_reads(app: FastAPI) -> None:
    paths = app.openapi()["paths"]

    def headers(path: str, method: str) -> set[str]:
        params = paths[path][method].get("parameters", [])
        return {p["name"] for p in params if p["in"] == "header"}

    assert headers("/v1/workspaces/{workspace_id}", "get") == set()
    assert headers("/v1/workspaces/{workspace_id}", "patch") == {"Idempotency-Key"}
    assert paths["/v1/workspaces/{workspace_id}"]["get"]["x-permission"] == "workspace:read"
