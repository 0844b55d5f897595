"""A paper bot with a session wakes on an accelerated clock, in the dashboard, and trades live.

The platform of the other dashboard journeys plus the compute service (`e2e/live_compute.py`) on
an `AcceleratedClock` (twice the wall clock, and jumped forward by the test); the bots service,
which plans the window, stays on the wall clock (it would refuse the API's commands as expired
on a clock days ahead). Hosts come from the in-memory provider, whose wake waits at a `WakeGate`
the test opens, so "waking" is on screen long enough to be seen; a woken host runs the bot's
runtime on the accelerated clock, as a real host runs `plutarc bot run`. In Chromium (the viewer
in Europe/London, the bot in Asia/Tokyo): the bot's week on the bots list and on its page,
started from the page, its host asleep with its next wake; the clock jumps to just before the
wake and the page shows the host waking, then running, with no reload. The clock then jumps into
the window and the test, as the market-data source, publishes candles and trades: the bot's grid
strategy buys at 99 and sells at 100 on its own, the paper venue fills both, and the orders, the
fills, the position and the realised PnL on the chart appear live. An order from the page's form fills too. A viewer sees no
order form, and the API refuses their order. axe-core over each page, screenshots kept, the bot
page held at 200% zoom.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from datetime import datetime, timedelta
from decimal import Decimal
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import pytest
from playwright.sync_api import Browser, BrowserContext, Page, expect
from plutarc_testkit.waiting import wait_until

from .browser import (
    Scene,
    check_page,
    dashboard_platform,
    log_in,
    make_bot,
    need_chromium,
)
from .live import LivePlatform
from .live_compute import AcceleratedClock, ComputeOption
from .market_feed import MarketFeed
from .test_trading_journey import GRID  # buys a lot at each level 1% under 100, sells it a level up

need_chromium()
expect.set_options(timeout=15_000)
pytestmark = pytest.mark.kafka
BOT_ZONE = "Asia/Tokyo"
VIEWER_ZONE = "Europe/London"
TO = "\u2013"
"""The en dash the page puts between a window's start and end."""
MARKET = ("kraken", "BTC/USDT")
"""A market no other test publishes to (the bot's runtime reads every candle of it from the
topic's start, and other journeys of this session share the broker); the paper venue's book
there is around 100 (`e2e/exchange_gateway.py`)."""


@pytest.fixture(scope="module")
def compute() -> ComputeOption:
    return ComputeOption(clock=AcceleratedClock(rate=2))


@pytest.fixture(scope="module")
def live(
    kafka_bootstrap: str, tmp_path_factory: pytest.TempPathFactory, compute: ComputeOption
) -> Iterator[LivePlatform]:
    with dashboard_platform(
        kafka_bootstrap, Path(tmp_path_factory.mktemp("dashboard-wake")), compute=compute
    ) as platform:
        yield platform


@pytest.fixture
def viewer_zone() -> str:
    return VIEWER_ZONE


def at_200_percent(page: Page, name: str) -> None:
    """A 640-pixel window shows the page as a 1280-pixel one at 200% zoom: nothing pushes it
    sideways, and axe-core still passes."""
    page.set_viewport_size({"width": 640, "height": 450})
    try:
        widths = page.evaluate(
            "() => [document.documentElement.scrollWidth, document.documentElement.clientWidth]"
        )
        wide = page.evaluate(  # what sticks out, to say so when it does
            """() => [...document.querySelectorAll('body *')]
                .filter(e => e.getBoundingClientRect().right > innerWidth + 1)
                .slice(0, 5).map(e => e.tagName + ' ' + (e.textContent || '').slice(0, 40))"""
        )
        assert widths[0] <= widths[1], f"{name}: {widths[0]} px wide in a 640 px window: {wide}"
        check_page(page, name)
    finally:
        page.set_viewport_size({"width": 1280, "height": 900})


def host_of(scene: Scene, token: str, ws: str, bot_id: str) -> dict[str, Any]:
    with scene.http(token) as http:
        r = http.get(f"/v1/workspaces/{ws}/bots/{bot_id}/host")
        return dict(r.json()) if r.status_code == 200 else {"state": None}


def test_a_paper_bot_wakes_on_the_accelerated_clock_and_fills_live(
    live: LivePlatform, browser: Browser, context: BrowserContext, compute: ComputeOption
) -> None:
    scene = Scene(live.base_url)
    owner, _, email = scene.user("wren")
    ws = scene.organisation(owner, "Night Desk")
    # A window three days ahead in Tokyo (so the bot sleeps now), and an overnight one after it.
    tokyo = compute.clock.now().astimezone(ZoneInfo(BOT_ZONE))
    first = (tokyo + timedelta(days=3)).strftime("%a").lower()
    later = (tokyo + timedelta(days=5)).strftime("%a").lower()
    sessions = {
        "always_on": False,
        "time_zone": BOT_ZONE,
        "end_rule": "flatten",
        "windows": [
            {"days": [first], "start": "09:00", "end": "15:00"},
            {"days": [later], "start": "22:00", "end": "02:00", "overnight": True},
        ],
    }
    # Made over the API, stopped (the New bot form has its own journey).
    market = {"venue": MARKET[0], "symbol": MARKET[1]}
    bot_id = make_bot(
        scene, owner, ws, "Tokyo sleeper", spec=GRID, market=market, sessions=sessions
    )
    page = context.new_page()
    log_in(page, live.base_url, email)

    # The bots list: its week in words (and a strip), no host before it is started.
    page.goto(f"{live.base_url}/w/{ws}/bots")
    row = page.locator("tr", has_text="Tokyo sleeper")
    day, overnight_day = first.title(), later.title()
    expect(row.locator(".week-words")).to_have_text(
        f"{day} 09:00{TO}15:00; {overnight_day} 22:00{TO}02:00 (overnight) {BOT_ZONE}"
    )
    expect(row).to_contain_text("no host yet")
    check_page(page, "wake-bots-list")

    # Its page: the week in Tokyo with the viewer's London times beside each window.
    row.get_by_role("link", name="Tokyo sleeper").click()
    page.wait_for_url(f"**/w/{ws}/bots/{bot_id}")
    week = page.locator("figure.week")
    expect(week.locator("figcaption")).to_have_text(
        f"The week in {BOT_ZONE}, the bot's zone (yours: {VIEWER_ZONE})"
    )
    windows = week.locator("li")
    expect(windows.nth(0)).to_contain_text(f"{day} 09:00{TO}15:00")
    # Tokyo is 9 hours ahead of London in winter and 8 in summer.
    expect(windows.nth(0)).to_contain_text(
        re.compile(rf"your time this week: {day} 0[01]:00{TO}{day} 0[67]:00")
    )
    expect(windows.nth(1)).to_contain_text(
        f"{overnight_day} 22:00{TO}02:00 (overnight, ends the next day)"
    )
    expect(week.locator(".week-bar")).to_have_count(3)  # the overnight one on two days

    # Started from the page: its host is planned, asleep until the window's lead time.
    page.get_by_role("button", name="Start").click()
    host = page.locator("section", has=page.get_by_role("heading", name="Host"))
    expect(host).to_contain_text("asleep (not woken yet)")
    wait_until(
        lambda: host_of(scene, owner, ws, bot_id).get("next_wake_at") is not None,
        timeout=30,
        what="the host's next wake planned",
    )
    planned = host_of(scene, owner, ws, bot_id)
    wake_at = datetime.fromisoformat(planned["next_wake_at"])
    expect(host.locator(f'time[datetime="{planned["next_wake_at"]}"]')).to_be_visible()
    window_start = datetime.fromisoformat(planned["window"]["starts_at"])
    assert window_start.astimezone(ZoneInfo(BOT_ZONE)).strftime("%a %H:%M") == f"{day} 09:00"
    assert wake_at < window_start
    check_page(page, "wake-asleep")

    # The clock jumps to 10 s (1 s of wall time) before the wake: the host wakes, live.
    compute.clock.jump_to(wake_at - timedelta(seconds=10))
    expect(host.locator(".host-waking")).to_have_text("waking")
    wait_until(lambda: compute.gate.waiting == 1, timeout=30, what="the wake at the gate")
    check_page(page, "wake-waking")
    compute.gate.open()
    expect(host.locator(".host-running")).to_have_text("running", timeout=30_000)
    assert compute.provider is not None and compute.provider.awake(bot_id)
    assert compute.provider.runtime(bot_id) is not None, "the host runs the bot"
    check_page(page, "wake-running")

    # Into the window: the market moves and the bot trades on its own; its orders, their fills
    # and its position appear without a reload.
    compute.clock.jump_to(window_start + timedelta(minutes=2))
    orders = page.locator("section", has=page.get_by_role("heading", name="Recent orders"))
    fills = page.locator("section", has=page.get_by_role("heading", name="Recent fills"))
    position = page.locator("section", has=page.get_by_role("heading", name="Position and PnL"))
    chart = page.locator("#chart-summary")
    expect(chart).to_contain_text("No realised PnL yet.")
    market = Market(live, compute.clock, window_start + timedelta(minutes=1))
    market.candle("99.5", "99.8", "99.3", "99.5")  # between two levels: nothing crossed
    market.candle("99.5", "99.6", "98.8", "99.2")  # down through 99: the grid buys there
    buy = orders.locator("tbody tr", has_text="buy")
    expect(buy).to_contain_text(re.compile(r"limit.*99.*open"))
    expect(fills).to_contain_text("No fills yet.")
    market.trade("98.9", side="sell")  # trades through the bid: the paper venue fills it
    expect(buy).to_contain_text("filled")
    expect(fills.locator("tbody tr")).to_have_count(1)
    lot = position.locator("tbody tr").first
    expect(lot).to_contain_text("paper")
    market.candle("99.2", "100.3", "99.1", "99.5")  # up through 100: it sells the lot there
    sell = orders.locator("tbody tr", has_text="sell")
    expect(sell).to_contain_text(re.compile(r"limit.*100.*open"))
    market.trade("100.1", side="buy")
    expect(sell).to_contain_text("filled")
    expect(fills.locator("tbody tr")).to_have_count(2)
    # Bought at 99 and sold at 100, fees paid: the realised PnL on the chart's line is the
    # position's, drawn live.
    expect(lot.locator("td").nth(2)).to_have_text("0")
    realised = lot.locator("td").nth(4).inner_text()
    assert Decimal(realised) > 0, realised
    expect(chart).to_contain_text(f"Realised PnL {realised} (fees included)")
    check_page(page, "wake-traded")

    # An order from the page's form fills on the paper venue too, live.
    form = page.locator("section", has=page.get_by_role("heading", name="Place an order"))
    form.get_by_role("button", name="Place order").click()
    quantity = form.get_by_label("Quantity")
    expect(quantity).to_have_attribute("aria-invalid", "true")
    expect(form.get_by_text("This is not in the expected format.")).to_be_visible()
    quantity.fill("0.5")
    form.get_by_role("button", name="Place order").click()
    expect(form.get_by_role("status")).to_have_text("Order filled: buy 0.5.")
    expect(fills.locator("tbody tr")).to_have_count(3)
    # The form's fill is stamped by the paper venue's clock and the strategy's by the trades'
    # (the accelerated clock's), so it is not necessarily the newest row: found by its quantity.
    quantities = fills.locator("tbody tr td:nth-child(3)")
    expect(quantities.filter(has_text=re.compile(r"^0\.5$"))).to_have_count(1)
    expect(orders.locator("tbody tr").first).to_contain_text("filled")
    expect(lot).to_contain_text("0.5")  # the grid's lot bought and sold: flat before this
    # A second one by keyboard (Enter in the field sends the form): the fills grow, live.
    form.get_by_label("Side").select_option("sell")
    quantity.fill("0.25")
    quantity.press("Enter")
    expect(fills.locator("tbody tr")).to_have_count(4)
    check_page(page, "wake-filled")
    at_200_percent(page, "wake-filled-200")

    # The list shows the host running too.
    page.get_by_role("link", name="All bots").click()
    expect(page.locator("tr", has_text="Tokyo sleeper").locator(".host-running")).to_be_visible()
    at_200_percent(page, "wake-bots-list-200")

    # The audit log says what the bot and its host did, in words.
    page.get_by_role("link", name="Audit log").click()
    what = page.get_by_label("What (event type)")
    what.fill("exchange.order_accepted")
    what.press("Enter")
    expect(page.locator("tbody")).to_contain_text(
        re.compile(r"a paper limit order to buy [0-9.]+ BTC/USDT at 99 was accepted")
    )
    what.fill("exchange.order_filled")
    what.press("Enter")
    expect(page.locator("tbody")).to_contain_text(
        re.compile(r"an order was filled: [0-9.]+ at 100")
    )
    what.fill("compute.host_provisioned")
    what.press("Enter")
    expect(page.locator("tbody")).to_contain_text("a bot's host came up at ")
    check_page(page, "wake-audit")

    # A viewer sees the week, the host and the fills, and no order form; the same order sent
    # from their page with their token is refused by the API.
    _, _, viewer_email = scene.member(owner, ws, "vera", "viewer")
    watcher = browser.new_context(viewport={"width": 1280, "height": 900}, timezone_id=VIEWER_ZONE)
    try:
        viewer = watcher.new_page()
        log_in(viewer, live.base_url, viewer_email)
        viewer.goto(f"{live.base_url}/w/{ws}/bots/{bot_id}")
        expect(viewer.locator("figure.week li").first).to_contain_text(f"{day} 09:00{TO}15:00")
        expect(viewer.locator(".host-running")).to_be_visible()
        expect(viewer.get_by_role("heading", name="Recent fills")).to_be_visible()
        expect(viewer.get_by_role("heading", name="Place an order")).to_have_count(0)
        expect(viewer.get_by_role("button")).to_have_count(1)  # Log out, nothing else
        check_page(viewer, "wake-viewer")
        answer = viewer.evaluate(
            """async ([ws, bot]) => {
                const r = await fetch(`/v1/workspaces/${ws}/bots/${bot}/orders`, {
                    method: 'POST',
                    headers: {
                        'Authorization': 'Bearer ' + localStorage.getItem('plutarc.session'),
                        'Content-Type': 'application/json',
                    },
                    body: JSON.stringify({side: 'buy', type: 'market', quantity: '1'}),
                });
                return {status: r.status, body: await r.json()};
            }""",
            [ws, bot_id],
        )
        assert answer["status"] == 403, answer
        assert answer["body"]["code"] == "access.forbidden"
    finally:
        watcher.close()
    with scene.http(owner) as http:  # the refused order made nothing
        orders_now = http.get(f"/v1/workspaces/{ws}/bots/{bot_id}/orders").json()["items"]
        assert len(orders_now) == 4, orders_now
        by_hand = [o for o in orders_now if o["price"] is None]
        assert len(by_hand) == 2, "two by the page's form, two by the bot's strategy"
        assert sorted((o["side"], o["price"]) for o in orders_now if o["price"]) == [
            ("buy", "99"),
            ("sell", "100"),
        ]


class Market:
    """The test as the market-data source of the bot's market, on the accelerated clock: closed
    1-minute candles one after another from `first` (each closed before the clock's now, so
    the bot decides on it in the window), and trades stamped now."""

    def __init__(self, live: LivePlatform, clock: AcceleratedClock, first: datetime) -> None:
        self.live, self.clock, self.opens = live, clock, first

    def candle(self, o: str, h: str, low: str, c: str) -> None:
        opens, self.opens = self.opens, self.opens + timedelta(minutes=1)
        prices = (Decimal(o), Decimal(h), Decimal(low), Decimal(c))

        async def send(feed: MarketFeed) -> None:
            await feed.candle(opens, "1m", *prices)

        self.live.publish(*MARKET, send)

    def trade(self, price: str, *, side: str) -> None:
        at = self.clock.now()

        async def send(feed: MarketFeed) -> None:
            await feed.trade(at, Decimal(price), "1000", side=side)

        self.live.publish(*MARKET, send)
