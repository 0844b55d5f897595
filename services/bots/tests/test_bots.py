"""Bots through the service: versions, modes and who may switch them, limits, deletion."""

from __future__ import annotations

from uuid import uuid4

import msgspec
import pytest
from plutarc_contracts import CommandAccepted
from plutarc_contracts import bots as b

from .conftest import ALICE, BOB, LONDON, MONA, TINA, Bots


def test_every_change_is_a_version_carrying_the_whole_configuration(bots: Bots) -> None:
    bot_id = bots.bot(actor=TINA)
    config = bots.events("bots.bot_created")[-1].payload.config
    renamed = msgspec.structs.replace(config, name="BTC trend 2", sessions=LONDON)
    reply = bots.ok(TINA, b.ReconfigureBot(workspace_id=bots.ws, bot_id=bot_id, config=renamed))
    assert reply.result["version"] == 2
    event = bots.of(bot_id)[-1].payload
    assert isinstance(event, b.BotReconfigured)
    assert event.config == renamed and event.changed == ["name", "sessions"]
    same = b.ReconfigureBot(workspace_id=bots.ws, bot_id=bot_id, config=renamed)
    bots.rejected(TINA, same, "bots.config_unchanged")
    stale = b.ReconfigureBot(workspace_id=bots.ws, bot_id=bot_id, config=config, expected_version=1)
    bots.rejected(TINA, stale, "bots.version_mismatch")


def test_switching_mode_changes_nothing_else(bots: Bots) -> None:
    bot_id = bots.bot()
    before = msgspec.json.encode(bots.events("bots.bot_created")[-1].payload.config)
    assert isinstance(bots.mode(ALICE, bot_id, "testnet"), CommandAccepted)
    assert isinstance(bots.mode(MONA, bot_id, "live", confirm_live=True), CommandAccepted)
    changes = [e.payload for e in bots.of(bot_id, "bots.bot_mode_changed")]
    assert [(p.previous_mode, p.mode, p.version) for p in changes] == [
        ("paper", "testnet", 2),
        ("testnet", "live", 3),
    ]
    assert all(msgspec.json.encode(p.config) == before for p in changes)
    live = bots.events("bots.bot_mode_changed")[-1]
    assert live.actor == MONA  # the audit log shows who did it


@pytest.mark.parametrize(
    ("actor", "confirm", "code"),
    [
        (BOB, True, "access.forbidden"),  # a viewer
        (TINA, True, "access.forbidden"),  # a trader: no trading:live
        (MONA, False, "bots.live_not_confirmed"),
    ],
)
def test_going_live_needs_the_permission_and_a_confirmation(
    bots: Bots, actor: str, confirm: bool, code: str
) -> None:
    bot_id = bots.bot()
    command = b.ChangeBotMode(
        workspace_id=bots.ws, bot_id=bot_id, mode="live", confirm_live=confirm
    )
    bots.rejected(actor, command, code)


def test_a_live_bot_is_reconfigured_only_with_trading_live(bots: Bots) -> None:
    bot_id = bots.bot()
    bots.mode(MONA, bot_id, "live", confirm_live=True)
    config = bots.events("bots.bot_created")[-1].payload.config
    command = b.ReconfigureBot(
        workspace_id=bots.ws, bot_id=bot_id, config=msgspec.structs.replace(config, name="n")
    )
    bots.rejected(TINA, command, "access.forbidden")
    bots.ok(MONA, command)


def test_testnet_and_live_need_a_venue_connection(bots: Bots) -> None:
    sid = bots.strategy()
    paper_only = bots.config(sid, connection_id=None)
    bot_id = str(uuid4())
    bots.ok(ALICE, b.CreateBot(workspace_id=bots.ws, bot_id=bot_id, config=paper_only))
    command = b.ChangeBotMode(workspace_id=bots.ws, bot_id=bot_id, mode="testnet")
    assert bots.rejected(ALICE, command, "bots.connection_required").field == (
        "config.connection_id"
    )
    testnet = b.CreateBot(
        workspace_id=bots.ws, bot_id=str(uuid4()), config=paper_only, mode="testnet"
    )
    bots.rejected(ALICE, testnet, "bots.connection_required")


def test_a_bot_never_exceeds_its_workspaces_limits(bots: Bots) -> None:
    bots.set_workspace_risk(max_position="1000", max_order_notional="100", max_open_orders=8)
    sid = bots.strategy()
    for over, field in [
        (b.RiskLimits(max_position="1000.01"), "config.risk.max_position"),
        (b.RiskLimits(max_open_orders=9), "config.risk.max_open_orders"),
    ]:
        command = b.CreateBot(
            workspace_id=bots.ws, bot_id=str(uuid4()), config=bots.config(sid, risk=over)
        )
        assert bots.rejected(ALICE, command, "bots.limit_exceeds_workspace").field == field
    within = bots.config(sid, risk=b.RiskLimits(max_position="500", max_open_orders=4))
    bots.ok(ALICE, b.CreateBot(workspace_id=bots.ws, bot_id=str(uuid4()), config=within))
    in_force = b.effective_limits(within.risk, bots.workspaces.risk(bots.ws))
    assert in_force == b.RiskLimits(max_order_notional="100", max_position="500", max_open_orders=4)
    # the workspace lowers its cap below the bot's: the lower one is in force
    bots.set_workspace_risk(max_position="200")
    assert b.effective_limits(within.risk, bots.workspaces.risk(bots.ws)).max_position == "200"


def test_bad_market_and_sessions_are_refused_and_change_nothing(bots: Bots) -> None:
    sid = bots.strategy()
    cases = [
        (
            {"market": b.MarketRef(venue="bybit", symbol="BTC/USDT", kind="perpetual")},
            "bots.invalid_market",
        ),
        (
            {"sessions": b.TradingSessions(time_zone="Mars/Olympus", always_on=True)},
            "bots.unknown_time_zone",
        ),
        (
            {
                "sessions": b.TradingSessions(
                    always_on=False,
                    windows=[b.SessionWindow(days=["mon"], start="16:00", end="08:00")],
                )
            },
            "bots.window_ends_before_start",
        ),
        (
            {
                "sessions": b.TradingSessions(
                    always_on=False,
                    windows=[
                        b.SessionWindow(days=["mon"], start="08:00", end="12:00"),
                        b.SessionWindow(days=["mon", "tue"], start="11:00", end="13:00"),
                    ],
                )
            },
            "bots.windows_overlap",
        ),
    ]
    for fields, code in cases:
        command = b.CreateBot(
            workspace_id=bots.ws, bot_id=str(uuid4()), config=bots.config(sid, **fields)
        )
        rejected = bots.rejected(ALICE, command, code)
        assert rejected.field is not None and rejected.field.startswith("config."), rejected


def test_start_stop_delete(bots: Bots) -> None:
    bot_id = bots.bot()
    bots.start(bot_id, TINA)
    start = b.StartBot(workspace_id=bots.ws, bot_id=bot_id)
    bots.rejected(TINA, start, "bots.already_running")
    delete = b.DeleteBot(workspace_id=bots.ws, bot_id=bot_id)
    bots.rejected(ALICE, delete, "bots.bot_running")
    bots.rejected(TINA, delete, "access.forbidden")  # bots:delete is a manager's
    bots.ok(TINA, b.StopBot(workspace_id=bots.ws, bot_id=bot_id))
    bots.ok(MONA, delete)
    bots.rejected(ALICE, start, "bots.bot_not_found")
