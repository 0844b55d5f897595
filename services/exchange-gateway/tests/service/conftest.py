from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime
from decimal import Decimal
from pathlib import Path
from typing import Any
from uuid import uuid4

import pytest
from plutarc_access import Memberships, RegoEngine
from plutarc_access.workspaces import Workspaces
from plutarc_contracts import CommandAccepted
from plutarc_contracts import bots as b
from plutarc_contracts import exchange as x
from plutarc_contracts import identity as c
from plutarc_contracts.market import BookUpdate, MarketBatch, Trade
from plutarc_exchange.bootstrap import build
from plutarc_exchange.paper import MarketRules
from plutarc_exchange.paper_desk import PaperDesk
from plutarc_exchange.sealing import Credentials, seal
from plutarc_exchange.settings import ExchangeSettings
from plutarc_exchange.venue_table import VenueTable
from plutarc_exchange.views import Bots
from plutarc_runtime.clock import FakeClock
from plutarc_testkit.harness import Harness
from plutarc_testkit.identity_events import identity_event, workspace_events

ALICE, BOB, TINA = "user:alice", "user:bob", "user:tina"
"""In `ws`: alice owner, bob viewer, tina trader."""
T0 = datetime(2026, 12, 3, 9, 0, tzinfo=UTC)
KEYS = Credentials(api_key="AKIAFAKEKEY0001", secret="very-secret-secret-42")
RULES = MarketRules(
    base="BTC",
    quote="USDT",
    price_tick=Decimal("0.1"),
    amount_step=Decimal("0.001"),
    min_amount=Decimal("0.001"),
    min_notional=Decimal("5"),
    maker_fee=Decimal("0.001"),
    taker_fee=Decimal("0.002"),
)


@pytest.fixture(scope="session")
def policy() -> RegoEngine:
    return RegoEngine()


class Gateway(Harness):
    """The exchange gateway from its bootstrap on a real store and the real paper engines."""

    ws: str
    bots: Bots
    desk: PaperDesk
    workspaces: Workspaces
    positions: dict[str, int]
    public_key: str
    key_id: str

    def _follow(self, payload: Any, stream: str) -> None:
        self.positions[stream] = self.positions.get(stream, 0) + 1
        env = identity_event(payload, stream, self.positions[stream])
        self.bots.apply(env)
        self.workspaces.apply(env)

    def bot(self, mode: str = "paper", running: bool = True, **fields: Any) -> str:
        bot_id = str(uuid4())
        values: dict[str, Any] = {
            "name": "grid",
            "strategy": b.PinnedStrategy(strategy_id=str(uuid4()), version=1),
            "market": b.MarketRef(venue="binance", symbol="BTC/USDT"),
            **fields,
        }
        config = b.BotConfig(**values)
        self._follow(
            b.BotModeChanged(
                workspace_id=self.ws,
                bot_id=bot_id,
                version=1,
                config=config,
                previous_mode="paper",
                mode=mode,  # type: ignore[arg-type]
            ),
            bot_id,
        )
        if running:
            self._follow(b.BotStarted(workspace_id=self.ws, bot_id=bot_id, version=1), bot_id)
        return bot_id

    def limits(self, **risk: Any) -> None:
        self._follow(
            c.WorkspaceSettingsChanged(
                workspace_id=self.ws, previous_risk=c.RiskDefaults(), risk=c.RiskDefaults(**risk)
            ),
            self.ws,
        )

    def market(self, bids: list[tuple[str, str]], asks: list[tuple[str, str]]) -> None:
        self.desk.on_batch(
            MarketBatch(
                venue="binance",
                symbol="BTC/USDT",
                source="simulator",
                books=[
                    BookUpdate(sequence=1, at=self.clock.now(), snapshot=True, bids=bids, asks=asks)
                ],
            )
        )

    def trade(self, price: str, amount: str, side: str = "sell") -> list[x.VenueReport]:
        return self.desk.on_batch(
            MarketBatch(
                venue="binance",
                symbol="BTC/USDT",
                source="simulator",
                trades=[
                    Trade(
                        trade_id=str(uuid4()),
                        at=self.clock.now(),
                        price=price,
                        amount=amount,
                        side=side,
                    )  # type: ignore[arg-type]
                ],
            )
        )

    def order(self, bot_id: str, actor: str = TINA, **fields: Any) -> CommandAccepted:
        values: dict[str, Any] = {"side": "buy", "type": "market", "quantity": "0.01", **fields}
        return self.ok(actor, x.PlaceOrder(workspace_id=self.ws, bot_id=bot_id, **values))

    def connection(
        self, environments: tuple[str, ...] = ("testnet",), venue: str = "binance"
    ) -> str:
        connection_id = str(uuid4())
        self.ok(
            ALICE,
            x.AddConnection(
                workspace_id=self.ws,
                connection_id=connection_id,
                venue=venue,  # type: ignore[arg-type]
                label="main",
                key_id=self.key_id,
                credentials={env: seal(self.public_key, KEYS) for env in environments},  # type: ignore[misc]
            ),
        )
        return connection_id

    def of(self, bot_id: str, type_name: str) -> list[Any]:
        return [
            e.payload
            for e in self.events("exchange.")
            if e.type == type_name and getattr(e.payload, "bot_id", None) == bot_id
        ]


@pytest.fixture
def gateway(tmp_path: Path, policy: RegoEngine) -> Iterator[Gateway]:
    memberships, workspaces, bots = Memberships(policy), Workspaces(), Bots()
    ws = str(uuid4())
    for env in workspace_events(ws, {"alice": "owner", "bob": "viewer", "tina": "trader"}):
        memberships.apply(env)
        workspaces.apply(env)
    table = VenueTable()
    desk = PaperDesk(
        lambda venue, symbol: RULES if symbol == "BTC/USDT" else table.rules(venue, symbol)
    )
    settings = ExchangeSettings(data_dir=tmp_path / "data")
    clock = FakeClock(T0)
    spec = build(
        settings,
        clock=clock,
        memberships=memberships,
        workspaces=workspaces,
        bots=bots,
        paper=desk,
    )
    gw = Gateway(spec, sqlite_path=tmp_path / "exchange.sqlite", clock=clock)
    gw.ws, gw.bots, gw.desk, gw.workspaces = ws, bots, desk, workspaces
    gw.positions = {ws: 4}
    from plutarc_exchange.sealing import SealingKey

    key = SealingKey.load_or_create(settings.key_path("sealing-key"))
    gw.public_key, gw.key_id = key.public_key, key.key_id
    yield gw
    gw.close()
