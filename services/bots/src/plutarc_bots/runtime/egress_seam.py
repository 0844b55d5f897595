"""The seam where `plutarc bot run` starts the bot's venue egress proxy beside the runtime.

A bot in testnet or live mode has its venue traffic leave from its own host: the gateway's ccxt
client for that bot goes through the egress proxy the host runs (`plutarc_bots.egress`). The
runtime does not need the proxy itself; the command line keeps one running while the bot's mode is
testnet or live, and stops it when the bot goes back to paper.
"""

from __future__ import annotations

import importlib
import logging
from collections.abc import Callable
from contextlib import AbstractAsyncContextManager, AsyncExitStack
from typing import Any

from plutarc_contracts.bots import Mode

log = logging.getLogger(__name__)
EgressFactory = Callable[[], AbstractAsyncContextManager[Any]]
VENUE_MODES = frozenset({"testnet", "live"})


def default_egress(settings: Any) -> EgressFactory | None:
    """``Egress(settings)`` from `plutarc_bots.egress`, or None where that module is not
    installed."""
    try:
        module = importlib.import_module("plutarc_bots.egress")
    except ImportError:
        return None
    egress = module.Egress
    return lambda: egress(settings)


class EgressSwitch:
    """Called with the bot's mode (`BotRuntime`'s ``on_mode``): the proxy runs while the mode
    is testnet or live. Without a factory it says once that venue orders will be refused."""

    def __init__(self, factory: EgressFactory | None) -> None:
        self.factory = factory
        self.running: Any = None
        self._stack: AsyncExitStack | None = None
        self._warned = False

    async def __call__(self, mode: Mode | None) -> None:
        wanted = mode in VENUE_MODES
        if wanted and self._stack is None:
            if self.factory is None:
                if not self._warned:
                    self._warned = True
                    log.warning(
                        "no egress proxy (plutarc_bots.egress is not installed): the gateway "
                        "will refuse this bot's testnet and live orders",
                        extra={"mode": mode},
                    )
                return
            stack = AsyncExitStack()
            self.running = await stack.enter_async_context(self.factory())
            self._stack = stack
            log.info("egress proxy started", extra={"mode": mode})
        elif not wanted and self._stack is not None:
            await self.aclose()
            log.info("egress proxy stopped", extra={"mode": mode})

    async def aclose(self) -> None:
        stack, self._stack, self.running = self._stack, None, None
        if stack is not None:
            await stack.aclose()
