"""The venue egress: a bot's venue traffic leaves from the bot's address through a CONNECT tunnel,
and the egress process never holds a credential (its log, files, environment and command line).

Real parts: tinyproxy (Debian), ccxt's Binance client with its per-instance proxy settings, TLS
with a throwaway CA, and a fake Binance on 127.0.0.1 that records the peer of every request.
"""

from __future__ import annotations

import asyncio
import dataclasses
import hashlib
import json
import os
import pwd
import secrets
import shutil
import signal
import subprocess
import sys
import tempfile
from collections.abc import AsyncIterator, Iterator
from pathlib import Path
from typing import Any

import aiohttp
import ccxt.pro
import pytest
from aiohttp import web
from plutarc_bots.egress import Egress, EgressError, EgressSettings, serve
from plutarc_testkit.tls import TestCA, make_test_ca
from plutarc_testkit.waiting import until, wait_until

from .egress_venue import FakeBinance, binance_client, raw_request

REPO = Path(__file__).resolve().parents[3]
GATEWAY = "127.0.0.1"  # where the test's ccxt client (the gateway) connects from


@pytest.fixture(scope="session")
def tinyproxy() -> str:
    found = shutil.which("tinyproxy")
    if found is None:
        script = REPO / "scripts" / "ensure-tinyproxy"
        found = subprocess.run([script], check=True, capture_output=True, text=True).stdout.strip()
    return found


@pytest.fixture(scope="session")
def test_ca(tmp_path_factory: pytest.TempPathFactory) -> TestCA:
    return make_test_ca(tmp_path_factory.mktemp("ca"))


@pytest.fixture
async def venue(test_ca: TestCA) -> AsyncIterator[FakeBinance]:
    fake = FakeBinance(test_ca)
    await fake.start()
    yield fake
    await fake.stop()


@pytest.fixture
def bot_address(request: pytest.FixtureRequest) -> str:
    """A loopback address of this test's own, never the gateway's 127.0.0.1."""
    digest = hashlib.sha256(request.node.nodeid.encode()).digest()
    return f"127.{digest[0]}.{digest[1]}.{2 + digest[2] % 250}"


@pytest.fixture
def credentials(monkeypatch: pytest.MonkeyPatch) -> tuple[str, str]:
    """A key and secret, also put in this process's environment: a child that inherited it would
    be caught holding them."""
    key, secret = f"KEY{secrets.token_hex(24)}", f"SECRET{secrets.token_hex(24)}"
    monkeypatch.setenv("PLUTARC_TEST_VENUE_KEY", key)
    monkeypatch.setenv("PLUTARC_TEST_VENUE_SECRET", secret)
    return key, secret


def settings(tmp_path: Path, bind: str, venue: FakeBinance) -> EgressSettings:
    return EgressSettings(bind=bind, runtime_dir=tmp_path / "egress", connect_ports=(venue.port,))


@pytest.fixture
async def egress(
    tinyproxy: str,
    tmp_path: Path,
    bot_address: str,
    venue: FakeBinance,
    credentials: tuple[str, str],
) -> AsyncIterator[Egress]:
    """Started by a process whose environment holds the credentials."""
    async with Egress(settings(tmp_path, bot_address, venue)) as running:
        yield running


def holds(egress: Egress, pid: int, secret: str) -> list[str]:
    """Where the egress holds ``secret``: its files, its environment, its command line."""
    places = [p for p in egress.settings.runtime_dir.rglob("*") if p.is_file()]
    places += [Path(f"/proc/{pid}/environ"), Path(f"/proc/{pid}/cmdline")]
    return [str(p) for p in places if secret.encode() in p.read_bytes()]


async def test_an_order_reaches_the_venue_from_the_bots_address_through_a_tunnel(
    egress: Egress, venue: FakeBinance, bot_address: str, credentials: tuple[str, str]
) -> None:
    key, secret = credentials
    direct = binance_client(venue, api_key=key, secret=secret)
    try:
        await direct.fetch_balance()
    finally:
        await direct.close()
    assert {seen.peer for seen in venue.requests} == {GATEWAY}  # the control: no egress
    venue.requests.clear()

    exchange = binance_client(venue, api_key=key, secret=secret, proxy=egress.url)
    try:
        balance = await exchange.fetch_balance()
        order = await exchange.create_order(
            "BTC/USDT", "limit", "buy", 0.001, 50000, {"clientOrderId": "plutarc-egress-1"}
        )
    finally:
        await exchange.close()

    assert balance["USDT"]["free"] == 1000.0
    assert order["clientOrderId"] == "plutarc-egress-1"
    assert venue.orders[0]["newClientOrderId"] == "plutarc-egress-1"
    paths = [(seen.method, seen.path) for seen in venue.requests]
    assert ("POST", "/api/v3/order") in paths
    assert {seen.peer for seen in venue.requests} == {bot_address}
    assert {seen.api_key for seen in venue.requests if seen.path != "/api/v3/exchangeInfo"} == {key}

    log = egress.log_file.read_text()
    assert f"CONNECT {venue.base} HTTP/1.1" in log
    assert "/api/v3" not in log  # paths travel inside TLS: the proxy saw only the tunnel
    assert egress.pid is not None
    for credential in (key, secret):
        assert holds(egress, egress.pid, credential) == []
    assert key in os.environ.values()  # ... though the process that started it had the key


async def test_websocket_traffic_leaves_from_the_bots_address_too(
    egress: Egress, venue: FakeBinance, bot_address: str, credentials: tuple[str, str]
) -> None:
    exchange = binance_client(
        venue, api_key=credentials[0], secret=credentials[1], proxy=egress.url
    )
    try:
        async with asyncio.timeout(20):
            trades = await exchange.watch_trades("BTC/USDT")
    finally:
        await exchange.close()
    assert trades[0]["price"] == 50000.0
    streams = [seen for seen in venue.requests if seen.path.startswith("/ws/")]
    assert streams and {seen.peer for seen in streams} == {bot_address}
    assert "/ws/" not in egress.log_file.read_text()


async def test_a_client_not_allowed_is_refused(
    egress: Egress, venue: FakeBinance, bot_address: str
) -> None:
    connect = f"CONNECT {venue.base} HTTP/1.1\r\nHost: {venue.base}\r\n\r\n"
    status = await raw_request(GATEWAY, egress.port, connect, source="127.0.0.66")
    assert status.split()[1] == b"403"
    allowed = await raw_request(GATEWAY, egress.port, connect)
    assert allowed.split()[1] == b"200"
    assert venue.requests == []  # the allowed tunnel carried no request


async def test_only_tunnels_to_allowed_ports_leave(egress: Egress, venue: FakeBinance) -> None:
    seen: list[str] = []

    async def plain(request: web.Request) -> web.Response:
        seen.append(request.path)
        return web.Response(text="cleartext")

    app = web.Application()
    app.router.add_get("/{tail:.*}", plain)
    runner = web.AppRunner(app)
    await runner.setup()
    await web.TCPSite(runner, "127.0.0.1", 0).start()
    port = runner.addresses[0][1]
    try:
        absolute = f"GET http://127.0.0.1:{port}/api HTTP/1.1\r\nHost: 127.0.0.1:{port}\r\n\r\n"
        origin = f"GET /api HTTP/1.1\r\nHost: 127.0.0.1:{port}\r\n\r\n"
        tunnel = f"CONNECT 127.0.0.1:{port} HTTP/1.1\r\nHost: 127.0.0.1:{port}\r\n\r\n"
        for request in (absolute, origin, tunnel):
            status = await raw_request(GATEWAY, egress.port, request)
            assert status.split()[1] in (b"403", b"400"), (request, status)
    finally:
        await runner.cleanup()
    assert seen == []


async def test_with_the_egress_stopped_the_venue_call_is_a_network_error(
    egress: Egress, venue: FakeBinance, credentials: tuple[str, str]
) -> None:
    assert await egress.healthy()
    await egress.stop()
    assert not egress.running and not await egress.healthy()
    exchange = binance_client(
        venue, api_key=credentials[0], secret=credentials[1], proxy=egress.url
    )
    try:
        with pytest.raises(ccxt.pro.NetworkError) as raised:
            await exchange.fetch_balance()
    finally:
        await exchange.close()
    assert isinstance(raised.value.__cause__, aiohttp.ClientProxyConnectionError)
    assert venue.requests == []


async def test_a_venue_unreachable_behind_a_live_egress_is_told_apart_by_the_cause(
    egress: Egress, venue: FakeBinance, credentials: tuple[str, str]
) -> None:
    """tinyproxy answers the CONNECT with 500 when it cannot reach the venue; ccxt maps that to
    ExchangeError, not NetworkError: the gateway must look at the cause (docs/egress.md)."""
    await venue.stop()
    exchange = binance_client(
        venue, api_key=credentials[0], secret=credentials[1], proxy=egress.url
    )
    try:
        with pytest.raises(ccxt.pro.ExchangeError) as raised:
            await exchange.fetch_balance()
    finally:
        await exchange.close()
    cause = raised.value.__cause__
    assert isinstance(cause, aiohttp.ClientHttpProxyError) and cause.status == 500
    assert "Could not establish a connection" in egress.log_file.read_text()


async def test_an_address_not_on_this_host_is_refused_before_starting(
    tinyproxy: str, tmp_path: Path
) -> None:
    egress = Egress(EgressSettings(bind="192.0.2.10", runtime_dir=tmp_path / "egress"))
    with pytest.raises(EgressError, match="not an address of this host"):
        await egress.start()
    assert not egress.running


def test_settings_are_addresses_and_ports_only(tmp_path: Path) -> None:
    with pytest.raises(EgressError, match="bind must be an IP address"):
        EgressSettings(bind="bot.example.com", runtime_dir=tmp_path)
    with pytest.raises(EgressError, match="allowed client"):
        EgressSettings(bind="127.0.0.9", runtime_dir=tmp_path, allowed_clients=("gw.example",))
    with pytest.raises(EgressError, match="connect port out of range"):
        EgressSettings(bind="127.0.0.9", runtime_dir=tmp_path, connect_ports=(0,))
    with pytest.raises(EgressError, match="quotes"):
        EgressSettings(bind="127.0.0.9", runtime_dir=tmp_path / 'a"b')
    made = EgressSettings(
        bind="127.0.0.9", runtime_dir=tmp_path, allowed_clients=("10.1.2.3/24", "127.0.0.1")
    )
    assert made.allowed_clients == ("127.0.0.1", "10.1.2.0/24")
    text = made.config_text(8899)
    assert "Bind 127.0.0.9\n" in text and "Port 8899\n" in text and "ConnectPort 443\n" in text
    assert "LogLevel Connect\n" in text and "FilterDefaultDeny Yes\n" in text


def _status(pid: int) -> str:
    return Path(f"/proc/{pid}/status").read_text()


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    try:
        return "State:\tZ" not in _status(pid)
    except FileNotFoundError:
        return False


@pytest.mark.parametrize("ending", ["SIGTERM", "SIGKILL"])
def test_the_command_runs_the_egress_and_it_dies_with_its_parent(
    tinyproxy: str, tmp_path: Path, ending: str
) -> None:
    command = [sys.executable, "-m", "plutarc_bots.egress", "--bot-id", "b1", "--bind"]
    command += ["127.0.0.9", "--runtime-dir", str(tmp_path / "b1"), "--connect-port", "8443"]
    runner = subprocess.Popen(command, stdout=subprocess.PIPE, text=True)
    try:
        assert runner.stdout is not None
        started = json.loads(runner.stdout.readline())
        assert started["egress"].startswith("http://127.0.0.1:") and started["bind"] == "127.0.0.9"
        assert "ConnectPort 8443\n" in (tmp_path / "b1" / "tinyproxy.conf").read_text()
        assert _alive(started["pid"])
        runner.send_signal(getattr(signal, ending))
        runner.wait(timeout=20)
        wait_until(lambda: not _alive(started["pid"]), timeout=10, what="tinyproxy to exit")
        if ending == "SIGTERM":
            assert runner.returncode == 0
    finally:
        runner.kill()
        runner.wait()


async def test_health_follows_the_process(
    tinyproxy: str, tmp_path: Path, bot_address: str, venue: FakeBinance
) -> None:
    egress = Egress(settings(tmp_path, bot_address, venue))
    assert not await egress.healthy()
    async with egress:
        assert await egress.healthy()
        pid = egress.pid
        assert pid is not None
        os.kill(pid, signal.SIGKILL)
        await until(lambda: not egress.running, timeout=10, what="the kill to be noticed")
        assert not await egress.healthy()


async def test_a_tunnel_the_egress_refuses_is_an_exchange_error_with_a_403_cause(
    tinyproxy: str, tmp_path: Path, bot_address: str, venue: FakeBinance
) -> None:
    only_443 = EgressSettings(bind=bot_address, runtime_dir=tmp_path / "egress")
    async with Egress(only_443) as egress:
        exchange = binance_client(venue, api_key="k", secret="s", proxy=egress.url)
        try:
            with pytest.raises(ccxt.pro.ExchangeError) as raised:
                await exchange.fetch_balance()
        finally:
            await exchange.close()
    cause = raised.value.__cause__
    assert isinstance(cause, aiohttp.ClientHttpProxyError) and cause.status == 403
    assert venue.requests == []


@pytest.fixture
def searchable() -> Iterator[Path]:
    """A directory every user can pass through (pytest's own are 0700)."""
    made = Path(tempfile.mkdtemp(dir="/tmp", prefix="plutarc-egress-"))
    made.chmod(0o711)
    yield made
    shutil.rmtree(made)


@pytest.mark.skipif(os.geteuid() != 0, reason="dropping privileges needs root")
async def test_started_as_root_it_runs_as_the_user_given(
    tinyproxy: str, tmp_path: Path, searchable: Path, bot_address: str, venue: FakeBinance
) -> None:
    nobody = pwd.getpwnam("nobody")
    unreachable = dataclasses.replace(settings(tmp_path, bot_address, venue), user="nobody")
    with pytest.raises(EgressError, match="not searchable"):  # pytest's tmp_path is 0700
        await Egress(unreachable).start()
    dropping = dataclasses.replace(unreachable, runtime_dir=searchable / "egress")
    async with Egress(dropping) as egress:
        assert egress.pid is not None
        assert f"Uid:\t{nobody.pw_uid}\t{nobody.pw_uid}" in _status(egress.pid)
        connect = f"CONNECT {venue.base} HTTP/1.1\r\nHost: {venue.base}\r\n\r\n"
        assert (await raw_request(GATEWAY, egress.port, connect)).split()[1] == b"200"
        assert f"CONNECT {venue.base}" in egress.log_file.read_text()
    with pytest.raises(EgressError, match="no such user"):
        dataclasses.replace(dropping, user="no-such-user-here")


async def test_serve_runs_until_stopped_and_fails_when_the_proxy_dies(
    tinyproxy: str,
    tmp_path: Path,
    bot_address: str,
    venue: FakeBinance,
    capsys: pytest.CaptureFixture[str],
) -> None:
    lines: list[str] = []

    def announced() -> dict[str, Any] | None:
        lines.extend(capsys.readouterr().out.splitlines())
        return json.loads(lines[0]) if lines else None

    stop = asyncio.Event()
    serving = asyncio.create_task(serve(settings(tmp_path, bot_address, venue), stop=stop))
    first = await until(announced, timeout=10, what="the egress's URL")
    stop.set()
    await asyncio.wait_for(serving, 10)
    assert not _alive(int(first["pid"]))

    lines.clear()
    serving = asyncio.create_task(
        serve(settings(tmp_path, bot_address, venue), stop=asyncio.Event())
    )
    second = await until(announced, timeout=10, what="the egress's URL")
    os.kill(int(second["pid"]), signal.SIGKILL)
    with pytest.raises(EgressError, match="tinyproxy exited"):
        await asyncio.wait_for(serving, 10)
