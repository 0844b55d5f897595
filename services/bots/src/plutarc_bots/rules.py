"""The rules a bot's configuration and a strategy's spec must meet, with the field to blame.

The session calendar (`plutarc_bots.sessions`) judges a bot's trading sessions (a strategy's spec
is judged by compiling it, `plutarc_bots.strategy.compile`); this module adds the bot's own rules
and names each error's field as the command carries it (`config.sessions.windows[1].end`).
"""

from __future__ import annotations

from plutarc_contracts import bots as b
from plutarc_contracts import identity as c

from . import sessions
from .domain import errors


def check_market(market: b.MarketRef) -> None:
    settled = ":" in market.symbol
    if market.kind == "perpetual" and not settled:
        raise errors.InvalidMarket(
            f"a perpetual's symbol names its settlement currency: {market.symbol}:<SETTLE>",
            field="config.market.symbol",
        )
    if market.kind == "spot" and settled:
        raise errors.InvalidMarket(
            f"{market.symbol} is a derivative's symbol; spot symbols are BASE/QUOTE",
            field="config.market.symbol",
        )


def check_connection(config: b.BotConfig, mode: str) -> None:
    if mode != "paper" and config.connection_id is None:
        raise errors.ConnectionRequired(
            f"{mode} trading goes through a venue connection: set `connection_id` (paper needs "
            "none)",
            field="config.connection_id",
        )


def check_limits(risk: b.RiskLimits, workspace_risk: c.RiskDefaults) -> None:
    above = b.limits_above(risk, workspace_risk)
    if above:
        name = above[0]
        raise errors.LimitExceedsWorkspace(
            f"{name} {getattr(risk, name)} is above the workspace's "
            f"{getattr(workspace_risk, name)}",
            field=f"config.risk.{name}",
        )


def check_config(config: b.BotConfig, mode: str, workspace_risk: c.RiskDefaults) -> None:
    check_market(config.market)
    sessions.validate(config.sessions, field="config.sessions")
    check_limits(config.risk, workspace_risk)
    check_connection(config, mode)
