"""Properties over random sequences of bot changes (hypothesis), on the service as built:

- the version history replays to the same state: the version in force at every instant, read
  from the events alone, is the bot as the service had it then;
- a mode change never alters the configuration's bytes;
- the limits in force never exceed the workspace's, whatever order bots and workspaces change in.
"""

from __future__ import annotations

import itertools
from datetime import timedelta
from typing import Any

import msgspec
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from plutarc_bots.domain import Bot, parse_id
from plutarc_contracts import bots as b

from .conftest import ALICE, LONDON, MONA, Bots

AMOUNTS = st.sampled_from([None, "50", "100", "250.5", "1000", "5000"])
RISK = st.builds(
    b.RiskLimits,
    max_order_notional=AMOUNTS,
    max_position=AMOUNTS,
    max_open_orders=st.sampled_from([None, 1, 5, 50]),
    daily_loss_limit=AMOUNTS,
)
SESSIONS = st.sampled_from(
    [b.TradingSessions(), LONDON, msgspec.structs.replace(LONDON, time_zone="Asia/Tokyo")]
)
MARKETS = st.sampled_from(
    [
        b.MarketRef(venue="binance", symbol="BTC/USDT"),
        b.MarketRef(venue="bybit", symbol="ETH/USDT:USDT", kind="perpetual"),
        b.MarketRef(venue="kraken", symbol="BTC/USD"),
    ]
)
ACTIONS = st.lists(
    st.one_of(
        st.tuples(
            st.just("reconfigure"), st.text("abc", min_size=1, max_size=3), SESSIONS, MARKETS, RISK
        ),
        st.tuples(st.just("mode"), st.sampled_from(b.MODES)),
        st.tuples(st.just("start")),
        st.tuples(st.just("stop")),
        st.tuples(st.just("workspace"), RISK),
    ),
    min_size=1,
    max_size=12,
)


def _within(limits: b.RiskLimits, workspace: msgspec.Struct) -> bool:
    return not b.limits_above(limits, workspace)


@pytest.mark.parametrize("backend", ["sqlite"])
@settings(
    max_examples=30,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(actions=ACTIONS)
def test_random_changes_replay_keep_config_bytes_and_stay_within_limits(
    make_bots: Any, actions: list[tuple[Any, ...]]
) -> None:
    bots: Bots = make_bots()
    bot_id = bots.bot()
    seen: list[tuple[Any, int, bytes, str]] = []  # (instant, version, config bytes, mode)
    caps_over_time = [(bots.clock.now(), bots.workspaces.risk(bots.ws))]

    def current() -> Bot:
        bot = bots.store.find(Bot, parse_id(bot_id, "bot_id"))
        assert bot is not None
        return bot

    def observe() -> Bot:
        """The bot as the service has it, in force from this instant on."""
        bot = current()
        seen.append(
            (bots.clock.now(), bot.config_version, msgspec.json.encode(bot.config), bot.mode)
        )
        return bot

    observe()
    for action in actions:
        bots.clock.advance(timedelta(minutes=1))
        bot = current()
        match action:
            case ("reconfigure", name, sessions, market, risk):
                config = msgspec.structs.replace(
                    bot.config, name=f"bot {name}", sessions=sessions, market=market, risk=risk
                )
                bots.send(
                    ALICE, b.ReconfigureBot(workspace_id=bots.ws, bot_id=bot_id, config=config)
                )
            case ("mode", mode):
                bots.send(
                    MONA,
                    b.ChangeBotMode(
                        workspace_id=bots.ws, bot_id=bot_id, mode=mode, confirm_live=True
                    ),
                )
            case ("start",):
                bots.send(ALICE, b.StartBot(workspace_id=bots.ws, bot_id=bot_id))
            case ("stop",):
                bots.send(ALICE, b.StopBot(workspace_id=bots.ws, bot_id=bot_id))
            case ("workspace", risk):
                bots.set_workspace_risk(**msgspec.structs.asdict(risk))
                caps_over_time.append((bots.clock.now(), bots.workspaces.risk(bots.ws)))
        bot = observe()
        workspace = bots.workspaces.risk(bots.ws)
        assert _within(b.effective_limits(bot.config.risk, workspace), workspace)

    history = [e for e in bots.of(bot_id) if isinstance(e.payload, b.VERSIONED)]
    # each configuration was within the workspace's limits when it was set (they may have fallen
    # since: a mode change then carries it unchanged, and the lower cap is what is in force)
    for event in history:
        if isinstance(event.payload, b.BotModeChanged):
            continue
        caps = [risk for at, risk in caps_over_time if at <= event.occurred_at][-1]
        assert _within(event.payload.config.risk, caps), (event.payload, caps)
    for before, after in itertools.pairwise(history):
        assert after.payload.version == before.payload.version + 1
        if isinstance(after.payload, b.BotModeChanged):
            assert msgspec.json.encode(after.payload.config) == msgspec.json.encode(
                before.payload.config
            ), "a mode change altered the configuration"
    # the version in force at each instant, from the events alone, is what the service had
    for instant, version, config, mode in seen:
        in_force = [e.payload for e in history if e.occurred_at <= instant][-1]
        assert (in_force.version, msgspec.json.encode(in_force.config), in_force.mode) == (
            version,
            config,
            mode,
        )
