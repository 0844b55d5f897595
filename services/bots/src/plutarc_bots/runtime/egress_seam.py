"""The seam where the runtime keeps the bot's venue egress proxy running beside it.

A bot in testnet or live mode has its venue traffic leave from its own host: the gateway's ccxt
client for that bot goes through the egress proxy the host runs (`plutarc_bots.egress`), bound to
the bot's address. The runtime does not use the proxy itself; it starts one when the bot's mode
becomes testnet or live, tells the gateway where it is (`exchange.attach_egress`), and stops it and
says so (`exchange.detach_egress`) when the bot goes back to paper or the run ends.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable
from contextlib import AbstractAsyncContextManager, AsyncExitStack
from pathlib import Path
from typing import Any, Literal
from urllib.parse import urlsplit

from plutarc_contracts.bots import Mode

from ..egress import Egress, EgressSettings
from .errors import EgressUnreachable, InvalidEgressUrl

log = logging.getLogger(__name__)
EgressFactory = Callable[[], AbstractAsyncContextManager[Any]]
"""Makes the proxy: entering it starts the proxy and gives an object with its ``url``."""
VENUE_MODES = frozenset({"testnet", "live"})


def default_egress(
    bind: str, runtime_dir: Path, connect_ports: tuple[int, ...] = (443,)
) -> EgressFactory:
    """`plutarc_bots.egress.Egress` (tinyproxy) bound to ``bind``, the bot's address."""
    settings = EgressSettings(bind=bind, runtime_dir=runtime_dir, connect_ports=connect_ports)
    return lambda: Egress(settings)


def check_egress_url(url: str) -> str:
    """``url`` if it is ``http://HOST:PORT`` (what ccxt's proxy settings take), else
    `InvalidEgressUrl`."""
    try:
        parts = urlsplit(url)
        port = parts.port
    except ValueError as exc:
        raise InvalidEgressUrl(f"not a proxy URL: {url!r} ({exc})") from None
    if parts.scheme != "http" or not parts.hostname or port is None:
        raise InvalidEgressUrl(f"not a proxy URL: {url!r}: it is http://HOST:PORT")
    if parts.username or parts.password or parts.path not in ("", "/") or parts.query:
        raise InvalidEgressUrl(f"not a proxy URL: {url!r}: only http://HOST:PORT")
    return url.rstrip("/")


class HostEgress:
    """A proxy the host runs on its own (on an AWS host, the ``plutarc-egress`` unit listening on
    the instance's address, where the gateway reaches it). Entering waits until it accepts a
    connection, up to ``wait_seconds`` (the unit may still be starting), and gives its ``url``;
    leaving stops nothing: the proxy is the host's."""

    def __init__(self, url: str, *, wait_seconds: float = 15.0) -> None:
        self.url = check_egress_url(url)
        self.wait_seconds = wait_seconds
        parts = urlsplit(self.url)
        self._where = (parts.hostname or "", parts.port or 0)

    async def __aenter__(self) -> HostEgress:
        loop = asyncio.get_running_loop()
        deadline = loop.time() + self.wait_seconds
        while True:
            try:
                _, writer = await asyncio.wait_for(asyncio.open_connection(*self._where), 2.0)
            except (OSError, TimeoutError) as exc:
                if loop.time() >= deadline:
                    raise EgressUnreachable(
                        f"the host's egress proxy at {self.url} accepts no connection: {exc!r}"
                    ) from None
                await asyncio.sleep(0.2)  # retrying a connection, not waiting on a test
                continue
            writer.close()
            await writer.wait_closed()
            return self

    async def __aexit__(self, *exc: object) -> None:
        return None


def host_egress(url: str, wait_seconds: float = 15.0) -> EgressFactory:
    """The host's own proxy at ``url`` (`HostEgress`); the URL is checked now."""
    check_egress_url(url)
    return lambda: HostEgress(url, wait_seconds=wait_seconds)


class EgressSwitch:
    """`follow` it with the bot's mode: the proxy runs while the mode is testnet or live.
    Without a factory it says once that the gateway will refuse venue orders."""

    def __init__(self, factory: EgressFactory | None, *, address: str = "127.0.0.1") -> None:
        self.factory = factory
        self.address = address
        """The bot's address, the one its venue traffic leaves from."""
        self.running: Any = None
        self._stack: AsyncExitStack | None = None
        self._warned = False
        self._failed: Mode | None = None
        """The mode the proxy failed to start in: not tried again until the mode changes."""

    @property
    def url(self) -> str:
        return str(self.running.url)

    async def follow(self, mode: Mode | None) -> Literal["attached", "detached"] | None:
        """Start or stop the proxy for ``mode``; what changed, if anything."""
        wanted = mode in VENUE_MODES
        if mode != self._failed:
            self._failed = None
        if wanted and self._stack is None:
            if self.factory is None:
                if not self._warned:
                    self._warned = True
                    log.warning(
                        "no egress proxy for this bot: the gateway "
                        "will refuse this bot's testnet and live orders",
                        extra={"mode": mode},
                    )
                return None
            if self._failed == mode:
                return None
            stack = AsyncExitStack()
            try:
                self.running = await stack.enter_async_context(self.factory())
            except Exception as exc:  # the proxy's own error, whatever it is: said, not fatal
                self._failed = mode
                log.error(
                    "the egress proxy did not start: the gateway will refuse this bot's "
                    "testnet and live orders",
                    extra={"mode": mode, "error": repr(exc)},
                )
                return None
            self._stack, self._failed = stack, None
            log.info("egress proxy started", extra={"mode": mode, "url": self.url})
            return "attached"
        if not wanted and self._stack is not None:
            await self.aclose()
            log.info("egress proxy stopped", extra={"mode": mode})
            return "detached"
        return None

    async def aclose(self) -> bool:
        """Stop the proxy; whether one was running."""
        stack, self._stack, self.running = self._stack, None, None
        if stack is None:
            return False
        await stack.aclose()
        return True
