"""The bot runtime: a process that runs one bot (docs/bot-runtime.md).

It reads the bot's configuration versions and the strategy versions from ``bots.events.v1``,
candles from ``market.candles.v1``, its orders and position from ``exchange.orders.v1``;
evaluates the strategy on each closed candle and sends order commands to the exchange gateway on
``exchange.commands.v1`` as the bot (``bot:<bot_id>``), with ids a restart derives again.
"""

from .decider import Decider, Outgoing, amount, market_key
from .egress_seam import EgressSwitch, HostEgress, check_egress_url, default_egress, host_egress
from .errors import (
    BotNotFound,
    BotNotRunning,
    EgressUnreachable,
    InvalidBotId,
    InvalidEgressUrl,
    KafkaUnreachable,
    RuntimeFailure,
)
from .ids import actor_of, intent_command_id, own_command_id
from .runner import BotRuntime, Outcome, RuntimeSettings, check_bot_id

__all__ = [
    "BotNotFound",
    "BotNotRunning",
    "BotRuntime",
    "Decider",
    "EgressSwitch",
    "EgressUnreachable",
    "HostEgress",
    "InvalidBotId",
    "InvalidEgressUrl",
    "KafkaUnreachable",
    "Outcome",
    "Outgoing",
    "RuntimeFailure",
    "RuntimeSettings",
    "actor_of",
    "amount",
    "check_bot_id",
    "check_egress_url",
    "default_egress",
    "host_egress",
    "intent_command_id",
    "market_key",
    "own_command_id",
]
