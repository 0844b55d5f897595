"""`plutarc-market-data`: publish market data (the simulator by default) for PLUTARC_MARKETS."""

from __future__ import annotations

import asyncio
import signal
import sys

from plutarc_runtime.logs import configure_logging
from pydantic import ValidationError

from .feed import run_feed
from .settings import MarketDataSettings


def main(argv: list[str] | None = None) -> None:
    sys.exit(run(argv))


def run(argv: list[str] | None = None) -> int:
    try:
        settings = MarketDataSettings()
    except ValidationError as exc:
        lines = [
            f"  {'.'.join(map(str, e['loc'])) or 'settings'}: {e['msg']}" for e in exc.errors()
        ]
        print("plutarc-market-data: bad settings\n" + "\n".join(lines), file=sys.stderr)
        return 2
    configure_logging("market-data", settings.log_level, settings.log_json)

    async def feed() -> None:
        stop = asyncio.Event()
        loop = asyncio.get_running_loop()
        for sig in (signal.SIGINT, signal.SIGTERM):
            loop.add_signal_handler(sig, stop.set)
        await run_feed(settings, stop)

    asyncio.run(feed())
    return 0


if __name__ == "__main__":
    main()
