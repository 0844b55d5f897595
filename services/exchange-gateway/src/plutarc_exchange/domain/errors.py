"""The exchange gateway's domain errors. Each code is stable: it travels in rejection replies and
HTTP problems; each base class (NotFound, Forbidden, Conflict, Invalid) is the rejection's kind.

Risk and market-rule refusals of an order are not errors of the command: the order is recorded as
``exchange.order_rejected`` with its code (`RISK_CODES`), so its outcome is on the orders topic."""

from __future__ import annotations

from plutarc_runtime.domain import Conflict, Forbidden, Invalid, NotFound


class InvalidInput(Invalid):
    code = "exchange.invalid_input"


class BotNotFound(NotFound):
    """No such bot in this workspace (as the bots service's events tell)."""

    code = "exchange.bot_not_found"


class ConnectionNotFound(NotFound):
    code = "exchange.connection_not_found"


class ConnectionExists(Conflict):
    code = "exchange.connection_exists"


class OrderNotFound(NotFound):
    code = "exchange.order_not_found"


class OrderNotOpen(Conflict):
    code = "exchange.order_not_open"


class WorkspaceArchived(Conflict):
    code = "exchange.workspace_archived"


class UnknownSealingKey(Invalid):
    """Sealed to a key the gateway does not hold (rotated, or another deployment's)."""

    code = "exchange.unknown_sealing_key"


class SealedCredentialsInvalid(Invalid):
    """The sealed box does not open, or what it holds is not the venue's keys."""

    code = "exchange.credentials_invalid"


class NoTestnet(Invalid):
    """The venue has no testnet for this market: paper trading works on every venue."""

    code = "exchange.no_testnet"


class NotThisBot(Forbidden):
    """A bot's host acts for its own bot only."""

    code = "exchange.not_this_bot"


RISK_CODES = {
    "max_order_notional": "risk.max_order_notional",
    "max_position": "risk.max_position",
    "max_open_orders": "risk.max_open_orders",
    "daily_loss_limit": "risk.entries_halted",
}
"""The order-rejection code of each limit (a breached daily loss halts new entries)."""
