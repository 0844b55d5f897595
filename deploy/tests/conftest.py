"""One compose platform for the session's deploy tests (starting one takes a minute on 2 cores)."""

from __future__ import annotations

import uuid
from collections.abc import Iterator

import pytest

from .compose import ROOT, ComposePlatform, compose_platform

ARTIFACTS = ROOT / "var" / "test-artifacts" / "compose"


@pytest.fixture(scope="session")
def platform() -> Iterator[ComposePlatform]:
    with compose_platform(ARTIFACTS / uuid.uuid4().hex[:8]) as running:
        yield running
