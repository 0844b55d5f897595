"""Authorization decisions per second: cached RegoEngine, uncached RegoEngine, OPA server over HTTP.

The workload is the decision matrix (role x permission, escalation cases, unknown roles and
permissions), cycled. The cached figure uses the part of it with a cache key (known vocabulary: what
services send) after one warm-up pass, i.e. steady state; requests outside the vocabulary are never
cached (that bounds the cache) and cost what the uncached engine costs. Uncached and OPA server
use the whole matrix; the OPA figure includes a local HTTP round trip per decision.

Run alone with ``uv run python -m bench.authz_bench``.
"""

from __future__ import annotations

import itertools
import time

from plutarc_access import AccessEngine, AccessRequest, OpaServerEngine, RegoEngine, cache_key
from plutarc_access.matrix import all_cases
from plutarc_access.opa_server import OPA_VERSION, ensure_opa, start_opa_server
from plutarc_access.policy import default_policy_dir

from .common import rate, timer


def _measure(engine: AccessEngine, cases: list[AccessRequest], count: int) -> float:
    """Seconds to take ``count`` decisions, cycling through ``cases``."""
    decide = engine.decide
    batch = list(itertools.islice(itertools.cycle(cases), count))
    with timer() as t:
        for request in batch:
            decide(request)
    return t[0]


def run(cached: int = 1_000_000, uncached: int = 5_000, http: int = 2_000) -> list[str]:
    """Measure the three engines; returns the lines it printed."""
    cases = all_cases()
    lines: list[str] = []

    def report(line: str) -> None:
        print(line, flush=True)
        lines.append(line)

    cacheable = [c for c in cases if cache_key(c) is not None]
    engine = RegoEngine()
    _measure(engine, cacheable, len(cacheable))  # warm the cache: steady state is what we report
    seconds = _measure(engine, cacheable, cached)
    report(
        f"authz: RegoEngine cached ({engine.cache_size} keys): {rate(cached, seconds)}"
        " (goal >= 200,000/s)"
    )

    cold = RegoEngine(cache=False)
    seconds = _measure(cold, cases, uncached)
    report(f"authz: RegoEngine uncached (compiled bundle entrypoint): {rate(uncached, seconds)}")

    started = time.perf_counter()
    binary = ensure_opa()
    build = time.perf_counter() - started
    url, stop = start_opa_server(default_policy_dir(), binary=binary)
    try:
        server = OpaServerEngine(url)
        _measure(server, cases, 50)  # open the keep-alive connection
        seconds = _measure(server, cases, http)
        server.close()
        report(
            f"authz: OPA server {OPA_VERSION} over HTTP (one decision per request): "
            f"{rate(http, seconds)} (ensure_opa {build:.1f}s)"
        )
    finally:
        stop()
    return lines


if __name__ == "__main__":
    run()
