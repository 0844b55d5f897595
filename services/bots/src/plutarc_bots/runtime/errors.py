"""Why a bot runtime could not start, each with a stable code (the CLI prints it)."""

from __future__ import annotations


class RuntimeFailure(Exception):
    code = "bot_runtime.failed"


class InvalidBotId(RuntimeFailure):
    code = "bots.invalid_id"


class BotNotFound(RuntimeFailure):
    code = "bots.bot_not_found"


class BotNotRunning(RuntimeFailure):
    """The bot is stopped (or deleted): there is nothing to run. Whatever its stop still owed (a
    flatten) has been sent."""

    code = "bots.not_running"


class KafkaUnreachable(RuntimeFailure):
    code = "bot_runtime.kafka_unreachable"


class InvalidEgressUrl(RuntimeFailure):
    """``--egress-url`` is not ``http://HOST:PORT``."""

    code = "bot_runtime.invalid_egress_url"


class EgressUnreachable(RuntimeFailure):
    """The host's own egress proxy did not accept a connection in time."""

    code = "bot_runtime.egress_unreachable"
