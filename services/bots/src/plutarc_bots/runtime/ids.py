"""Command ids a restarted runtime derives again: the same decision always has the same id.

An intent's id is a UUIDv5 of the bot, the configuration version in force, the candle's open time
and the intent's index among that candle's intents; a command the runtime issues on its own (the
cancel and the closing order of a flatten, the cancel after a reconfiguration) is keyed by what
caused it and when. The gateway's command path is idempotent by command id, so a decision sent
twice (two runtimes, or a crash between sending and knowing it was sent) places one order.
"""

from __future__ import annotations

from datetime import datetime
from uuid import NAMESPACE_URL, uuid5

RUNTIME_NS = uuid5(NAMESPACE_URL, "https://plutarc.dev/ns/bot-runtime-command")


def intent_command_id(bot_id: str, version: int, candle_time: int, index: int) -> str:
    """The place_order command of intent ``index`` decided at the close of the candle opened at
    ``candle_time`` (ms since the epoch), under configuration ``version``."""
    return str(uuid5(RUNTIME_NS, f"intent\x1f{bot_id}\x1f{version}\x1f{candle_time}\x1f{index}"))


def own_command_id(bot_id: str, version: int, what: str, at: datetime) -> str:
    """A command the runtime issues on its own: ``what`` (``flatten-cancel``, ``flatten-close``,
    ``reconfigured-cancel``) caused at instant ``at``."""
    return str(uuid5(RUNTIME_NS, f"{what}\x1f{bot_id}\x1f{version}\x1f{at.isoformat()}"))


def actor_of(bot_id: str) -> str:
    """The actor the runtime's commands carry: the bot itself."""
    return f"bot:{bot_id}"
