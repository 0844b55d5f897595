"""The paper engines live in memory: after the gateway restarts, a bot's open paper orders are put
back into them, so a resting order still fills and can still be cancelled."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
from plutarc_access import Memberships, RegoEngine
from plutarc_contracts import exchange as x
from plutarc_exchange.bootstrap import build
from plutarc_exchange.feed import PaperFeed, PaperResting, commands_for
from plutarc_exchange.paper_desk import PaperDesk
from plutarc_exchange.settings import ExchangeSettings
from plutarc_testkit.identity_events import workspace_events

from .conftest import ALICE, RULES, TINA, Gateway

BOOK = {"bids": [("99.9", "1"), ("99.8", "2")], "asks": [("100", "0.5"), ("100.1", "2")]}
SYSTEM = "system:exchange-gateway"


@pytest.fixture
def restart(
    tmp_path: Path, policy: RegoEngine, gateway: Gateway
) -> Iterator[Callable[[], Gateway]]:
    """Stops ``gateway`` and starts it again on the same store, with empty paper engines; the
    followed bots and workspaces as the replays would rebuild them."""
    started: list[Gateway] = []

    def again() -> Gateway:
        gateway.close()
        memberships = Memberships(policy)
        for env in workspace_events(
            gateway.ws, {"alice": "owner", "bob": "viewer", "tina": "trader"}
        ):
            memberships.apply(env)
        desk = PaperDesk(lambda venue, symbol: RULES)
        spec = build(
            ExchangeSettings(data_dir=tmp_path / "data"),
            clock=gateway.clock,
            memberships=memberships,
            workspaces=gateway.workspaces,
            bots=gateway.bots,
            paper=desk,
        )
        gw = Gateway(spec, sqlite_path=tmp_path / "exchange.sqlite", clock=gateway.clock)
        gw.ws, gw.bots, gw.desk, gw.workspaces = gateway.ws, gateway.bots, desk, gateway.workspaces
        gw.positions = gateway.positions
        started.append(gw)
        return gw

    yield again
    for gw in started:
        gw.close()


def feed_of(gw: Gateway) -> PaperFeed:
    [feed] = [i for i in gw.spec.inbound if isinstance(i, PaperFeed)]
    return feed


def test_a_resting_order_fills_after_a_restart(
    gateway: Gateway, restart: Callable[[], Gateway]
) -> None:
    gateway.market(**BOOK)
    bot = gateway.bot()
    order_id = gateway.order(bot, type="limit", price="99.5", quantity="0.2").result["order_id"]
    gw = restart()
    assert gw.models.get(PaperResting).bots() == [(gw.ws, bot)]
    gw.market(**BOOK)  # the feed's first book after the start
    assert feed_of(gw).resume(gw.processor.execute) == 1
    assert feed_of(gw).resume(gw.processor.execute) == 0, "once per start"
    assert gw.desk.holds(order_id)
    [command] = commands_for(gw.desk, gw.trade("99.4", "0.05"))
    gw.ok(SYSTEM, command)
    [fill] = gw.of(bot, "exchange.order_filled")
    assert (fill.order_id, fill.fill.quantity, fill.remaining) == (order_id, "0.05", "0.15")


def test_a_resting_order_can_be_cancelled_after_a_restart(
    gateway: Gateway, restart: Callable[[], Gateway]
) -> None:
    gateway.market(**BOOK)
    bot = gateway.bot()
    order_id = gateway.order(bot, type="limit", price="99", quantity="0.1").result["order_id"]
    gw = restart()
    gw.market(**BOOK)
    # No resume yet (the feed has not started): the cancel puts the order back first.
    gw.ok(ALICE, x.CancelOrder(workspace_id=gw.ws, bot_id=bot, order_id=order_id))
    [cancelled] = gw.of(bot, "exchange.order_cancelled")
    assert cancelled.order_id == order_id and cancelled.remaining == "0.1"
    assert gw.models.get(PaperResting).bots() == []


def test_a_new_order_after_a_restart_meets_the_resting_one_in_the_engine(
    gateway: Gateway, restart: Callable[[], Gateway]
) -> None:
    gateway.market(**BOOK)
    bot = gateway.bot()
    first = gateway.order(bot, type="limit", price="99.5", quantity="0.2").result["order_id"]
    gw = restart()
    gw.market(**BOOK)
    second = gw.order(bot, type="limit", price="99.6", quantity="0.2").result["order_id"]
    assert gw.desk.holds(first) and gw.desk.holds(second)
    assert feed_of(gw).resume(gw.processor.execute) == 1
    assert len(gw.events("exchange.order_accepted")) == 2, "nothing submitted twice"
    [command] = commands_for(gw.desk, gw.trade("99.4", "1"))
    gw.ok(SYSTEM, command)
    filled = {f.order_id for f in gw.of(bot, "exchange.order_filled")}
    assert filled == {first, second}


def test_only_the_gateway_resumes_and_an_unknown_bot_changes_nothing(
    gateway: Gateway, restart: Callable[[], Gateway]
) -> None:
    gateway.market(**BOOK)
    bot = gateway.bot()
    gateway.order(bot, type="limit", price="99.5", quantity="0.2")
    gw = restart()
    before = len(gw.events("exchange."))
    gw.rejected(TINA, x.ResumePaperOrders(workspace_id=gw.ws, bot_id=bot), "access.system_only")
    other = "0194a0c0-5e00-7000-8000-0000000000aa"
    reply = gw.ok(SYSTEM, x.ResumePaperOrders(workspace_id=gw.ws, bot_id=other))
    assert reply.result == {"bot_id": other, "resumed": 0}
    gw.rejected(
        SYSTEM, x.ResumePaperOrders(workspace_id=gw.ws, bot_id="not-an-id"), "exchange.invalid_id"
    )
    assert len(gw.events("exchange.")) == before
