"""`python -m bench [--only NAME ...] [--quick]`: run the benchmarks and print their numbers.

Each benchmark returns lines of text; nothing here compares them with goals (docs/benchmarks.md
does). Servers are started once and stopped at the end, also on an error or Ctrl-C: PostgreSQL
for the store and limits benchmarks, one Kafka broker shared by the relay and round-trip
benchmarks.
"""

from __future__ import annotations

import argparse
import contextlib
import importlib
import inspect
import io
import logging
import signal
import sys
import time
import traceback
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from types import FrameType

from .common import header, kafka, postgres, workdir


@dataclass
class Env:
    base: Path
    quick: bool
    stack: contextlib.ExitStack
    _bootstrap: str | None = None

    def kafka(self) -> str:
        """One broker for every benchmark that needs it, started on first use."""
        if self._bootstrap is None:
            self._bootstrap = self.stack.enter_context(kafka(self.base))
        return self._bootstrap


def store(env: Env) -> Iterator[str]:
    from . import store_bench

    sizes = {"events": 5_000, "single": 500} if env.quick else {}
    yield from store_bench.run(env.base, "sqlite", **sizes)
    with postgres(env.base) as server:
        yield from store_bench.run(env.base, "postgres", server.url, **sizes)


def limits(env: Env) -> Iterator[str]:
    from . import limits_bench

    sizes = {"takes": 2_000} if env.quick else {}
    yield from limits_bench.run(env.base, "sqlite", **sizes)
    with postgres(env.base) as server:
        yield from limits_bench.run(env.base, "postgres", server.url, **sizes)


def external(module_name: str, quick: dict[str, int]) -> Callable[[Env], Iterator[str]]:
    """A benchmark module written elsewhere, imported only when it runs (and skipped if absent).

    Its `run()` gets `base`, `quick` (or the quick sizes given here) and the shared broker as
    `bootstrap`, each only if it declares that parameter. What it prints itself is captured, so that
    each line appears once.
    """
    short = module_name.rsplit(".", 1)[-1]

    def bench(env: Env) -> Iterator[str]:
        try:
            module = importlib.import_module(module_name)
        except ModuleNotFoundError as exc:
            if exc.name != module_name:
                raise
            yield f"{short}: skipped ({module_name.replace('.', '/')}.py does not exist)"
            return
        params = inspect.signature(module.run).parameters
        kwargs: dict[str, object] = {"base": env.base, "quick": env.quick}
        kwargs.update(quick if env.quick else {})
        if "bootstrap" in params:
            kwargs["bootstrap"] = env.kafka()
        printed = io.StringIO()
        try:
            with contextlib.redirect_stdout(printed):
                lines = list(module.run(**{k: v for k, v in kwargs.items() if k in params}) or [])
        except BaseException:
            print(printed.getvalue(), end="", flush=True)
            raise
        extra = [line for line in printed.getvalue().splitlines() if line and line not in lines]
        yield from extra + lines

    return bench


def relay(env: Env) -> Iterator[str]:
    from . import relay_bench

    sizes = {"events": 10_000, "repeats": 1} if env.quick else {}
    yield from relay_bench.run(env.base, env.kafka(), **sizes)


def roundtrip(env: Env) -> Iterator[str]:
    from . import roundtrip_bench

    sizes = {"samples": 100, "warmup": 20} if env.quick else {}
    yield from roundtrip_bench.run(env.base, env.kafka(), **sizes)


# The shared broker's benchmarks last, so that broker is not running while the others measure.
BENCHMARKS: dict[str, Callable[[Env], Iterator[str]]] = {
    "store": store,
    "limits": limits,
    "authz": external("bench.authz_bench", {"cached": 100_000, "uncached": 500, "http": 200}),
    "audit": external("bench.audit_bench", {"events": 20_000}),
    "shape": external("bench.shape_bench", {}),
    "support": external("bench.support_bench", {}),
    "strategy": external("bench.strategy_bench", {}),
    "sessions": external("bench.sessions_bench", {}),
    "paper": external("bench.paper_bench", {}),
    "egress": external("bench.egress_bench", {}),
    "runtime": external("bench.runtime_bench", {}),
    "compute_scheduler": external("bench.compute_scheduler_bench", {}),
    "compute_wake": external("bench.compute_wake_bench", {}),
    # Each with a broker of its own, holding only the identity history it publishes.
    "projection": external("bench.projection_bench", {}),
    "restart": external("bench.restart_bench", {}),
    "memory": external("bench.memory_bench", {}),
    "relay": relay,
    "roundtrip": roundtrip,
    "telegram": external("bench.telegram_bench", {}),
    "marketdata": external("bench.marketdata_bench", {"updates": 100_000}),
    "api": external("bench.api_bench", {}),
    "exchange_decide": external("bench.exchange_decide_bench", {}),
    "exchange": external("bench.exchange_bench", {}),
    "exchange_api": external("bench.exchange_api_bench", {}),
    "compute_api": external("bench.compute_api_bench", {}),
    "dashboard": external("bench.dashboard_bench", {}),
}


def _terminate(signum: int, _frame: FrameType | None) -> None:
    raise SystemExit(128 + signum)  # unwinds the context managers, so the servers stop


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench", description=__doc__)
    parser.add_argument(
        "--only",
        action="append",
        choices=sorted(BENCHMARKS),
        metavar="NAME",
        help=f"run only this benchmark (repeatable): {', '.join(BENCHMARKS)}",
    )
    parser.add_argument("--quick", action="store_true", help="small sizes, for a smoke run")
    args = parser.parse_args(argv)
    signal.signal(signal.SIGTERM, _terminate)
    logging.basicConfig(level=logging.WARNING, format="%(levelname)s %(name)s: %(message)s")
    logging.getLogger("aiokafka").setLevel(logging.CRITICAL)  # group coordinator chatter at start

    print(header() + (" [quick]" if args.quick else ""), flush=True)
    failed = []
    started = time.perf_counter()
    with contextlib.ExitStack() as stack:
        env = Env(stack.enter_context(workdir()), args.quick, stack)
        for name, bench in BENCHMARKS.items():
            if args.only and name not in args.only:
                continue
            print(f"\n## {name}", flush=True)
            t0 = time.perf_counter()
            try:
                for line in bench(env):
                    print(line, flush=True)
            except Exception:
                failed.append(name)
                traceback.print_exc()
            print(f"({time.perf_counter() - t0:.0f} s)", flush=True)
    print(f"\ntotal {time.perf_counter() - started:.0f} s", flush=True)
    if failed:
        print(f"failed: {', '.join(failed)}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
