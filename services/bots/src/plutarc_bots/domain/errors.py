"""The bots service's domain errors. Each code is stable: it travels in rejection replies and HTTP
problems; each base class (NotFound, Forbidden, Conflict, Invalid) is the rejection's kind."""

from __future__ import annotations

from plutarc_runtime.domain import Conflict, Forbidden, Invalid, NotFound


# -- strategies and bots --------------------------------------------------------------------------
class InvalidInput(Invalid):
    code = "bots.invalid_input"


class StrategyNotFound(NotFound):
    """No such strategy in this workspace (another workspace's strategy looks like none at all)."""

    code = "bots.strategy_not_found"


class StrategyVersionNotFound(NotFound):
    code = "bots.strategy_version_not_found"


class StrategyExists(Conflict):
    code = "bots.strategy_exists"


class StrategyDeleted(Conflict):
    """A deleted strategy takes no new version and no new bot; its versions stay readable."""

    code = "bots.strategy_deleted"


class StrategyInUse(Conflict):
    """A strategy some bot still pins cannot be deleted."""

    code = "bots.strategy_in_use"


class StrategyUnchanged(Conflict):
    """A new version identical to the latest one."""

    code = "bots.strategy_unchanged"


class VersionMismatch(Conflict):
    """`expected_version` is not the latest version (someone changed it first)."""

    code = "bots.version_mismatch"


class BotNotFound(NotFound):
    code = "bots.bot_not_found"


class BotExists(Conflict):
    code = "bots.bot_exists"


class ConfigUnchanged(Conflict):
    code = "bots.config_unchanged"


class ModeUnchanged(Conflict):
    code = "bots.mode_unchanged"


class AlreadyRunning(Conflict):
    code = "bots.already_running"


class AlreadyStopped(Conflict):
    code = "bots.already_stopped"


class BotRunning(Conflict):
    """A running bot is stopped before it is deleted."""

    code = "bots.bot_running"


class WorkspaceArchived(Conflict):
    code = "bots.workspace_archived"


class LiveNotConfirmed(Invalid):
    """Switching to live needs `confirm_live: true` beside the `trading:live` permission."""

    code = "bots.live_not_confirmed"


class LiveAtCreation(Forbidden):
    code = "bots.live_at_creation"


class ConnectionRequired(Invalid):
    """Testnet and live trade through a venue connection; paper needs none."""

    code = "bots.connection_required"


class InvalidMarket(Invalid):
    code = "bots.invalid_market"


class LimitExceedsWorkspace(Invalid):
    """A bot's risk limit above its workspace's."""

    code = "bots.limit_exceeds_workspace"


# -- strategy specs (plutarc_bots.strategy.compile) ----------------------------------------------
class UnknownComponent(Invalid):
    """A strategy names a component the library does not have (field:
    ``spec.components[i].component``)."""

    code = "bots.unknown_component"


class InvalidComponentConfig(Invalid):
    """A component's parameters do not fit its typed configuration: a wrong type, a missing or
    unknown field, a value out of range, or a rule between its own fields (a crossover's ``fast``
    not below ``slow``). The field points inside the parameters:
    ``spec.components[0].params.fast``."""

    code = "bots.invalid_component_config"


class InvalidStrategy(Invalid):
    """The components do not make a strategy: not exactly one position sizer, or nothing that
    opens a position (field: ``spec.components``)."""

    code = "bots.invalid_strategy"


# -- trading sessions (plutarc_bots.sessions.validate) ---------------------------------------------
class UnknownTimeZone(Invalid):
    """Not a zone of the IANA database as ``zoneinfo`` knows it (``localtime``, ``Factory`` and
    file paths are refused too)."""

    code = "bots.unknown_time_zone"


class WindowEndsBeforeStart(Invalid):
    """A window's end at or before its start, without ``overnight``."""

    code = "bots.window_ends_before_start"


class WindowNotOvernight(Invalid):
    """``overnight`` on a window whose end is after its start: the same day or the next one?"""

    code = "bots.window_not_overnight"


class WindowsOverlap(Invalid):
    """Two windows (or one window listing a day twice) share some local wall time on some day."""

    code = "bots.windows_overlap"


class NoWindows(Invalid):
    """Not ``always_on`` and no window: the bot could never trade."""

    code = "bots.no_windows"


class WindowsWithAlwaysOn(Invalid):
    """``always_on`` with windows: one of the two is a mistake."""

    code = "bots.windows_with_always_on"
