"""The bots service's command handlers, one function per command, found by class in `HANDLERS`.

Members act through the one authorizer (`ctx.require`, over the service's projection of identity's
memberships). A strategy or bot of another workspace looks like none at all. Going live takes
`trading:live` and `confirm_live`; so does reconfiguring a bot that trades live.
"""

from __future__ import annotations

from plutarc_contracts import bots as b
from plutarc_runtime.handling import Accepted, Context, Handler

from . import rules
from .domain import Bot, Strategy, errors, parse_id
from .strategy import compile as compile_strategy
from .views import Library, Workspaces

SERVICE = b.BOTS


# -- lookups --------------------------------------------------------------------------------------
def _strategy(ctx: Context, workspace_id: str, strategy_id: str, field: str) -> Strategy:
    found = ctx.store.find(Strategy, parse_id(strategy_id, field))
    if found is None or found.workspace_id != workspace_id:
        raise errors.StrategyNotFound(
            f"no strategy {strategy_id} in workspace {workspace_id}", field=field
        )
    return found


def _bot(ctx: Context, workspace_id: str, bot_id: str) -> Bot:
    found = ctx.store.find(Bot, parse_id(bot_id, "bot_id"))
    if found is None or found.deleted or found.workspace_id != workspace_id:
        raise errors.BotNotFound(f"no bot {bot_id} in workspace {workspace_id}", field="bot_id")
    return found


class _Handlers:
    """Handlers that read the identity projection (`Workspaces`) the service replays."""

    def __init__(self, workspaces: Workspaces) -> None:
        self.workspaces = workspaces

    def _active(self, workspace_id: str) -> None:
        if self.workspaces.archived(workspace_id):
            raise errors.WorkspaceArchived(f"workspace {workspace_id} is archived")

    def _check_bot(self, ctx: Context, workspace_id: str, config: b.BotConfig, mode: str) -> None:
        pinned = config.strategy
        strategy = _strategy(ctx, workspace_id, pinned.strategy_id, "config.strategy.strategy_id")
        strategy.check_usable()
        try:
            strategy.spec(pinned.version)
        except errors.StrategyVersionNotFound as exc:
            exc.field = "config.strategy.version"
            raise
        rules.check_config(config, mode, self.workspaces.risk(workspace_id))

    # -- strategies --------------------------------------------------------------------------------
    def create_strategy(self, p: b.CreateStrategy, ctx: Context) -> Accepted:
        ctx.require(p.workspace_id, "strategies:create")
        self._active(p.workspace_id)
        strategy_id = parse_id(p.strategy_id, "strategy_id")
        if ctx.store.find(Strategy, strategy_id) is not None:
            raise errors.StrategyExists(f"strategy {p.strategy_id} exists")
        compile_strategy(p.spec)  # errors name their field under `spec`
        strategy = Strategy.create(
            workspace_id=p.workspace_id,
            strategy_id=strategy_id,
            name=p.name,
            description=p.description,
            spec=p.spec,
            created_by=ctx.user_id,
            at=ctx.now,
        )
        return Accepted([strategy], {"strategy_id": p.strategy_id, "version": 1})

    def publish_strategy_version(self, p: b.PublishStrategyVersion, ctx: Context) -> Accepted:
        ctx.require(p.workspace_id, "strategies:update")
        self._active(p.workspace_id)
        strategy = _strategy(ctx, p.workspace_id, p.strategy_id, "strategy_id")
        compile_strategy(p.spec)  # errors name their field under `spec`
        version = strategy.publish(
            p.spec, by=ctx.user_id, note=p.note, expected_version=p.expected_version, at=ctx.now
        )
        return Accepted([strategy], {"strategy_id": p.strategy_id, "version": version})

    def delete_strategy(self, p: b.DeleteStrategy, ctx: Context) -> Accepted:
        ctx.require(p.workspace_id, "strategies:delete")
        strategy = _strategy(ctx, p.workspace_id, p.strategy_id, "strategy_id")
        pinned = ctx.model(Library).pinned_by(p.strategy_id)
        if pinned:
            raise errors.StrategyInUse(
                f"strategy {p.strategy_id} is pinned by {len(pinned)} bot(s), such as "
                f"{sorted(pinned)[0]}: move or delete them first"
            )
        strategy.delete(ctx.now)
        return Accepted([strategy])

    def copy_strategy(self, p: b.CopyStrategy, ctx: Context) -> Accepted:
        """Only someone allowed in both workspaces copies: `strategies:read` in the source and
        `strategies:create` here. The copy is a new strategy whose version 1 is the source's
        version, and it remembers where it came from."""
        ctx.require(p.source_workspace_id, "strategies:read")
        ctx.require(p.workspace_id, "strategies:create")
        self._active(p.workspace_id)
        source = _strategy(ctx, p.source_workspace_id, p.source_strategy_id, "source_strategy_id")
        try:
            spec = source.spec(p.source_version)
        except errors.StrategyVersionNotFound as exc:
            exc.field = "source_version"
            raise
        strategy_id = parse_id(p.strategy_id, "strategy_id")
        if ctx.store.find(Strategy, strategy_id) is not None:
            raise errors.StrategyExists(f"strategy {p.strategy_id} exists")
        version = p.source_version or source.latest
        copy = Strategy.create(
            workspace_id=p.workspace_id,
            strategy_id=strategy_id,
            name=p.name or source.name,
            description=source.description,
            spec=spec,
            created_by=ctx.user_id,
            at=ctx.now,
            copied_from=b.StrategyOrigin(
                workspace_id=p.source_workspace_id,
                strategy_id=p.source_strategy_id,
                version=version,
            ),
        )
        return Accepted([copy], {"strategy_id": p.strategy_id, "version": 1})

    # -- bots ----------------------------------------------------------------------------------------
    def create_bot(self, p: b.CreateBot, ctx: Context) -> Accepted:
        ctx.require(p.workspace_id, "bots:create")
        if p.mode != "paper":
            ctx.require(p.workspace_id, "trading:paper")
        self._active(p.workspace_id)
        bot_id = parse_id(p.bot_id, "bot_id")
        if ctx.store.find(Bot, bot_id) is not None:
            raise errors.BotExists(f"bot {p.bot_id} exists")
        self._check_bot(ctx, p.workspace_id, p.config, p.mode)
        bot = Bot.create(
            workspace_id=p.workspace_id, bot_id=bot_id, config=p.config, mode=p.mode, at=ctx.now
        )
        return Accepted([bot], {"bot_id": p.bot_id, "version": 1})

    def reconfigure_bot(self, p: b.ReconfigureBot, ctx: Context) -> Accepted:
        ctx.require(p.workspace_id, "bots:update")
        bot = _bot(ctx, p.workspace_id, p.bot_id)
        if bot.mode == "live":
            ctx.require(p.workspace_id, "trading:live")
        self._active(p.workspace_id)
        self._check_bot(ctx, p.workspace_id, p.config, bot.mode)
        bot.reconfigure(p.config, p.expected_version, ctx.now)
        return Accepted([bot], {"bot_id": p.bot_id, "version": bot.config_version})

    def change_bot_mode(self, p: b.ChangeBotMode, ctx: Context) -> Accepted:
        if p.mode == "live":
            ctx.require(p.workspace_id, "trading:live")
            if not p.confirm_live:
                raise errors.LiveNotConfirmed(
                    "switching to live trades real capital: send `confirm_live: true`",
                    field="confirm_live",
                )
        else:
            ctx.require(p.workspace_id, "trading:paper")
        bot = _bot(ctx, p.workspace_id, p.bot_id)
        self._active(p.workspace_id)
        rules.check_connection(bot.config, p.mode)
        bot.change_mode(p.mode, p.expected_version, ctx.now)
        return Accepted([bot], {"bot_id": p.bot_id, "version": bot.config_version})

    def start_bot(self, p: b.StartBot, ctx: Context) -> Accepted:
        ctx.require(p.workspace_id, "bots:start_stop")
        bot = _bot(ctx, p.workspace_id, p.bot_id)
        self._active(p.workspace_id)
        bot.start(ctx.now)
        return Accepted([bot], {"bot_id": p.bot_id, "version": bot.config_version})

    def stop_bot(self, p: b.StopBot, ctx: Context) -> Accepted:
        ctx.require(p.workspace_id, "bots:start_stop")
        bot = _bot(ctx, p.workspace_id, p.bot_id)
        bot.stop(ctx.now, "requested")
        return Accepted([bot], {"bot_id": p.bot_id, "version": bot.config_version})

    def delete_bot(self, p: b.DeleteBot, ctx: Context) -> Accepted:
        ctx.require(p.workspace_id, "bots:delete")
        bot = _bot(ctx, p.workspace_id, p.bot_id)
        bot.delete(ctx.now)
        return Accepted([bot])

    # -- the service's own timers ----------------------------------------------------------------
    def schedule_trading_windows(self, p: b.ScheduleTradingWindows, ctx: Context) -> Accepted:
        ctx.require_system(SERVICE)
        changed = []
        for window in p.windows:
            bot = ctx.store.find(Bot, parse_id(window.bot_id, "bot_id"))
            if bot is not None and bot.schedule(window, ctx.now):
                changed.append(bot)
        return Accepted(changed, {"published": len(changed)})

    def stop_archived_bots(self, p: b.StopArchivedBots, ctx: Context) -> Accepted:
        ctx.require_system(SERVICE)
        stopped = []
        for bot_id in p.bot_ids:
            bot = ctx.store.find(Bot, parse_id(bot_id, "bot_ids"))
            if bot is not None and bot.state == "running" and bot.workspace_id == p.workspace_id:
                bot.stop(ctx.now, "workspace_archived")
                stopped.append(bot)
        return Accepted(stopped, {"stopped": len(stopped)})


def handlers(workspaces: Workspaces) -> dict[type, Handler]:
    h = _Handlers(workspaces)
    return {
        b.CreateStrategy: h.create_strategy,
        b.PublishStrategyVersion: h.publish_strategy_version,
        b.DeleteStrategy: h.delete_strategy,
        b.CopyStrategy: h.copy_strategy,
        b.CreateBot: h.create_bot,
        b.ReconfigureBot: h.reconfigure_bot,
        b.ChangeBotMode: h.change_bot_mode,
        b.StartBot: h.start_bot,
        b.StopBot: h.stop_bot,
        b.DeleteBot: h.delete_bot,
        b.ScheduleTradingWindows: h.schedule_trading_windows,
        b.StopArchivedBots: h.stop_archived_bots,
    }
