from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any
from uuid import uuid4

import pytest
from plutarc_access import Memberships, RegoEngine
from plutarc_bots.bootstrap import build
from plutarc_bots.settings import BotsSettings
from plutarc_bots.views import Workspaces
from plutarc_contracts import CommandAccepted
from plutarc_contracts import bots as b
from plutarc_contracts import identity as c
from plutarc_runtime.clock import FakeClock
from plutarc_testkit.harness import Harness
from plutarc_testkit.identity_events import identity_event, workspace_events

ALICE, BOB, TINA, MONA, CAROL = "user:alice", "user:bob", "user:tina", "user:mona", "user:carol"
"""In `ws`: alice owner, bob viewer, tina trader, mona manager. In `other`: carol owner, alice
viewer."""

CROSSOVER = b.StrategySpec(
    timeframe="1h",
    components=[
        b.ComponentRef(component="ma_crossover", params={"fast": 9, "slow": 21}),
        b.ComponentRef(component="fixed_fraction", params={"fraction": 0.02}),
    ],
)
LONDON = b.TradingSessions(
    time_zone="Europe/London",
    always_on=False,
    windows=[b.SessionWindow(days=["mon", "tue", "wed", "thu", "fri"], start="08:00", end="16:30")],
    end_rule="flatten",
)


@pytest.fixture(scope="session")
def policy() -> RegoEngine:
    return RegoEngine()


class Bots(Harness):
    """The bots service from its bootstrap on a real store, without Kafka."""

    ws: str
    other: str
    memberships: Memberships
    workspaces: Workspaces
    positions: dict[str, int]

    def identity(self, payload: Any) -> None:
        """An identity event, as the service's replay of `identity.events.v1` would apply it."""
        stream = payload.workspace_id
        self.positions[stream] = self.positions.get(stream, 0) + 1
        env = identity_event(payload, stream, self.positions[stream])
        self.memberships.apply(env)
        self.workspaces.apply(env)

    def set_workspace_risk(self, ws: str | None = None, **risk: Any) -> None:
        self.identity(
            c.WorkspaceSettingsChanged(
                workspace_id=ws or self.ws,
                previous_risk=c.RiskDefaults(),
                risk=c.RiskDefaults(**risk),
            )
        )

    def strategy(
        self, actor: str = ALICE, ws: str | None = None, spec: b.StrategySpec = CROSSOVER
    ) -> str:
        strategy_id = str(uuid4())
        self.ok(
            actor,
            b.CreateStrategy(
                workspace_id=ws or self.ws, strategy_id=strategy_id, name="Trend", spec=spec
            ),
        )
        return strategy_id

    def config(self, strategy_id: str, **fields: Any) -> b.BotConfig:
        values: dict[str, Any] = {
            "name": "BTC trend",
            "strategy": b.PinnedStrategy(strategy_id=strategy_id, version=1),
            "market": b.MarketRef(venue="binance", symbol="BTC/USDT"),
            "connection_id": "conn-1",
            **fields,
        }
        return b.BotConfig(**values)

    def bot(self, strategy_id: str | None = None, actor: str = ALICE, **fields: Any) -> str:
        bot_id = str(uuid4())
        config = self.config(strategy_id or self.strategy(), **fields)
        self.ok(actor, b.CreateBot(workspace_id=self.ws, bot_id=bot_id, config=config))
        return bot_id

    def mode(self, actor: str, bot_id: str, mode: str, **kw: Any) -> Any:
        return self.send(
            actor, b.ChangeBotMode(workspace_id=self.ws, bot_id=bot_id, mode=mode, **kw)
        )

    def start(self, bot_id: str, actor: str = ALICE) -> CommandAccepted:
        return self.ok(actor, b.StartBot(workspace_id=self.ws, bot_id=bot_id))

    def of(self, bot_id: str, prefix: str = "bots.") -> list[Any]:
        return [e for e in self.events(prefix) if getattr(e.payload, "bot_id", None) == bot_id]


@pytest.fixture(params=["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)])
def backend(request: pytest.FixtureRequest) -> str:
    return str(request.param)


@pytest.fixture
def make_bots(
    backend: str, request: pytest.FixtureRequest, tmp_path: Path, policy: RegoEngine
) -> Iterator[Any]:
    made: list[Bots] = []

    def make(clock: FakeClock | None = None, **settings: Any) -> Bots:
        memberships, workspaces = Memberships(policy), Workspaces()
        ws, other = str(uuid4()), str(uuid4())
        members = {"alice": "owner", "bob": "viewer", "tina": "trader", "mona": "manager"}
        for env in [
            *workspace_events(ws, members),
            *workspace_events(other, {"carol": "owner", "alice": "viewer"}),
        ]:
            memberships.apply(env)
            workspaces.apply(env)
        kwargs: dict[str, Any] = {"sqlite_path": tmp_path / f"b-{uuid4().hex[:6]}.sqlite"}
        if backend == "postgres":
            pg = request.getfixturevalue("postgres_server")
            kwargs = {"database_url": pg.create_database(f"bots_{uuid4().hex[:10]}")}
        spec = build(BotsSettings(**settings), memberships=memberships, workspaces=workspaces)
        bots = Bots(spec, clock=clock, **kwargs)
        bots.ws, bots.other = ws, other
        bots.memberships, bots.workspaces = memberships, workspaces
        bots.positions = {ws: len(members) + 1, other: 3}
        made.append(bots)
        return bots

    yield make
    for bots in made:
        bots.close()


@pytest.fixture
def bots(make_bots: Any) -> Bots:
    return make_bots()  # type: ignore[no-any-return]
