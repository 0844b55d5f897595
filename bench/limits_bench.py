"""The abuse limits' cost per request: one `RateLimiter.take`, from one process and from two at once.

Each process is what one API worker does: its own engine on the shared database, one take per
request. "keys" spreads the takes over 1,000 keys per process (tokens and addresses of many
clients); "one key" makes both processes take from the same row (one client on two workers).
Every take is allowed (a rate and burst out of reach): the cost measured is a decision that
writes, the common case.
"""

from __future__ import annotations

import multiprocessing
import statistics
import time
from multiprocessing.synchronize import Barrier
from pathlib import Path
from typing import Any


def _hammer(
    settings: dict[str, Any], takes: int, shared_key: bool, start: Barrier, out: Any
) -> None:
    from plutarc_api.limits import RateLimiter, limits_engine
    from plutarc_api.settings import ApiSettings

    engine = limits_engine(ApiSettings(**settings))
    # lease=1: every take asks the database (the API leases several at once; this measures one ask)
    limiter = RateLimiter(engine, rate=1e9, burst=10**9, name="bench", lease=1)
    prefix = "shared" if shared_key else str(id(limiter))
    keys = [prefix if shared_key else f"{prefix}-{i}" for i in range(1000)]
    for i in range(min(takes, 1000)):  # warm up: connections, prepared statements, rows
        limiter.take(keys[i % 1000])
    start.wait(timeout=120)
    samples = []
    began = time.perf_counter()
    for i in range(takes):
        t0 = time.perf_counter_ns()
        limiter.take(keys[i % 1000])
        samples.append(time.perf_counter_ns() - t0)
    out.put((time.perf_counter() - began, samples))
    engine.dispose()


def _measure(settings: dict[str, Any], processes: int, takes: int, shared_key: bool) -> str:
    ctx = multiprocessing.get_context("spawn")
    start, out = ctx.Barrier(processes), ctx.Queue()
    procs = [
        ctx.Process(target=_hammer, args=(settings, takes, shared_key, start, out))
        for _ in range(processes)
    ]
    for proc in procs:
        proc.start()
    results = [out.get(timeout=600) for _ in procs]
    for proc in procs:
        proc.join(timeout=60)
        if proc.exitcode != 0:
            raise RuntimeError(f"a benchmark process exited with {proc.exitcode}")
    wall = max(seconds for seconds, _ in results)
    micros = sorted(ns / 1000 for _, samples in results for ns in samples)
    p99 = micros[int(0.99 * len(micros))]
    return (
        f"{processes} process{'es' if processes > 1 else ''}, {'one key' if shared_key else 'keys'}: "
        f"{statistics.fmean(micros):.0f} µs per take (p50 {statistics.median(micros):.0f}, "
        f"p99 {p99:.0f}), {processes * takes / wall:,.0f} takes/s in all"
    )


def run(base: Path, backend: str, url: str | None = None, takes: int = 20_000) -> list[str]:
    settings = {"data_dir": str(base / f"limits-{backend}"), "database_url": url}
    lines = []
    for processes, shared_key in ((1, False), (2, False), (2, True)):
        lines.append(f"{backend}: {_measure(settings, processes, takes, shared_key)}")
    return lines
