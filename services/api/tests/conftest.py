from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from uuid import uuid4

import pytest
from plutarc_api.limits import limits_engine
from plutarc_api.settings import ApiSettings
from sqlalchemy.engine import Engine


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
