"""What a bot's venue egress (tinyproxy, docs/egress.md) costs a venue call.

An HTTPS endpoint on 127.0.0.1 (aiohttp, a throwaway CA) answers a small JSON body; an aiohttp
client, as ccxt drives it, calls it directly and through an egress bound to another loopback
address, measured the same way:

  start          Egress start until it answers its health check
  kept-alive     one request on a connection (a tunnel) already open: what each order pays
  new tunnel     a fresh client each time: TCP, CONNECT and the TLS handshake, then the request
  concurrent     requests/s from 16 clients at once on kept-alive connections
  burst          a server pushing 50 messages of 100 bytes, 2 ms apart, down one open tunnel
                 (a websocket feed's shape): the largest gap between two arrivals. tinyproxy
                 leaves Nagle's algorithm on, so with the receiver's delayed ACK a small write
                 can wait about 40 ms; the same stall hits the first request after a TLS 1.3
                 handshake (the server's two session tickets), hence "new tunnel"
"""

from __future__ import annotations

import asyncio
import dataclasses
import itertools
import statistics
import time
from collections.abc import Iterator
from pathlib import Path

import aiohttp
from aiohttp import web
from plutarc_bots.egress import Egress, EgressSettings
from plutarc_testkit.tls import TestCA, make_test_ca

from .common import percentiles

BOT_ADDRESS = "127.0.33.7"


def run(base: Path, quick: bool = False, samples: int = 2_000, fresh: int = 200) -> Iterator[str]:
    if quick:
        samples, fresh = 200, 20
    yield from asyncio.run(_run(base, samples, fresh))


async def _run(base: Path, samples: int, fresh: int) -> list[str]:
    ca = make_test_ca(base / "egress-ca")
    app = web.Application()
    app.router.add_get("/api/v3/account", _account)
    runner = web.AppRunner(app, access_log=None)
    await runner.setup()
    await web.TCPSite(runner, "127.0.0.1", 0, ssl_context=ca.server_context()).start()
    url = f"https://127.0.0.1:{runner.addresses[0][1]}/api/v3/account"
    settings = EgressSettings(
        bind=BOT_ADDRESS,
        runtime_dir=base / "egress",
        connect_ports=(runner.addresses[0][1],),
        max_clients=200,
    )
    lines = []
    try:
        starts = []
        for _ in range(5):
            t0 = time.perf_counter()
            async with Egress(settings):
                starts.append((time.perf_counter() - t0) * 1000)
        lines.append(f"start: median {statistics.median(starts):.1f} ms (5 starts)")
        pusher = await asyncio.start_server(_push, "127.0.0.1", 0)
        push_port = int(pusher.sockets[0].getsockname()[1])
        settings = dataclasses.replace(settings, connect_ports=(*settings.connect_ports, push_port))
        async with Egress(settings) as egress:
            for name, via in (("direct", None), ("egress", egress.port)):
                gaps = [await _burst(push_port, via) for _ in range(5)]
                lines.append(
                    f"{name:6} burst max gap median {statistics.median(gaps):.1f} ms (5 runs)"
                )
            pusher.close()
            for name, proxy in (("direct", None), ("egress", egress.url)):
                kept = await _kept_alive(ca, url, proxy, samples)
                new = await _new_tunnels(ca, url, proxy, fresh)
                rate = await _concurrent(ca, url, proxy, samples)
                lines.append(f"{name:6} kept-alive {percentiles(kept)}")
                lines.append(f"{name:6} new tunnel {percentiles(new)}")
                lines.append(f"{name:6} concurrent {rate:,.0f} requests/s (16 clients)")
    finally:
        await runner.cleanup()
    return lines


async def _account(request: web.Request) -> web.Response:
    return web.json_response({"balances": [{"asset": "USDT", "free": "1000.0", "locked": "0"}]})


def _session(ca: TestCA) -> aiohttp.ClientSession:
    return aiohttp.ClientSession(connector=aiohttp.TCPConnector(ssl=ca.client_context()))


async def _get(session: aiohttp.ClientSession, url: str, proxy: str | None) -> None:
    async with session.get(url, proxy=proxy) as response:
        await response.read()
        response.raise_for_status()


async def _kept_alive(ca: TestCA, url: str, proxy: str | None, samples: int) -> list[float]:
    timings = []
    async with _session(ca) as session:
        await _get(session, url, proxy)
        for _ in range(samples):
            t0 = time.perf_counter()
            await _get(session, url, proxy)
            timings.append((time.perf_counter() - t0) * 1000)
    return timings


async def _new_tunnels(ca: TestCA, url: str, proxy: str | None, count: int) -> list[float]:
    timings = []
    for _ in range(count):
        async with _session(ca) as session:
            t0 = time.perf_counter()
            await _get(session, url, proxy)
            timings.append((time.perf_counter() - t0) * 1000)
    return timings


async def _concurrent(ca: TestCA, url: str, proxy: str | None, samples: int) -> float:
    async def client(count: int) -> None:
        async with _session(ca) as session:
            for _ in range(count):
                await _get(session, url, proxy)

    t0 = time.perf_counter()
    await asyncio.gather(*(client(samples // 16) for _ in range(16)))
    return (samples // 16 * 16) / (time.perf_counter() - t0)


async def _push(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
    await reader.read(1)
    for _ in range(50):
        writer.write(b"x" * 100)
        await writer.drain()
        await asyncio.sleep(0.002)
    await reader.read(1)
    writer.close()


async def _burst(port: int, egress_port: int | None) -> float:
    """The largest gap (ms) between two arrivals of a 50-message push."""
    if egress_port is None:
        reader, writer = await asyncio.open_connection("127.0.0.1", port)
    else:
        reader, writer = await asyncio.open_connection("127.0.0.1", egress_port)
        writer.write(f"CONNECT 127.0.0.1:{port} HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n".encode())
        while (await reader.readline()) not in (b"\r\n", b""):
            pass
    writer.write(b"g")
    arrivals, received = [], 0
    while received < 5000:
        received += len(await reader.read(65536))
        arrivals.append(time.perf_counter())
    writer.close()
    return max((b - a) * 1000 for a, b in itertools.pairwise(arrivals))
