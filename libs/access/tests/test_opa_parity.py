"""Parity: a real OPA server gives exactly the in-process engine's decisions, reasons included.

Two servers: one started from the policy directory (how deployments run it) and one started empty
and filled through the REST API (``OpaServerEngine(push=True)``).
"""

from __future__ import annotations

import subprocess

import pytest
from plutarc_access import (
    AccessError,
    OpaServerEngine,
    RegoEngine,
    default_policy_dir,
    ensure_opa,
    start_opa_server,
)
from plutarc_access.matrix import all_cases, expected_allowed

pytestmark = pytest.mark.opa


@pytest.mark.parametrize("server", ["opa_dir_engine", "opa_pushed_engine"])
def test_opa_server_matches_rego_engine(
    server: str, rego: RegoEngine, request: pytest.FixtureRequest
) -> None:
    opa: OpaServerEngine = request.getfixturevalue(server)
    mismatches = []
    for case in all_cases():
        local, remote = rego.decide(case), opa.decide(case)
        if local != remote or remote.allowed != expected_allowed(case):
            mismatches.append((case, local, remote))
    assert not mismatches, mismatches[:5]


def test_server_without_the_policy_is_an_error() -> None:
    url, stop = start_opa_server(None)
    try:
        engine = OpaServerEngine(url)
        with pytest.raises(AccessError, match="policy not loaded"):
            engine.decide(all_cases()[0])
        engine.close()
    finally:
        stop()


def test_unreachable_server_is_an_error() -> None:
    url, stop = start_opa_server(None)
    stop()
    engine = OpaServerEngine(url, timeout=1.0)
    with pytest.raises(AccessError):
        engine.decide(all_cases()[0])


def test_policy_passes_opa_strict_check_and_fmt() -> None:
    """OPA's own compiler in strict mode (unused vars, shadowing...) and its canonical format."""
    opa, policy = str(ensure_opa()), str(default_policy_dir())
    check = subprocess.run([opa, "check", "--strict", policy], capture_output=True, text=True)
    assert check.returncode == 0, check.stdout + check.stderr
    fmt = subprocess.run([opa, "fmt", "--list", policy], capture_output=True, text=True)
    assert fmt.returncode == 0 and not fmt.stdout.strip(), f"run `opa fmt -w`: {fmt.stdout}"
