"""The seam where the runtime keeps the bot's venue egress proxy running beside it.

A bot in testnet or live mode has its venue traffic leave from its own host: the gateway's ccxt
client for that bot goes through the egress proxy the host runs (`plutarc_bots.egress`), bound to
the bot's address. The runtime does not use the proxy itself; it starts one when the bot's mode
becomes testnet or live, tells the gateway where it is (`exchange.attach_egress`), and stops it and
says so (`exchange.detach_egress`) when the bot goes back to paper or the run ends.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from contextlib import AbstractAsyncContextManager, AsyncExitStack
from pathlib import Path
from typing import Any, Literal

from plutarc_contracts.bots import Mode

from ..egress import Egress, EgressSettings

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
