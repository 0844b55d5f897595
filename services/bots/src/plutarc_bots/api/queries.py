"""Reads of the bots context's tables for the routes: rows to bodies, pages by cursor, the bot
version in force at an instant, the limits in force."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import msgspec
from plutarc_api.problems import Problem
from plutarc_api.runtime import ApiRuntime
from plutarc_contracts import bots as b
from plutarc_runtime.readmodels import aware
from sqlalchemy import select

from .models import bot_versions, bots, strategies, strategy_versions, workspace_risk
from .schemas import (
    BotConfig,
    BotDetailOut,
    BotOut,
    BotVersionOut,
    OriginOut,
    RiskLimits,
    StrategyDetailOut,
    StrategyOut,
    StrategySpec,
    StrategyVersionOut,
    WindowOut,
)


def strategy_out(row: Any) -> StrategyOut:
    return StrategyOut(
        strategy_id=row.strategy_id,
        workspace_id=row.workspace_id,
        name=row.name,
        description=row.description,
        latest_version=row.latest_version,
        deleted=row.deleted,
        created_by=row.created_by,
        copied_from=OriginOut(**row.copied_from) if row.copied_from else None,
        created_at=aware(row.created_at),
        updated_at=aware(row.updated_at),
    )


def version_out(row: Any) -> StrategyVersionOut:
    return StrategyVersionOut(
        strategy_id=row.strategy_id,
        version=row.version,
        spec=StrategySpec(**row.spec),
        published_by=row.published_by,
        note=row.note,
        published_at=aware(row.published_at),
    )


def bot_out(row: Any) -> BotOut:
    starts = aware(row.window_starts_at)
    return BotOut(
        bot_id=row.bot_id,
        workspace_id=row.workspace_id,
        name=row.name,
        version=row.version,
        mode=row.mode,
        state=row.state,
        config=BotConfig(**row.config),
        window=WindowOut(starts_at=starts, ends_at=aware(row.window_ends_at)) if starts else None,
        created_at=aware(row.created_at),
        updated_at=aware(row.updated_at),
    )


def bot_version_out(row: Any) -> BotVersionOut:
    return BotVersionOut(
        bot_id=row.bot_id,
        version=row.version,
        config=BotConfig(**row.config),
        mode=row.mode,
        change=row.change,
        changed=list(row.changed),
        actor=row.actor,
        at=aware(row.at),
    )


# -- single rows ------------------------------------------------------------------------------------
async def strategy_row(rt: ApiRuntime, workspace_id: str, strategy_id: str) -> Any:
    row = await rt.reader.one(select(strategies).where(strategies.c.strategy_id == strategy_id))
    if row is None or row.workspace_id != workspace_id:
        raise Problem(404, "bots.strategy_not_found", f"no strategy {strategy_id} here")
    return row


async def strategy_detail(rt: ApiRuntime, workspace_id: str, strategy_id: str) -> StrategyDetailOut:
    row = await strategy_row(rt, workspace_id, strategy_id)
    latest = await version(rt, workspace_id, strategy_id, row.latest_version)
    return StrategyDetailOut(**strategy_out(row).model_dump(), spec=latest.spec)


async def version(
    rt: ApiRuntime, workspace_id: str, strategy_id: str, number: int
) -> StrategyVersionOut:
    v = strategy_versions.c
    row = await rt.reader.one(
        select(strategy_versions).where(v.strategy_id == strategy_id, v.version == number)
    )
    if row is None or row.workspace_id != workspace_id:
        raise Problem(
            404,
            "bots.strategy_version_not_found",
            f"strategy {strategy_id} has no version {number} here",
        )
    return version_out(row)


async def bot_row(rt: ApiRuntime, workspace_id: str, bot_id: str) -> Any:
    row = await rt.reader.one(select(bots).where(bots.c.bot_id == bot_id))
    if row is None or row.deleted or row.workspace_id != workspace_id:
        raise Problem(404, "bots.bot_not_found", f"no bot {bot_id} here")
    return row


async def bot_detail(rt: ApiRuntime, workspace_id: str, bot_id: str) -> BotDetailOut:
    row = await bot_row(rt, workspace_id, bot_id)
    found = await rt.reader.one(
        select(workspace_risk.c.risk).where(workspace_risk.c.workspace_id == workspace_id)
    )
    workspace = msgspec.convert(found.risk if found else {}, b.RiskLimits)
    own = msgspec.convert(row.config.get("risk", {}), b.RiskLimits)
    in_force = b.effective_limits(own, workspace)
    return BotDetailOut(
        **bot_out(row).model_dump(),
        limits_in_force=RiskLimits(**msgspec.to_builtins(in_force)),
        workspace_limits=RiskLimits(**msgspec.to_builtins(workspace)),
    )


async def version_at(rt: ApiRuntime, workspace_id: str, bot_id: str, at: datetime) -> BotVersionOut:
    """The bot version in force at `at`: the last one made at or before it."""
    await bot_row(rt, workspace_id, bot_id)
    v = bot_versions.c
    row = await rt.reader.one(
        select(bot_versions)
        .where(v.bot_id == bot_id, v.at <= at.astimezone(UTC))
        .order_by(v.at.desc(), v.version.desc())
        .limit(1)
    )
    if row is None:
        raise Problem(404, "bots.bot_not_found", f"bot {bot_id} did not exist at {at.isoformat()}")
    return bot_version_out(row)
