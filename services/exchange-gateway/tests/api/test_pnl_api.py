"""A bot's realised PnL over time: the read model on its own (SQLite, no broker: a point per
position change, an event applied twice kept once), and the route over HTTP on real Kafka (a
point per fill of the bot's mode, oldest first, the last equal to its position's PnL; another
mode's kept apart; who may read; bad mode, limit or time refused with `request.invalid`, an
unknown bot with `exchange.bot_not_found`)."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from uuid import uuid4

import pytest
from plutarc_contracts import Envelope
from plutarc_contracts import exchange as x
from plutarc_exchange.api.pnl import PnlProjection, pnl
from plutarc_testkit.waiting import until
from sqlalchemy import Engine, create_engine, select

from e2e.exchange import Exchange
from e2e.sse import live
from e2e.test_support_over_http import org_with

from .helpers import created, paper_bot, problem

T0 = datetime(2026, 12, 3, 9, 0, tzinfo=UTC)


def changed(second: int, realised: str, mode: str = "paper", bot: str = "bot-1") -> Envelope:
    payload = x.PositionChanged(
        workspace_id="ws-1",
        bot_id=bot,
        mode=mode,  # type: ignore[arg-type]
        symbol="BTC/USDT",
        quantity="0.5",
        average_price="100",
        realised_pnl=realised,
        fees_paid="0.05",
        balances=[],
    )
    return Envelope(
        event_id=str(uuid4()),
        type="exchange.position_changed",
        schema_version=1,
        occurred_at=T0 + timedelta(seconds=second),
        producer="exchange",
        stream_id=f"account-{bot}-{mode}",
        stream_position=second,
        workspace_id="ws-1",
        actor="system:exchange",
        correlation_id="c",
        causation_id=None,
        payload=payload,
    )


@pytest.fixture
def engine() -> Iterator[Engine]:
    e = create_engine("sqlite://")
    PnlProjection().metadata.create_all(e)
    yield e
    e.dispose()


def test_a_point_per_position_change_kept_once(engine: Engine) -> None:
    projection = PnlProjection()
    first, second, testnet = changed(0, "-0.05"), changed(1, "1.25"), changed(1, "3", "testnet")
    with engine.begin() as conn:
        projection.apply(conn, [first, second, testnet])
    with engine.begin() as conn:  # the same events again, after a crash before the commit
        projection.apply(conn, [second, testnet])
    with engine.connect() as conn:
        rows = conn.execute(select(pnl).order_by(pnl.c.mode, pnl.c.at)).all()
    assert [(r.mode, r.at.second, r.realised_pnl) for r in rows] == [
        ("paper", 0, "-0.05"),
        ("paper", 1, "1.25"),
        ("testnet", 1, "3"),
    ]


@pytest.mark.kafka
async def test_a_bots_pnl_over_time_over_http(exchange: Exchange) -> None:
    platform = exchange.platform
    owner, _, _ = await platform.user("owner")
    viewer, _, _ = await platform.user("viewer")
    stranger, _, _ = await platform.user("stranger")
    ws = await org_with(platform, owner, **{viewer: "viewer"})
    async with (
        platform.client(owner) as http,
        platform.client(viewer) as reader,
        platform.client(stranger) as outsider,
    ):
        bot = await paper_bot(http, ws)
        base = f"/v1/workspaces/{ws}/bots/{bot}"
        url = f"{base}/pnl"
        async with live(reader, ws) as stream:
            for side in ("buy", "sell"):
                order = {"side": side, "type": "market", "quantity": "0.5"}
                assert (await created(http, f"{base}/orders", order))["status"] == "filled"
                await stream.wait_for("exchange.position_changed")

        async def two() -> bool:
            r = await reader.get(url)
            assert r.status_code == 200, r.text
            return len(r.json()["items"]) == 2

        await until(two, timeout=30, what="two PnL points read")
        body = (await reader.get(url)).json()
        assert (body["bot_id"], body["mode"], body["symbol"]) == (bot, "paper", "BTC/USDT")
        bought, sold = body["items"]
        assert datetime.fromisoformat(bought["at"]) <= datetime.fromisoformat(sold["at"])
        assert (bought["quantity"], bought["realised_pnl"]) == ("0.5", "-0.05")
        assert Decimal(sold["quantity"]) == 0
        assert Decimal(sold["realised_pnl"]) < Decimal("-0.05"), "a spread and a fee paid"
        [now] = (await reader.get(f"{base}/positions")).json()["items"]
        assert Decimal(sold["realised_pnl"]) == Decimal(now["realised_pnl"])
        assert (await reader.get(url, params={"limit": 1})).json()["items"] == [sold]
        older = (await reader.get(url, params={"before": sold["at"]})).json()
        earlier = datetime.fromisoformat(bought["at"]) < datetime.fromisoformat(sold["at"])
        assert older["items"] == ([bought] if earlier else []), "strictly before the time"
        for edge, count in (("0001-01-01T00:30:00+01:00", 0), ("9999-12-31T23:30:00-01:00", 2)):
            r = await reader.get(url, params={"before": edge})
            assert r.status_code == 200, r.text
            assert len(r.json()["items"]) == count, edge
        testnet = (await reader.get(url, params={"mode": "testnet"})).json()
        assert (testnet["mode"], testnet["items"]) == ("testnet", [])

        for params in (
            {"mode": "demo"},
            {"mode": ""},
            {"limit": 0},
            {"limit": 1001},
            {"limit": "many"},
            {"before": "yesterday"},
        ):
            assert problem(await reader.get(url, params=params)) == (422, "request.invalid"), params
        other = f"/v1/workspaces/{ws}/bots/no-such-bot/pnl"
        assert problem(await reader.get(other)) == (404, "exchange.bot_not_found")
        assert problem(await outsider.get(url)) == (404, "workspace.not_found")
