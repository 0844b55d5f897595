"""X-Forwarded-For is believed only from the proxies PLUTARC_TRUSTED_PROXIES names, none by
default: otherwise any local client (uvicorn trusts 127.0.0.1 by itself) picks the address its
rate limit is counted under. Served by uvicorn as main.py serves it (`proxy_options`), over TCP
from 127.0.0.1."""

from __future__ import annotations

import asyncio
import contextlib
import socket
from collections.abc import AsyncIterator, Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
import uvicorn
from plutarc_api.main import proxy_options
from plutarc_api.settings import ApiSettings
from plutarc_testkit.waiting import until
from pydantic import ValidationError

from .conftest import warm_app

# One request per address, and (nearly) no refill while the test runs.
ONE_EACH = {"ip_rate": 0.0001, "ip_burst": 1}


class _QuietServer(uvicorn.Server):
    @contextlib.contextmanager
    def capture_signals(self) -> Iterator[None]:
        yield


@contextlib.asynccontextmanager
async def serving(tmp_path: Path, **overrides: Any) -> AsyncIterator[httpx.AsyncClient]:
    settings = ApiSettings(data_dir=tmp_path, **overrides)
    app = warm_app(tmp_path, **overrides)
    config = uvicorn.Config(
        app, lifespan="off", log_config=None, access_log=False, **proxy_options(settings)
    )
    server = _QuietServer(config)
    sock = socket.socket()
    sock.bind(("127.0.0.1", 0))
    task = asyncio.create_task(server.serve(sockets=[sock]))
    try:
        await until(lambda: server.started or task.done(), what="API listening")
        base = f"http://127.0.0.1:{sock.getsockname()[1]}"
        async with httpx.AsyncClient(base_url=base, timeout=10) as http:
            yield http
    finally:
        server.should_exit = True
        await asyncio.wait_for(task, 10)
        sock.close()


async def status(http: httpx.AsyncClient, forwarded_for: str | None) -> int:
    """401 once past the address's rate limit (no token), 429 when its bucket is empty."""
    headers = {"X-Forwarded-For": forwarded_for} if forwarded_for else {}
    return (await http.get("/v1/me", headers=headers)).status_code


async def test_by_default_a_forwarded_for_from_loopback_is_not_believed(tmp_path: Path) -> None:
    async with serving(tmp_path, **ONE_EACH) as http:
        assert await status(http, "1.2.3.4") == 401  # counted under 127.0.0.1...
        assert await status(http, None) == 429  # ...so 127.0.0.1 has nothing left
        assert await status(http, "5.6.7.8") == 429


async def test_a_trusted_proxy_forwards_the_client_address(tmp_path: Path) -> None:
    async with serving(tmp_path, trusted_proxies=["127.0.0.1"], **ONE_EACH) as http:
        assert await status(http, "1.2.3.4") == 401  # counted under 1.2.3.4
        assert await status(http, None) == 401  # 127.0.0.1 still has its own
        assert await status(http, "1.2.3.4") == 429
        assert await status(http, "5.6.7.8") == 401


def test_trusted_proxies_are_comma_separated_addresses_or_networks(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.delenv("PLUTARC_TRUSTED_PROXIES", raising=False)
    assert ApiSettings().trusted_proxies == []
    monkeypatch.setenv("PLUTARC_TRUSTED_PROXIES", " 127.0.0.1, 10.0.0.0/8,::1 ")
    assert ApiSettings().trusted_proxies == ["127.0.0.1", "10.0.0.0/8", "::1"]
    monkeypatch.setenv("PLUTARC_TRUSTED_PROXIES", "10.0.0.1,*")
    with pytest.raises(ValidationError, match="trusted_proxies"):
        ApiSettings()
