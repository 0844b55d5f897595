"""Engines shared by the access tests: one compiled RegoEngine, and real OPA servers on demand.

The OPA fixtures are session-scoped because the first ``ensure_opa`` builds OPA from source
(minutes, once per machine) and each server takes a moment to start; only ``@pytest.mark.opa``
tests request them.
"""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from plutarc_access import OpaServerEngine, RegoEngine, default_policy_dir, start_opa_server


@pytest.fixture(scope="session")
def rego() -> RegoEngine:
    return RegoEngine()


@pytest.fixture(scope="session")
def opa_dir_engine() -> Iterator[OpaServerEngine]:
    """OPA started the deployment way: ``opa run --server deploy/policy``."""
    url, stop = start_opa_server(default_policy_dir())
    engine = OpaServerEngine(url)
    try:
        yield engine
    finally:
        engine.close()
        stop()


@pytest.fixture(scope="session")
def opa_pushed_engine() -> Iterator[OpaServerEngine]:
    """OPA started empty, with policy and data pushed through the REST API by the engine."""
    url, stop = start_opa_server(None)
    engine = OpaServerEngine(url, push=True)
    try:
        yield engine
    finally:
        engine.close()
        stop()
