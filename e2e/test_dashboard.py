"""The dashboard's journeys in Debian's Chromium against the real platform (Kafka, the services,
the API serving the built app at /): register and log in, switch workspace, invite a member who
accepts in a second browser, a viewer who sees no write control and whose write the API refuses,
bad input answered beside its field, the bots list and a bot page (the mode toggle with a typed
confirmation for live, start and stop, a viewer without controls), a bot's chart (candles, and a
paper fill marked live), the strategy library (versions,
a diff between two, bad JSON answered beside its field, a viewer without the form); axe-core over
every page, a screenshot of each kept in var/test-artifacts/dashboard/."""

from __future__ import annotations

import re
from collections.abc import Iterator
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any
from uuid import uuid4

import pytest
from playwright.sync_api import Browser, BrowserContext, Page, expect
from plutarc_contracts.market import Candle
from plutarc_testkit.waiting import wait_until

from .browser import (
    PASSWORD,
    STRATEGY,
    Scene,
    check_page,
    dashboard_platform,
    log_in,
    make_bot,
    need_chromium,
)
from .live import LivePlatform

need_chromium()
expect.set_options(timeout=15_000)
pytestmark = pytest.mark.kafka
WS_URL = re.compile(r"/w/([0-9a-f-]+)$")


@pytest.fixture(scope="module")
def live(kafka_bootstrap: str, tmp_path_factory: pytest.TempPathFactory) -> Iterator[LivePlatform]:
    with dashboard_platform(
        kafka_bootstrap, Path(tmp_path_factory.mktemp("dashboard"))
    ) as platform:
        yield platform


def stored(page: Page) -> dict[str, str]:
    return dict(page.evaluate("() => Object.fromEntries(Object.entries(localStorage))"))


def test_register_log_out_and_log_in(live: LivePlatform, context: BrowserContext) -> None:
    page = context.new_page()
    page.goto(f"{live.base_url}/")
    page.wait_for_url("**/login")
    expect(page.get_by_role("heading", name="Log in")).to_be_visible()
    check_page(page, "login")
    # Every control in reach of the keyboard, in reading order.
    page.get_by_role("link", name="plutarc").focus()
    focused = []
    for _ in range(4):
        page.keyboard.press("Tab")
        focused.append(
            page.evaluate("() => document.activeElement.textContent || document.activeElement.name")
        )
    assert focused == ["email", "password", "Log in", "Create an account"], focused

    page.get_by_role("link", name="Create an account").click()
    expect(page.get_by_role("heading", name="Create an account")).to_be_visible()
    page.get_by_label("Your name").fill("Rita")
    page.get_by_label("Email").fill("rita@example.com")
    page.get_by_label("Password").fill("short")
    page.get_by_role("button", name="Create account").click()
    # The API's problem details, beside the field they are about.
    expect(page.locator("#" + field_id(page, "Password") + "-error")).to_contain_text("12")
    check_page(page, "register-error")
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Create account").click()
    page.wait_for_url(WS_URL)
    expect(page.get_by_role("heading", name="Rita")).to_be_visible()
    expect(page.get_by_label("Your role: owner")).to_contain_text("Personal")
    check_page(page, "workspace-overview")
    token = stored(page)
    assert list(token) == ["plutarc.session"], "only the session token is kept"

    page.get_by_role("button", name="Log out").click()
    page.wait_for_url("**/login")
    assert stored(page) == {}, "logout clears the session token"
    # Its session ended on the server too: the old token no longer works.
    status = page.evaluate(
        "async (t) => (await fetch('/v1/me', {headers: {Authorization: 'Bearer ' + t}})).status",
        token["plutarc.session"],
    )
    assert status == 401

    page.get_by_label("Email").fill("rita@example.com")
    page.get_by_label("Password").fill("not the password")
    page.get_by_role("button", name="Log in").click()
    expect(page.get_by_role("alert")).to_have_text("The email or password is wrong.")
    log_in(page, live.base_url, "rita@example.com")
    expect(page.get_by_role("banner").get_by_text("Rita", exact=True)).to_be_visible()


def field_id(page: Page, label: str) -> str:
    return str(page.get_by_label(label).get_attribute("id"))


def test_switch_workspace_and_invite_a_member_who_accepts_in_a_second_browser(
    live: LivePlatform, browser: Browser, context: BrowserContext, scene: Scene
) -> None:
    _, _, owner_email = scene.user("olivia")
    bob_email = f"bob-{uuid4().hex[:8]}@example.com"  # no account yet: he registers from the link
    page = context.new_page()
    log_in(page, live.base_url, owner_email)
    personal = WS_URL.search(page.url).group(1)  # type: ignore[union-attr]

    page.get_by_role("combobox", name="Workspace").select_option(label="New organisation…")
    page.get_by_label("Name").fill("Tokyo Desk")
    check_page(page, "new-organisation")
    page.get_by_role("button", name="Create organisation").click()
    page.wait_for_url(re.compile(r"/w/[0-9a-f-]+/members$"))
    org = page.url.split("/")[-2]
    expect(page.get_by_role("combobox", name="Workspace")).to_have_value(org)
    expect(page.get_by_label("Your role: owner")).to_contain_text("Organisation")

    # Switching keeps the page and names the other workspace in the path.
    page.get_by_role("combobox", name="Workspace").select_option(personal)
    page.wait_for_url(f"**/w/{personal}/members")
    expect(page.get_by_role("cell", name="Olivia (you)", exact=True)).to_be_visible()
    expect(page.get_by_label("Your role: owner")).to_contain_text("Personal")
    page.get_by_role("combobox", name="Workspace").select_option(org)
    page.wait_for_url(f"**/w/{org}/members")

    page.get_by_label("Email").fill(bob_email)
    page.get_by_label("Role", exact=True).select_option("trader")
    page.get_by_role("button", name="Send invitation").click()
    link = page.get_by_label("Invitation link")
    expect(link).to_have_value(re.compile(r"/invitations/accept#token=pli_"))
    expect(page.get_by_role("cell", name=bob_email, exact=True)).to_be_visible()
    check_page(page, "members-owner")

    bob_context = browser.new_context()
    try:
        bob = bob_context.new_page()
        bob.goto(link.input_value())
        expect(bob.get_by_text("You have been invited")).to_be_visible()
        check_page(bob, "accept-signed-out")
        bob.get_by_role("link", name="Create an account").click()
        bob.get_by_label("Your name").fill("Bob")
        bob.get_by_label("Email").fill(bob_email)
        bob.get_by_label("Password").fill(PASSWORD)
        bob.get_by_role("button", name="Create account").click()
        # Back on the invitation, signed in.
        bob.wait_for_url("**/invitations/accept#token=pli_*")
        bob.get_by_role("button", name="Accept invitation").click()
        expect(bob.get_by_role("heading", name="Invitation accepted")).to_be_visible()
        check_page(bob, "accept-done")
        bob.get_by_role("button", name="Open the workspace").click()
        bob.wait_for_url(f"**/w/{org}")
        expect(bob.get_by_label("Your role: trader")).to_be_visible()
    finally:
        bob_context.close()

    # Live, from the workspace's events: no reload.
    expect(page.get_by_role("cell", name="Bob", exact=True)).to_be_visible()
    expect(page.locator("tr", has_text=bob_email).first).to_contain_text("trader")
    expect(page.locator("tr", has_text=bob_email).last).to_contain_text("accepted")

    # The owner makes Bob a viewer from his row.
    page.get_by_label("Role of Bob").select_option("viewer")
    page.get_by_role("button", name="Change role of Bob").click()
    expect(page.locator("tr", has_text=bob_email).first).to_contain_text("viewer")
    expect(page.get_by_role("button", name="Change role of Bob")).to_be_disabled()


def test_a_viewer_sees_no_write_control_and_the_api_refuses_the_write(
    live: LivePlatform, context: BrowserContext, scene: Scene
) -> None:
    owner, _, _ = scene.user("ode")
    ws = scene.organisation(owner, "Audit Desk")
    _, _, viewer_email = scene.member(owner, ws, "vera", "viewer")
    page = context.new_page()
    log_in(page, live.base_url, viewer_email)
    page.goto(f"{live.base_url}/w/{ws}/members")
    expect(page.get_by_role("cell", name="Vera (you)", exact=True)).to_be_visible()
    expect(page.get_by_label("Your role: viewer")).to_be_visible()
    main = page.locator("main")
    assert main.locator("button, input, select, textarea, form").count() == 0
    expect(page.get_by_role("heading", name="Invite someone")).to_have_count(0)
    expect(page.get_by_role("heading", name="Invitations")).to_have_count(0)
    check_page(page, "members-viewer")
    page.get_by_role("link", name="Overview").click()
    expect(page.get_by_role("heading", name="Audit Desk")).to_be_visible()
    expect(page.get_by_role("heading", name="Settings")).to_have_count(0)
    assert main.locator("button, input, select, textarea, form").count() == 0
    check_page(page, "overview-viewer")
    page.get_by_role("link", name="API tokens").click()
    expect(page.get_by_text("A viewer holds no API tokens")).to_be_visible()
    assert main.locator("button, input, select, textarea, form").count() == 0
    check_page(page, "tokens-viewer")
    # A workspace the viewer is not in reads as one that does not exist, in words.
    page.goto(f"{live.base_url}/w/{uuid4()}/members")
    expect(page.get_by_role("alert")).to_contain_text("does not exist, or you are not a member")
    expect(page.get_by_role("button", name="Try again")).to_be_visible()
    check_page(page, "members-error")

    # The same write from the page's own context, with the viewer's token: refused by the API.
    answer = page.evaluate(
        """async (ws) => {
            const r = await fetch(`/v1/workspaces/${ws}/invitations`, {
                method: 'POST',
                headers: {
                    'Authorization': 'Bearer ' + localStorage.getItem('plutarc.session'),
                    'Content-Type': 'application/json',
                },
                body: JSON.stringify({email: 'eve@example.com', role: 'viewer'}),
            });
            return {status: r.status, type: r.headers.get('content-type'), body: await r.json()};
        }""",
        ws,
    )
    assert answer["status"] == 403
    assert answer["type"] == "application/problem+json"
    assert answer["body"]["code"] == "access.forbidden"


def test_bad_input_in_the_invite_form_is_answered_beside_its_field(
    live: LivePlatform, context: BrowserContext, scene: Scene
) -> None:
    owner, _, owner_email = scene.user("ines")
    ws = scene.organisation(owner, "Input Desk")
    page = context.new_page()
    log_in(page, live.base_url, owner_email)
    page.goto(f"{live.base_url}/w/{ws}/members")
    expect(page.get_by_role("cell", name="Ines (you)", exact=True)).to_be_visible()
    expect(page.get_by_text("No invitations yet.")).to_be_visible()

    page.get_by_label("Email").fill("not-an-email")
    page.get_by_label("Expires in (days)").fill("99")
    page.get_by_role("button", name="Send invitation").click()
    email, days = page.get_by_label("Email"), page.get_by_label("Expires in (days)")
    expect(email).to_have_attribute("aria-invalid", "true")
    expect(page.locator(f"#{field_id(page, 'Email')}-error")).to_contain_text("email")
    expect(days).to_have_attribute("aria-invalid", "true")
    expect(page.locator(f"#{field_id(page, 'Expires in (days)')}-error")).to_contain_text("30")
    check_page(page, "invite-errors")

    page.get_by_label("Email").fill("ivan@example.com")
    page.get_by_label("Expires in (days)").fill("")
    page.get_by_role("button", name="Send invitation").click()
    expect(page.get_by_label("Invitation link")).to_have_value(re.compile("token=pli_"))
    expect(email).not_to_have_attribute("aria-invalid", "true")
    expect(page.get_by_role("cell", name="ivan@example.com", exact=True)).to_be_visible()

    # The workspace's risk defaults: a malformed amount is answered beside its field.
    page.get_by_role("link", name="Overview").click()
    page.get_by_label("Max position").fill("lots")
    page.get_by_label("Max open orders").fill("5")
    page.get_by_role("button", name="Save settings").click()
    expect(page.locator(f"#{field_id(page, 'Max position')}-error")).to_have_text(
        "This is not in the expected format."
    )
    expect(page.get_by_label("Max open orders")).not_to_have_attribute("aria-invalid", "true")
    check_page(page, "settings-errors")
    page.get_by_label("Max position").fill("1000")
    page.get_by_role("button", name="Save settings").click()
    expect(page.get_by_role("status")).to_have_text("Settings saved.")
    facts = page.locator("dl").nth(1)
    expect(facts).to_contain_text("max position")
    expect(facts).to_contain_text("1000")


def test_api_tokens_are_made_shown_once_and_revoked(
    live: LivePlatform, context: BrowserContext, scene: Scene
) -> None:
    owner, _, owner_email = scene.user("tara")
    ws = scene.organisation(owner, "Token Desk")
    page = context.new_page()
    log_in(page, live.base_url, owner_email)
    page.goto(f"{live.base_url}/w/{ws}/tokens")
    expect(page.get_by_text("No API tokens yet.")).to_be_visible()

    page.get_by_role("button", name="Create token").click()
    expect(page.locator(f"#{field_id(page, 'Token name')}-error")).to_be_visible()
    expect(page.locator("#permissions-error")).to_be_visible()
    check_page(page, "tokens-errors")

    page.get_by_label("Token name").fill("ci")
    page.get_by_label("members:read").check()
    page.get_by_role("button", name="Create token").click()
    expect(page.get_by_label("Token secret")).to_have_value(re.compile(r"^plt_"))
    row = page.locator("tr", has_text="members:read")
    expect(row).to_contain_text("ci")
    check_page(page, "tokens-owner")
    page.get_by_role("button", name="Revoke ci").click()
    expect(row).to_contain_text("revoked")


def test_bots_list_and_a_bot_page_toggle_mode_start_and_stop(
    live: LivePlatform, browser: Browser, context: BrowserContext, scene: Scene
) -> None:
    owner, _, owner_email = scene.user("bea")
    ws = scene.organisation(owner, "Bot Desk")
    page = context.new_page()
    log_in(page, live.base_url, owner_email)
    page.goto(f"{live.base_url}/w/{ws}/bots")
    expect(page.get_by_text("No bots in this workspace yet.")).to_be_visible()
    sessions = {
        "always_on": False,
        "time_zone": "Asia/Tokyo",
        "windows": [
            {"days": ["mon", "tue", "wed", "thu", "fri"], "start": "09:00", "end": "15:00"}
        ],
    }
    bot_id = make_bot(scene, owner, ws, "Tokyo trend", sessions=sessions)
    page.get_by_role("link", name="Overview").click()
    page.get_by_role("link", name="Bots").click()
    row = page.locator("tr", has_text="Tokyo trend")
    expect(row).to_contain_text("BTC/USDT")
    expect(row.locator(".mode")).to_have_text("○ paper")
    expect(row).to_contain_text("stopped")
    check_page(page, "bots-owner")

    row.get_by_role("link", name="Tokyo trend").click()
    page.wait_for_url(f"**/w/{ws}/bots/{bot_id}")
    expect(page.get_by_role("heading", name="Tokyo trend")).to_be_visible()
    badge = page.locator("main .facts-line .mode")
    expect(badge).to_have_text("○ paper")
    expect(page.get_by_text("In Asia/Tokyo")).to_be_visible()
    expect(page.get_by_text(re.compile(r"^Mon, Tue, Wed, Thu, Fri 09:00.15:00$"))).to_be_visible()
    expect(page.get_by_text("No orders yet.")).to_be_visible()
    check_page(page, "bot-owner")

    page.get_by_role("button", name="Switch to testnet").click()
    expect(badge).to_have_text("◐ testnet")
    page.get_by_role("button", name="Switch to paper").click()
    expect(badge).to_have_text("○ paper")
    # Each switch is a new configuration version: the page shows the one in force.
    expect(page.locator("dd").first).to_contain_text("3")
    # Live asks for the bot's name typed out: the button stays disabled until it is.
    page.get_by_role("button", name="Switch to live…").click()
    go_live = page.get_by_role("button", name="Switch to live", exact=True)
    expect(go_live).to_be_disabled()
    page.get_by_label("Bot name, to confirm live").fill("Tokyo")
    expect(go_live).to_be_disabled()
    page.get_by_label("Bot name, to confirm live").fill("Tokyo trend")
    expect(go_live).to_be_enabled()
    check_page(page, "bot-confirm-live")
    page.get_by_role("button", name="Cancel").click()
    expect(badge).to_have_text("○ paper")
    # Carried through: live, with no paper order form on the page; then back to paper.
    page.get_by_role("button", name="Switch to live…").click()
    page.get_by_label("Bot name, to confirm live").fill("Tokyo trend")
    page.get_by_role("button", name="Switch to live", exact=True).click()
    expect(badge).to_have_text("● live")
    expect(page.get_by_role("heading", name="Place an order")).to_have_count(0)
    check_page(page, "bot-live")
    page.get_by_role("button", name="Switch to paper").click()
    expect(badge).to_have_text("○ paper")
    expect(page.get_by_role("heading", name="Place an order")).to_be_visible()
    expect(page.locator("dd").first).to_contain_text("5")
    with scene.http(owner) as http:
        versions = http.get(f"/v1/workspaces/{ws}/bots/{bot_id}/versions").json()["items"]
    assert [v["mode"] for v in versions] == [
        "paper",
        "live",
        "paper",
        "testnet",
        "paper",
    ]  # newest first
    assert all(v["config"] == versions[0]["config"] for v in versions), "the toggle changed nothing"

    page.get_by_role("button", name="Start").click()
    expect(page.locator("main .facts-line .status")).to_have_text("running")
    page.get_by_role("button", name="Stop").click()
    expect(page.locator("main .facts-line .status")).to_have_text("stopped")

    # A viewer sees the bot and no control over it.
    _, _, viewer_email = scene.member(owner, ws, "vick", "viewer")
    viewer_context = browser.new_context(viewport={"width": 1280, "height": 900})
    try:
        viewer = viewer_context.new_page()
        log_in(viewer, live.base_url, viewer_email)
        viewer.goto(f"{live.base_url}/w/{ws}/bots/{bot_id}")
        expect(viewer.get_by_role("heading", name="Tokyo trend")).to_be_visible()
        expect(viewer.get_by_text("No orders yet.")).to_be_visible()
        expect(viewer.get_by_role("heading", name="Controls")).to_have_count(0)
        controls = viewer.locator("main").get_by_role(
            "button", name=re.compile("Start|Stop|Switch")
        )
        assert controls.count() == 0
        check_page(viewer, "bot-viewer")
        # A bot that is not there: the problem in words, and a way to try again.
        viewer.goto(f"{live.base_url}/w/{ws}/bots/{uuid4()}")
        expect(viewer.get_by_role("alert")).to_contain_text("This bot does not exist")
        expect(viewer.get_by_role("button", name="Try again")).to_be_visible()
        check_page(viewer, "bot-error")
    finally:
        viewer_context.close()


def place_paper_order(scene: Scene, token: str, base: str, order: dict[str, Any]) -> dict[str, Any]:
    """Place an order of a paper bot, asked again while the gateway does not know the bot yet
    (it learns of bots from the bots service's events a moment after the API, and until then
    answers exchange.bot_not_found, placing nothing): the order as placed."""
    placed: dict[str, Any] = {}
    with scene.http(token) as http:

        def done() -> bool:
            r = http.post(f"{base}/orders", json=order)
            if r.status_code == 404 and r.json()["code"] == "exchange.bot_not_found":
                return False
            assert r.status_code == 201, r.text
            placed.update(r.json())
            return True

        wait_until(done, what=f"a paper {order['side']} order placed")
    return placed


def test_a_bot_page_charts_its_candles_and_a_fill_live(
    live: LivePlatform, context: BrowserContext, scene: Scene
) -> None:
    owner, _, owner_email = scene.user("cleo")
    ws = scene.organisation(owner, "Chart Desk")
    bot_id = make_bot(scene, owner, ws, "Charted")
    page = context.new_page()
    log_in(page, live.base_url, owner_email)
    page.goto(f"{live.base_url}/w/{ws}/bots/{bot_id}")
    chart = page.locator("figure.chart")
    expect(chart).to_have_attribute("data-state", "ready")
    # Other tests may have published candles of this market (the broker is shared): counted.
    before = int(chart.get_attribute("data-candles") or "0")
    if before == 0:
        expect(page.get_by_text(re.compile("No candles yet for this market"))).to_be_visible()
    page.get_by_role("button", name="Start").click()
    expect(page.locator("main .facts-line .status")).to_have_text("running")

    base = f"/v1/workspaces/{ws}/bots/{bot_id}"
    placed_order = place_paper_order(
        scene, owner, base, {"side": "buy", "type": "market", "quantity": "0.5"}
    )
    [fill] = placed_order["fills"]
    # The fill arrives live and is marked, before any candle is there to put it on.
    expect(chart).to_have_attribute("data-fills", "1")
    # Candles of the fill's minute and the four before, as the candle processor publishes them;
    # the page asks for newer candles every few seconds and draws them in.
    minute = datetime.fromisoformat(fill["at"]).replace(second=0, microsecond=0)
    live.publish_candles(
        "binance",
        "BTC/USDT",
        [
            Candle(
                width="1m",
                opens_at=minute - timedelta(minutes=4 - i),
                open=str(98 + i),
                high=str(100 + i),
                low=str(97 + i),
                close=str(99 + i),
                volume="3",
                trades=4,
            )
            for i in range(5)
        ],
    )
    expect(chart).to_have_attribute("data-candles", str(before + 5), timeout=30_000)
    summary = page.locator("#chart-summary")
    expect(summary).to_contain_text(f"BTC/USDT on binance, 1m candles: {before + 5} shown")
    expect(summary).to_contain_text("last close 103")
    expect(summary).to_contain_text("1 fill marked (1 buy, 0 sell); 0 open limit orders")
    # A resting limit order is drawn as a price line while it is open.
    with scene.http(owner) as http:
        resting = {
            "side": "buy",
            "type": "limit",
            "quantity": "1",
            "price": "90",
            "post_only": True,
        }
        r = http.post(f"{base}/orders", json=resting)
        assert r.status_code == 201, r.text
    expect(summary).to_contain_text("1 open limit order drawn as a line")
    expect(page.locator("#tv-attr-logo")).to_have_count(1)  # the chart itself is drawn
    check_page(page, "bot-chart")
    # The live stream is the workspace's: another bot's fill is not this chart's. It comes first,
    # then this bot's sell; with the other's buy counted, "1 buy, 1 sell" would never be shown.
    other = make_bot(scene, owner, ws, "Other")
    other_base = f"/v1/workspaces/{ws}/bots/{other}"
    with scene.http(owner) as http:
        assert http.post(f"{other_base}/start").status_code == 200
    place_paper_order(
        scene, owner, other_base, {"side": "buy", "type": "market", "quantity": "0.5"}
    )
    place_paper_order(scene, owner, base, {"side": "sell", "type": "market", "quantity": "0.25"})
    expect(summary).to_contain_text("2 fills marked (1 buy, 1 sell)")
    expect(chart).to_have_attribute("data-markers", "2")  # a buy and a sell on the same bar
    # The realised PnL line ends where the bot's paper position's PnL is now.
    with scene.http(owner) as http:
        [position] = http.get(f"{base}/positions").json()["items"]
    expect(summary).to_contain_text(f"Realised PnL {position['realised_pnl']} (fees included)")
    # On another interval the chart is built again from the API, the fills still on it.
    page.get_by_label("Interval").select_option("5m")
    expect(summary).to_contain_text("BTC/USDT on binance, 5m candles:")
    expect(chart).to_have_attribute("data-fills", "2")


def test_strategy_library_versions_diff_and_a_new_version_form(
    live: LivePlatform, browser: Browser, context: BrowserContext, scene: Scene
) -> None:
    owner, _, owner_email = scene.user("sia")
    ws = scene.organisation(owner, "Strategy Desk")
    with scene.http(owner) as http:
        made = http.post(
            f"/v1/workspaces/{ws}/strategies", json={"name": "Trend", "spec": STRATEGY}
        )
        assert made.status_code == 201, made.text
        strategy_id = made.json()["strategy_id"]
        spec = {**STRATEGY, "timeframe": "4h"}
        r = http.post(f"/v1/workspaces/{ws}/strategies/{strategy_id}/versions", json={"spec": spec})
        assert r.status_code == 201, r.text
    page = context.new_page()
    log_in(page, live.base_url, owner_email)
    # Logged in, the personal workspace: its library is empty, and says so.
    page.get_by_role("link", name="Strategies").click()
    expect(page.get_by_text("No strategies in this workspace yet.")).to_be_visible()
    page.goto(f"{live.base_url}/w/{ws}")
    page.get_by_role("link", name="Strategies").click()
    row = page.locator("tr", has_text="Trend")
    expect(row).to_contain_text("v2")
    check_page(page, "strategies-owner")

    row.get_by_role("link", name="Trend").click()
    page.wait_for_url(f"**/w/{ws}/strategies/{strategy_id}")
    expect(page.get_by_role("heading", name="Latest version (v2)")).to_be_visible()
    expect(page.get_by_text("fast = 9")).to_be_visible()
    # The diff of v1 against v2, by a sign and a word.
    changes = page.get_by_role("list", name="Changes")
    expect(changes).to_contain_text("changed timeframe 1h → 4h")
    page.get_by_label("To version").select_option("1")
    expect(page.get_by_text("The two versions are the same.")).to_be_visible()
    page.get_by_label("To version").select_option("2")
    # Bad JSON is answered beside the field; a spec the API refuses too.
    spec_field = page.get_by_label("Spec (JSON)")
    spec_field.fill("{not json")
    page.get_by_role("button", name="Publish version").click()
    expect(page.locator("#spec-json-error")).to_contain_text("not valid JSON")
    expect(spec_field).to_have_attribute("aria-invalid", "true")
    spec_field.fill('{"timeframe": "7h", "components": []}')
    page.get_by_role("button", name="Publish version").click()
    expect(page.locator("#spec-json-error")).to_contain_text("timeframe: ")
    expect(page.locator("#spec-json-error")).to_contain_text("components: ")
    check_page(page, "strategy-owner")

    _, _, viewer_email = scene.member(owner, ws, "vito", "viewer")
    viewer_context = browser.new_context(viewport={"width": 1280, "height": 900})
    try:
        viewer = viewer_context.new_page()
        log_in(viewer, live.base_url, viewer_email)
        viewer.goto(f"{live.base_url}/w/{ws}/strategies/{strategy_id}")
        expect(viewer.get_by_role("heading", name="Latest version (v2)")).to_be_visible()
        expect(viewer.get_by_role("heading", name="Versions", exact=True)).to_be_visible()
        expect(viewer.get_by_role("list", name="Changes")).to_contain_text("1h → 4h")
        expect(viewer.get_by_role("heading", name="New version")).to_have_count(0)
        assert viewer.locator("main textarea, main form").count() == 0
        check_page(viewer, "strategy-viewer")
    finally:
        viewer_context.close()
