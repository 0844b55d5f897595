"""A strategy and a bot made in the browser (Debian's Chromium against the real platform): with an
empty library the New bot form points to the New strategy form; there, bad JSON and the API's
problems are answered beside their fields (nothing made), and a strategy started from a template
is created and shown. Then the New bot form on the bots page, bad input answered beside its field
from the API's problem (nothing made), a paper bot with a weekly session in its zone created and
shown on its page; and a viewer who is offered neither form. axe-core over every page, a
screenshot of each kept in var/test-artifacts/dashboard/."""

from __future__ import annotations

import re
from collections.abc import Iterator
from pathlib import Path

import pytest
from playwright.sync_api import BrowserContext, Page, expect

from .browser import (
    Scene,
    check_page,
    dashboard_platform,
    log_in,
    need_chromium,
)
from .live import LivePlatform

need_chromium()
expect.set_options(timeout=15_000)
pytestmark = pytest.mark.kafka


@pytest.fixture(scope="module")
def live(kafka_bootstrap: str, tmp_path_factory: pytest.TempPathFactory) -> Iterator[LivePlatform]:
    with dashboard_platform(kafka_bootstrap, Path(tmp_path_factory.mktemp("newbot"))) as platform:
        yield platform


def bots_of(scene: Scene, token: str, ws: str) -> list[dict]:
    with scene.http(token) as http:
        r = http.get(f"/v1/workspaces/{ws}/bots")
        assert r.status_code == 200, r.text
        return list(r.json()["items"])


def error_of(page: Page, label: str) -> str:
    field = page.get_by_label(label, exact=True)
    return f"#{field.get_attribute('id')}-error"


def test_a_paper_bot_with_a_session_made_in_the_browser(
    live: LivePlatform, context: BrowserContext, scene: Scene
) -> None:
    owner, _, email = scene.user("nina")
    ws = scene.organisation(owner, "Form Desk")
    page = context.new_page()
    log_in(page, live.base_url, email)
    page.goto(f"{live.base_url}/w/{ws}/bots")
    page.get_by_role("link", name="New bot").click()
    page.wait_for_url(f"**/w/{ws}/bots/new")
    # An empty library: the form says a bot runs a strategy, and leads to the New strategy form.
    page.get_by_role("link", name="Make a strategy").click()
    page.wait_for_url(f"**/w/{ws}/strategies/new")
    expect(page.get_by_role("heading", name="New strategy")).to_be_visible()
    expect(page.get_by_role("heading", name="Components")).to_be_visible()
    expect(page.locator("main dl")).to_contain_text("ma_crossover")
    spec = page.get_by_label("Spec (JSON)")
    expect(spec).to_contain_text('"grid"')  # started from the first template
    check_page(page, "strategy-new")

    # Bad JSON is said beside the field, and nothing is sent; the API's problems beside theirs.
    spec.fill("{not json")
    page.get_by_role("button", name="Create strategy").click()
    expect(page.locator("#spec-json-error")).to_contain_text("not valid JSON")
    page.get_by_label("Start from").select_option("trend")
    expect(spec).to_contain_text('"ma_crossover"')
    expect(page.locator("#spec-json-error")).to_have_count(0)
    page.get_by_role("button", name="Create strategy").click()  # no name
    expect(page.locator(error_of(page, "Name"))).to_be_visible()
    page.get_by_label("Name").fill("Crossover")
    spec.fill('{"timeframe": "7h", "components": []}')
    page.get_by_role("button", name="Create strategy").click()
    expect(page.locator("#spec-json-error")).to_contain_text("timeframe: ")
    expect(spec).to_have_attribute("aria-invalid", "true")
    check_page(page, "strategy-new-errors")
    with scene.http(owner) as http:
        made = http.get(f"/v1/workspaces/{ws}/strategies").json()["items"]
        assert made == [], "bad input made nothing"

    # From the trend template, by keyboard: the strategy's page shows its version 1.
    page.get_by_label("Start from").select_option("trend")
    page.get_by_label("Name").press("Enter")
    page.wait_for_url(re.compile(rf"/w/{ws}/strategies/[0-9a-f-]+$"))
    expect(page.get_by_role("heading", name="Crossover")).to_be_visible()
    expect(page.get_by_text("fast = 9")).to_be_visible()

    page.goto(f"{live.base_url}/w/{ws}/bots/new")
    expect(page.get_by_role("heading", name="New bot")).to_be_visible()
    expect(page.get_by_label("Strategy")).to_contain_text("Crossover (version 1)")
    check_page(page, "bot-new")

    # Bad input: no name and a symbol the venue would not list; answered beside each field.
    page.get_by_label("Symbol").fill("btc-usdt")
    page.get_by_role("button", name="Create bot").click()
    expect(page.locator(error_of(page, "Name"))).to_be_visible()
    expect(page.locator(error_of(page, "Symbol"))).to_be_visible()
    expect(page.get_by_label("Name")).to_have_attribute("aria-invalid", "true")
    check_page(page, "bot-new-errors")
    assert bots_of(scene, owner, ws) == [], "bad input made nothing"

    # A paper bot trading weekdays 09:00-15:00 in Tokyo, chosen by keyboard where it can be.
    page.get_by_label("Name").fill("Tokyo open")
    page.get_by_label("Symbol").fill("ETH/USDT")
    page.get_by_label("Venue", exact=True).select_option("bybit")
    page.get_by_label("Trade only in a weekly session").check()
    page.get_by_label("Time zone").select_option("Asia/Tokyo")
    page.get_by_label("From").fill("09:00")
    page.get_by_label("Until").fill("15:00")
    page.get_by_label("At the session's end").select_option("flatten")
    check_page(page, "bot-new-session")
    page.get_by_label("Until").press("Enter")
    page.wait_for_url(re.compile(rf"/w/{ws}/bots/[0-9a-f-]+$"))
    expect(page.get_by_role("heading", name="Tokyo open")).to_be_visible()
    expect(page.locator("main .facts-line .mode")).to_have_text("○ paper")
    expect(page.get_by_text("In Asia/Tokyo")).to_be_visible()
    [bot] = bots_of(scene, owner, ws)
    config = bot["config"]
    assert (config["market"]["venue"], config["market"]["symbol"]) == ("bybit", "ETH/USDT")
    assert config["sessions"]["time_zone"] == "Asia/Tokyo"
    assert config["sessions"]["end_rule"] == "flatten"
    assert config["sessions"]["windows"] == [
        {
            "days": ["mon", "tue", "wed", "thu", "fri"],
            "start": "09:00",
            "end": "15:00",
            "overnight": False,
        }
    ]
    assert (bot["state"], bot["mode"]) == ("stopped", "paper")


def test_a_viewer_is_offered_no_new_bot_or_strategy_form(
    live: LivePlatform, context: BrowserContext, scene: Scene
) -> None:
    owner, _, _ = scene.user("olaf")
    ws = scene.organisation(owner, "Watch Desk")
    _, _, viewer_email = scene.member(owner, ws, "vik", "viewer")
    page = context.new_page()
    log_in(page, live.base_url, viewer_email)
    page.goto(f"{live.base_url}/w/{ws}/bots")
    expect(page.get_by_text("No bots in this workspace yet.")).to_be_visible()
    expect(page.get_by_role("link", name="New bot")).to_have_count(0)
    page.goto(f"{live.base_url}/w/{ws}/strategies")
    expect(page.get_by_text("No strategies in this workspace yet.")).to_be_visible()
    expect(page.get_by_role("link", name="New strategy")).to_have_count(0)
