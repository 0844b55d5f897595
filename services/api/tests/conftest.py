"""The gateway app without its lifespan (no broker): empty read models that count as caught up."""

from __future__ import annotations

from collections.abc import AsyncIterator, Iterator
from pathlib import Path
from typing import Any
from uuid import uuid4

import httpx
import pytest
from fastapi import FastAPI
from plutarc_api.app import create_app
from plutarc_api.limits import limits_engine
from plutarc_api.runtime import ApiRuntime
from plutarc_api.settings import ApiSettings
from sqlalchemy.engine import Engine

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


class Clock:
    """Wall-clock seconds that move only when told to."""

    def __init__(self, start: float = 1_800_000_000.0) -> None:
        self.t = start

    def __call__(self) -> float:
        return self.t

    def advance(self, seconds: float) -> None:
        self.t += seconds


@pytest.fixture(params=["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)])
def limits_settings(request: pytest.FixtureRequest, tmp_path: Path) -> ApiSettings:
    """The API's settings on each backend the limits run on: a SQLite file, a PostgreSQL database."""
    url = None
    if request.param == "postgres":
        url = request.getfixturevalue("postgres_server").create_database(
            f"limits_{uuid4().hex[:12]}"
        )
    return ApiSettings(data_dir=tmp_path / "api", database_url=url)


@pytest.fixture
def engine(limits_settings: ApiSettings) -> Iterator[Engine]:
    engine = limits_engine(limits_settings)
    yield engine
    engine.dispose()


@pytest.fixture
def clock() -> Clock:
    return Clock()
