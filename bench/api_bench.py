"""The gateway API over HTTP: an authenticated read from a projection, and a write through Kafka.

The platform runs as it does in production, each part in its own process: a Kafka broker (full JIT),
the identity service (`plutarc_identity.main`, SQLite in a temp dir) and the API
(`plutarc_api.main`, asked for PLUTARC_WORKERS=2 workers; the first line says how many
processes serve, and CPU is counted over all of them). The bench process only generates load, so
on a small machine the load generator does not compete with the server for the same interpreter.

1. `GET /v1/workspaces/{id}` with a session bearer token (rate limits raised out of the way): bearer
   lookup, per-IP and per-token buckets, membership + cached policy decision, response model. Load
   comes from `wrk` (one thread, keep-alive) when it is installed, else from httpx.AsyncClient
   workers; a sweep over the number of connections shows throughput against latency (by Little's
   law, mean latency ~ connections / throughput once the server is saturated). The API's CPU use
   over each run is reported: ~100% of a core per worker means the server, not the generator, is
   the limit.
2. `POST /v1/organisations`, one at a time: HTTP -> command on Kafka -> identity handler and
   SQLite commit -> relay -> events back to the API's projection -> 201.

Set PLUTARC_BENCH_PROFILE=1 to run the API under cProfile, one worker (slower: the numbers are then
only for finding where time goes); the profile is saved next to `base` and its top entries are
printed.

Run alone with
  uv run python -c "import bench.api_bench as b, pathlib, tempfile; print('\\n'.join(b.run(pathlib.Path(tempfile.mkdtemp()))))"
"""

from __future__ import annotations

import asyncio
import contextlib
import io
import os
import pstats
import re
import shutil
import signal
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from dataclasses import dataclass
from pathlib import Path
from types import FrameType
from uuid import uuid4

import httpx

from .common import kafka, percentiles
from .processes import Usage, child, environment, free_port, wait_ready, wait_workers_ready

PASSWORD = "correct horse battery"
PROFILE_ENV = "PLUTARC_BENCH_PROFILE"
WORKERS = 2
# Runs the API's entry point under cProfile and saves the profile however the server stops.
PROFILED_API = (
    "import cProfile, sys\n"
    "from plutarc_api.main import main\n"
    "profiler = cProfile.Profile()\n"
    "profiler.enable()\n"
    "try:\n"
    "    main()\n"
    "finally:\n"
    "    profiler.disable()\n"
    "    profiler.dump_stats(sys.argv[1])\n"
)


def _call(
    http: httpx.Client, method: str, path: str, expect: int, deadline: float = 60, **kw: object
) -> httpx.Response:
    """A setup request, retried while the API answers 202 (identity's consumer still joining)."""
    key = uuid4().hex  # the same Idempotency-Key: a retry is the same command, not a second one
    end = time.monotonic() + deadline
    while True:
        r = http.request(method, path, headers={"Idempotency-Key": key}, **kw)  # type: ignore[arg-type]
        if r.status_code == expect:
            return r
        if r.status_code != 202 or time.monotonic() > end:
            raise RuntimeError(f"{method} {path}: {r.status_code} {r.text[:500]}")


@dataclass
class Load:
    connections: int
    requests: int
    seconds: float  # as the load generator measured its run
    p50_ms: float
    p99_ms: float
    errors: int
    tool: str
    api_cpu: float = 0.0  # CPU seconds the API process used during the run
    wall: float = 0.0  # seconds over which api_cpu and host_busy were measured
    host_busy: float = 0.0  # fraction of all the machine's cores busy (API, load, anything else)
    load_cpu: float = 0.0  # CPU seconds the load generator used (wrk, or this process for httpx)
    api_each: tuple[float, ...] = ()  # CPU seconds of each busy API process, most first

    @property
    def saturated(self) -> bool:
        return self.load_cpu / self.wall > 0.8

    def line(self) -> str:
        errors = f", {self.errors} errors" if self.errors else ""
        return (
            f"api: GET workspace, {self.connections:>2} connections ({self.tool}): "
            f"{self.requests / self.seconds:,.0f} req/s, p50 {self.p50_ms:.2f} ms, "
            f"p99 {self.p99_ms:.2f} ms; API CPU {self.api_cpu / self.wall:.0%} of a core"
            + (
                f" ({' + '.join(f'{c / self.wall:.0%}' for c in self.api_each)})"
                if len(self.api_each) > 1
                else ""
            )
            + ", "
            f"{self.api_cpu / max(1, self.requests) * 1e6:.0f} us/request; "
            f"load generator {self.load_cpu / self.wall:.0%} of a core; "
            f"machine {self.host_busy * (os.cpu_count() or 1):.0%} of {os.cpu_count()} cores busy"
            f"{errors}"
            + (
                " [load generator saturated: a floor, not the API's limit]"
                if self.saturated
                else ""
            )
        )


_UNITS = {"us": 0.001, "ms": 1.0, "s": 1000.0}


def _wrk_ms(text: str) -> float:
    m = re.fullmatch(r"([\d.]+)(us|ms|s)", text)
    if m is None:
        raise ValueError(f"unexpected wrk latency {text!r}")
    return float(m.group(1)) * _UNITS[m.group(2)]


def _wrk(url: str, token: str, connections: int, seconds: float, pid: int) -> Load:
    usage = Usage(pid)
    out = subprocess.run(
        [
            "wrk",
            "-t1",
            f"-c{connections}",
            f"-d{max(1, round(seconds))}s",
            "--latency",
            "--timeout",
            "10s",
            "-H",
            f"Authorization: Bearer {token}",
            url,
        ],
        capture_output=True,
        text=True,
        check=True,
        timeout=seconds + 60,
    ).stdout
    api_cpu, wall, host_busy, wrk_cpu = usage.stop()
    m = re.search(r"(\d+) requests in ([\d.]+)(us|ms|s|m)", out)
    pct = dict(re.findall(r"^\s+(50|99)%\s+(\S+)", out, re.M))
    if m is None or set(pct) != {"50", "99"}:
        raise RuntimeError(f"could not read wrk's output:\n{out}")
    scale = {"us": 1e-6, "ms": 1e-3, "s": 1.0, "m": 60.0}[m.group(3)]
    errors = sum(int(n) for n in re.findall(r"Non-2xx or 3xx responses: (\d+)", out))
    if s := re.search(r"Socket errors: connect (\d+), read (\d+), write (\d+), timeout (\d+)", out):
        errors += sum(int(g) for g in s.groups())
    return Load(
        connections,
        int(m.group(1)),
        float(m.group(2)) * scale,
        _wrk_ms(pct["50"]),
        _wrk_ms(pct["99"]),
        errors,
        "wrk",
        api_cpu,
        wall,
        host_busy,
        wrk_cpu,
        tuple(usage.each),
    )


async def _httpx_load(url: str, token: str, connections: int, seconds: float, pid: int) -> Load:
    limits = httpx.Limits(max_connections=connections, max_keepalive_connections=connections)
    samples: list[float] = []
    errors = 0
    async with httpx.AsyncClient(
        headers={"Authorization": f"Bearer {token}"}, limits=limits, timeout=10
    ) as http:
        usage, own0 = Usage(pid), time.process_time()
        t0 = time.perf_counter()
        end = t0 + seconds

        async def worker() -> None:
            nonlocal errors
            while (start := time.perf_counter()) < end:
                r = await http.get(url)
                samples.append((time.perf_counter() - start) * 1000)
                if r.status_code != 200:
                    errors += 1

        await asyncio.gather(*(worker() for _ in range(connections)))
        elapsed = time.perf_counter() - t0
        api_cpu, wall, host_busy, _ = usage.stop()
        own = time.process_time() - own0
    ordered = sorted(samples)

    def q(f: float) -> float:
        return ordered[min(len(ordered) - 1, int(f * len(ordered)))]

    return Load(
        connections,
        len(ordered),
        elapsed,
        q(0.5),
        q(0.99),
        errors,
        "httpx",
        api_cpu,
        wall,
        host_busy,
        own,
        tuple(usage.each),
    )


def _load(url: str, token: str, connections: int, seconds: float, pid: int) -> Load:
    if shutil.which("wrk"):
        return _wrk(url, token, connections, seconds, pid)
    return asyncio.run(_httpx_load(url, token, connections, seconds, pid))


class Tap:
    """Watches identity's command and event topics from a thread, to split a write into stages.

    Kafka stamps each record with its producer's wall clock (CreateTime, in ms) when it is sent:
    the command when the API sends it, the reply when identity's outbox relay publishes it. With
    the bench's own wall clock around each request, that gives three stages per write. (The tap
    is one more consumer on the broker; it reads a few records per request.)
    """

    def __init__(self, bootstrap: str) -> None:
        self.bootstrap = bootstrap
        self.commands: dict[str, tuple[int, str]] = {}  # key (workspace id) -> (ms, correlation)
        self.replies: dict[str, tuple[int, float]] = {}  # correlation id -> (ms, ms seen here)
        self.ready = threading.Event()
        self.done = threading.Event()
        self.error: BaseException | None = None
        self.thread = threading.Thread(target=self._thread, name="api-bench-tap", daemon=True)

    def __enter__(self) -> Tap:
        self.thread.start()
        if not self.ready.wait(60) or self.error is not None:
            self.done.set()
            raise RuntimeError("the Kafka tap did not start") from self.error
        return self

    def __exit__(self, *_: object) -> None:
        self.done.set()
        self.thread.join(30)

    def _thread(self) -> None:
        try:
            asyncio.run(self._read())
        except BaseException as exc:
            self.error = exc
            self.ready.set()

    async def _read(self) -> None:
        from aiokafka import AIOKafkaConsumer, TopicPartition
        from plutarc_contracts import commands_topic, default_registry, events_topic
        from plutarc_contracts import identity as c

        registry = default_registry()
        commands, events = commands_topic(c.IDENTITY), events_topic(c.IDENTITY)
        consumer = AIOKafkaConsumer(
            bootstrap_servers=self.bootstrap,
            client_id="api-bench-tap",
            enable_auto_commit=False,
            fetch_max_wait_ms=20,
        )
        await consumer.start()
        try:
            cluster = await consumer._client.fetch_all_metadata()
            tps = [
                TopicPartition(topic, p)
                for topic in (commands, events)
                for p in sorted(cluster.partitions_for_topic(topic) or ())
            ]
            if {tp.topic for tp in tps} != {commands, events}:
                raise RuntimeError(f"topics not found: {commands}, {events}")
            consumer.assign(tps)
            await consumer.seek_to_end(*tps)
            for tp in tps:
                await consumer.position(tp)
            self.ready.set()
            while not self.done.is_set():
                batch = await consumer.getmany(timeout_ms=100)
                seen = time.time() * 1000
                for tp, records in batch.items():
                    for record in records:
                        if tp.topic == commands:
                            cmd = registry.decode_command(record.value)
                            key = (record.key or b"").decode()
                            self.commands[key] = (record.timestamp, cmd.correlation_id)
                        elif dict(record.headers).get("type") in REPLY_TYPES:
                            env = registry.decode_event(record.value)
                            self.replies[env.correlation_id] = (record.timestamp, seen)
        finally:
            await consumer.stop()

    def stages(self, key: str, sent_ms: float, answered_ms: float) -> tuple[float, ...] | None:
        """Stages in ms of the write whose command had this key (None if the tap missed it): to
        Kafka, in identity, reply sent -> the tap has it, reply sent -> HTTP answer."""
        command = self.commands.get(key)
        reply = self.replies.get(command[1]) if command else None
        if command is None or reply is None:
            return None
        sent, (replied, seen) = command[0], reply
        return sent - sent_ms, replied - sent, seen - replied, answered_ms - replied


REPLY_TYPES = {b"system.command_accepted", b"system.command_rejected"}


def _handling(metrics_url: str) -> tuple[float, float]:
    """(seconds, count) that identity spent handling commands so far: arrival to outcome stored."""
    total = count = 0.0
    for line in httpx.get(metrics_url, timeout=5).text.splitlines():
        if line.startswith("plutarc_command_handling_seconds_sum"):
            total += float(line.rsplit(" ", 1)[1])
        elif line.startswith("plutarc_command_handling_seconds_count"):
            count += float(line.rsplit(" ", 1)[1])
    return total, count


def _profile_lines(path: Path, top: int = 25) -> list[str]:
    lines = [f"api: cProfile of the API process saved to {path}"]
    for key in ("tottime", "cumulative"):
        buf = io.StringIO()
        pstats.Stats(str(path), stream=buf).strip_dirs().sort_stats(key).print_stats(top)
        body = buf.getvalue()
        start = body.find("   ncalls")
        lines.append(f"api: profile, top {top} by {key}:")
        lines.extend("  " + line for line in body[start:].splitlines() if line.strip())
    return lines


def _answers(url: str, token: str, tries: int = 20) -> str:
    """What the workers answer the benchmark's request now, each on a new connection."""
    seen: dict[tuple[int, str], int] = {}
    for _ in range(tries):
        with httpx.Client(headers={"Authorization": f"Bearer {token}"}, timeout=10) as http:
            r = http.get(url)
            worker = http.get(url.split("/v1/")[0] + "/health").json()["worker"]
        code = r.json().get("code", "ok") if r.status_code != 200 else "ok"
        seen[(worker, f"{r.status_code} {code}")] = (
            seen.get((worker, f"{r.status_code} {code}"), 0) + 1
        )
    return ", ".join(f"worker {w}: {a} x{n}" for (w, a), n in sorted(seen.items()))


def _bench(work: Path, base: Path, bootstrap: str, quick: bool) -> list[str]:
    profile = os.environ.get(PROFILE_ENV, "") not in ("", "0")
    identity_port, api_port = free_port(), free_port()
    identity_env = environment(
        kafka_bootstrap=bootstrap,
        data_dir=work / "identity",
        http_port=identity_port,
    )
    big = 1_000_000_000
    api_env = environment(
        kafka_bootstrap=bootstrap,
        data_dir=work / "api",
        http_port=api_port,
        token_rate=big,
        token_burst=big,
        ip_rate=big,
        ip_burst=big,
        command_deadline=30,
        argon2_time_cost=1,  # registration/login are setup here, not measured
        argon2_memory_kib=8192,
        workers=1 if profile else WORKERS,
    )
    prof_path = base / "api-bench.prof"
    api_args = ["-c", PROFILED_API, str(prof_path)] if profile else ["-m", "plutarc_api.main"]
    lines: list[str] = []
    samples, warmup = (60, 10) if quick else (300, 30)
    seconds, sweep = (2.0, (1, 16)) if quick else (10.0, (1, 8, 16, 32))

    with contextlib.ExitStack() as stack:
        identity = stack.enter_context(
            child("identity", ["-m", "plutarc_identity.main"], identity_env, work)
        )
        wait_ready(identity, f"http://127.0.0.1:{identity_port}/ready")  # topics exist now
        api = stack.enter_context(child("api", api_args, api_env, work))
        base_url = f"http://127.0.0.1:{api_port}"
        wait_ready(api, f"{base_url}/ready")
        wait_workers_ready(api, base_url)  # /ready above answered from one of them
        served = api.workers
        lines.append(
            f"api: served by {served} worker process{'es' if served > 1 else ''} "
            f"(PLUTARC_WORKERS={api_env['PLUTARC_WORKERS']}); CPU below is summed over its processes"
        )

        with httpx.Client(base_url=base_url, timeout=60) as http:
            email = f"bench-{uuid4().hex[:8]}@example.com"
            _call(
                http,
                "POST",
                "/v1/auth/register",
                201,
                json={"email": email, "password": PASSWORD, "display_name": "Bench"},
            )
            token = _call(
                http, "POST", "/v1/auth/login", 200, json={"email": email, "password": PASSWORD}
            ).json()["token"]
            http.headers["Authorization"] = f"Bearer {token}"
            workspace_id = _call(
                http, "POST", "/v1/organisations", 201, json={"name": "Bench org"}
            ).json()["workspace_id"]
            path = f"/v1/workspaces/{workspace_id}"
            r = http.get(path)
            if r.status_code != 200 or r.json()["workspace_id"] != workspace_id:
                raise RuntimeError(f"GET {path}: {r.status_code} {r.text[:500]}")

            # 1. Reads: warm up, then sweep the number of connections.
            url = base_url + path
            _load(url, token, 16, 1.0 if quick else 3.0, api.proc.pid)
            for connections in sweep:
                load = _load(url, token, connections, seconds, api.proc.pid)
                lines.append(load.line())
                if load.errors:
                    lines.append(f"api: after the errors above: {_answers(url, token)}")

            # 2. Writes through Kafka, one at a time.
            latencies: list[float] = []
            sent: list[tuple[str, float, float]] = []  # (workspace id, start, end) wall-clock ms
            metrics_url = f"http://127.0.0.1:{identity_port}/metrics"
            with Tap(bootstrap) as tap:
                usage, handled = Usage(api.proc.pid), _handling(metrics_url)
                for i in range(warmup + samples):
                    if i == warmup:
                        usage, handled = Usage(api.proc.pid), _handling(metrics_url)
                    wall_start, start = time.time() * 1000, time.perf_counter()
                    r = http.post("/v1/organisations", json={"name": f"Org {i}"})
                    elapsed = (time.perf_counter() - start) * 1000
                    if r.status_code != 201:
                        raise RuntimeError(
                            f"POST /v1/organisations: {r.status_code} {r.text[:500]}"
                        )
                    if i >= warmup:
                        latencies.append(elapsed)
                        sent.append((r.json()["workspace_id"], wall_start, wall_start + elapsed))
                cpu, wall, host_busy, _ = usage.stop()
                handled_after = _handling(metrics_url)
                time.sleep(0.5)  # the tap's last records
            staged = [st for key, t0, t1 in sent if (st := tap.stages(key, t0, t1)) is not None]
            cores = os.cpu_count() or 1
            lines.append(f"api: POST organisation, sequential: {percentiles(latencies)}")
            lines.append(
                f"api: POST organisation: max {max(latencies):.2f} ms, "
                f"stdev {statistics.stdev(latencies):.2f} ms; API CPU {cpu / wall:.0%} of a core, "
                f"{cpu / samples * 1e6:.0f} us/request; "
                f"machine {host_busy * cores:.0%} of {cores} cores busy"
            )
            if staged:
                to_kafka, in_identity, tapped, back = (
                    statistics.median(v) for v in zip(*staged, strict=True)
                )
                seconds_in, count_in = (a - b for a, b in zip(handled_after, handled, strict=True))
                handler = f"{seconds_in / count_in * 1000:.1f} ms" if count_in else "n/a"
                lines.append(
                    f"api: POST organisation, median stages (ms, Kafka timestamps: 1 ms steps, "
                    f"{len(staged)} of {len(sent)} matched): HTTP -> command sent {to_kafka:.1f}, "
                    f"command -> reply sent by identity's relay {in_identity:.1f} (of which "
                    f"identity's handler + store, mean: {handler}), reply -> HTTP answer {back:.1f} "
                    f"(a plain consumer has the reply after {tapped:.1f})"
                )
        stack.close()  # stop the API now, so that its profile is written
        if profile and prof_path.exists():
            lines.append(f"api: NOTE: {PROFILE_ENV} set, the API ran under cProfile (slower)")
            lines.extend(_profile_lines(prof_path))
    return lines


def _raise_on_sigterm(signum: int, _frame: FrameType | None) -> None:
    raise SystemExit(128 + signum)  # unwinds the context managers: children, broker, temp dir


def run(base: Path, quick: bool = False, bootstrap: str | None = None) -> list[str]:
    """Start Kafka (unless `bootstrap` names one), identity and the API; measure; stop everything."""
    work = Path(tempfile.mkdtemp(prefix="api-bench-", dir=base))
    previous = None
    if threading.current_thread() is threading.main_thread():
        previous = signal.getsignal(signal.SIGTERM)
        if previous in (signal.SIG_DFL, None):
            signal.signal(signal.SIGTERM, _raise_on_sigterm)
    try:
        with contextlib.ExitStack() as stack:
            if bootstrap is None:
                bootstrap = stack.enter_context(kafka(work))
            return _bench(work, base, bootstrap, quick)
    finally:
        if previous in (signal.SIG_DFL, None):
            signal.signal(signal.SIGTERM, signal.SIG_DFL)
        shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    quick = "--quick" in sys.argv[1:]
    with tempfile.TemporaryDirectory(prefix="plutarc-bench-") as d:
        print("\n".join(run(Path(d), quick=quick)))
