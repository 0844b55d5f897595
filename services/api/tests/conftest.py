"""The gateway app without its lifespan (no broker): empty read models that count as caught up."""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import httpx
import pytest
from fastapi import FastAPI
from plutarc_api.app import create_app
from plutarc_api.runtime import ApiRuntime
from plutarc_api.settings import ApiSettings

MAX_BODY_BYTES = 4096


def warm_app(data_dir: Path, **overrides: Any) -> FastAPI:
    """`overrides` are ApiSettings fields."""
    settings = ApiSettings(data_dir=data_dir, **{"max_body_bytes": MAX_BODY_BYTES, **overrides})
    runtime = ApiRuntime(settings)
    runtime.open()
    runtime.read_models.caught_up.set()
    runtime.replies.ready.set()
    return create_app(settings, runtime)


@pytest.fixture
def app(tmp_path: Path) -> FastAPI:
    return warm_app(tmp_path)


@pytest.fixture
async def http(app: FastAPI) -> AsyncIterator[httpx.AsyncClient]:
    transport = httpx.ASGITransport(app=app, raise_app_exceptions=False)
    async with httpx.AsyncClient(transport=transport, base_url="http://api") as client:
        yield client
