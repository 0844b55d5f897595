"""The dashboard's venue connections and usage pages in Debian's Chromium against the real platform
(Kafka, identity, bots, the exchange gateway, the API serving the built app at /): a connection
added through the page with its keys sealed in the browser (the request carries only the sealed
box, which plutarc_exchange.sealing opens to the keys typed; the gateway's fingerprint comes back),
the keys never shown again, then removed after a confirmation; bad input answered beside its
field; a viewer who sees no write control and whose write the API refuses; the usage page's empty
state, its chart and table, and the sleep policy. axe-core over every page, a screenshot of each
kept in var/test-artifacts/dashboard/."""

from __future__ import annotations

import hashlib
import json
import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any
from uuid import uuid4

import pytest
from playwright.sync_api import Browser, BrowserContext, Page, Route, expect

from .browser import (
    Scene,
    check_page,
    chromium,
    dashboard_platform,
    log_in,
    make_bot,
    need_chromium,
)
from .exchange_gateway import sealing_key
from .live import LivePlatform

need_chromium()
expect.set_options(timeout=15_000)
pytestmark = pytest.mark.kafka
WS_URL = re.compile(r"/w/([0-9a-f-]+)$")
WRITE_CONTROLS = "button, input, textarea, form"


@pytest.fixture(scope="module")
def data_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return Path(tmp_path_factory.mktemp("venues"))


@pytest.fixture(scope="module")
def live(kafka_bootstrap: str, data_dir: Path) -> Iterator[LivePlatform]:
    with dashboard_platform(kafka_bootstrap, data_dir) as platform:
        yield platform


@pytest.fixture(scope="module")
def browser() -> Iterator[Browser]:
    with chromium() as running:
        yield running


@pytest.fixture
def context(browser: Browser) -> Iterator[BrowserContext]:
    context = browser.new_context(viewport={"width": 1280, "height": 900})
    context.set_default_timeout(15_000)
    try:
        yield context
    finally:
        context.close()


@pytest.fixture
def scene(live: LivePlatform) -> Scene:
    return Scene(live.base_url)


def signed_in(page: Page, base_url: str, email: str) -> str:
    """Log in: the personal workspace's id."""
    log_in(page, base_url, email)
    return WS_URL.search(page.url).group(1)  # type: ignore[union-attr]


def error_beside(page: Page, label: str) -> Any:
    field = page.get_by_label(label, exact=True)
    return page.locator(f"#{field.get_attribute('id')}-error")


def fetch(page: Page, method: str, url: str, body: dict[str, Any] | None = None) -> dict[str, Any]:
    """A write from the page's own context with its session token."""
    answer: dict[str, Any] = page.evaluate(
        """async ([method, url, body]) => {
            const r = await fetch(url, {
                method,
                headers: {
                    'Authorization': 'Bearer ' + localStorage.getItem('plutarc.session'),
                    'Content-Type': 'application/json',
                },
                body: body === null ? undefined : JSON.stringify(body),
            });
            return {status: r.status, body: await r.json()};
        }""",
        [method, url, body],
    )
    return answer


def test_a_connection_sealed_in_the_browser_is_added_never_shown_again_and_removed(
    live: LivePlatform, context: BrowserContext, scene: Scene, data_dir: Path
) -> None:
    token, _, email = scene.user("cora")
    page = context.new_page()
    ws = signed_in(page, live.base_url, email)
    page.get_by_role("link", name="Venue connections").click()
    page.wait_for_url(f"**/w/{ws}/connections")
    expect(page.get_by_role("heading", name="Venue connections")).to_be_visible()
    expect(page.get_by_text("No venue connections in this workspace yet.")).to_be_visible()
    check_page(page, "connections-empty")

    api_key, secret = f"key-{uuid4().hex}", f"secret-{uuid4().hex}"
    # Bad input: no label. The API's answer is shown beside the field, and the keys are gone.
    page.get_by_label("Testnet API key").fill(api_key)
    page.get_by_label("Testnet secret", exact=True).fill(secret)
    page.get_by_role("button", name="Add connection").click()
    expect(error_beside(page, "Label")).to_have_text("This cannot be empty.")
    expect(page.get_by_label("Label")).to_have_attribute("aria-invalid", "true")
    expect(page.get_by_label("Testnet API key")).to_have_value("")
    expect(page.get_by_label("Testnet secret", exact=True)).to_have_value("")
    check_page(page, "connections-error")
    # A secret without its key is answered in the browser, beside the key's field.
    page.get_by_label("Label").fill("Main")
    page.get_by_label("Testnet secret", exact=True).fill(secret)
    page.get_by_role("button", name="Add connection").click()
    expect(error_beside(page, "Testnet API key")).to_have_text("Give the API key too.")

    page.get_by_label("Testnet API key").fill(api_key)
    page.get_by_label("Testnet secret", exact=True).fill(secret)
    with page.expect_request(
        lambda r: r.method == "POST" and r.url.endswith(f"/v1/workspaces/{ws}/connections")
    ) as sent:
        page.get_by_role("button", name="Add connection").click()
    fingerprint = hashlib.sha256(api_key.encode()).hexdigest()[:8]
    expect(page.get_by_role("status")).to_contain_text(f"key fingerprint {fingerprint}")

    # What left the browser: the sealed box and its key id, no key in clear; the gateway's own
    # sealing code opens it to exactly the keys typed.
    raw = sent.value.post_data or ""
    assert api_key not in raw and secret not in raw
    body = json.loads(raw)
    assert set(body) == {"venue", "label", "key_id", "sealed"}
    assert (body["venue"], body["label"], list(body["sealed"])) == ("binance", "Main", ["testnet"])
    opened = sealing_key(data_dir / "exchange").open(body["key_id"], body["sealed"]["testnet"])
    assert (opened.api_key, opened.secret, opened.password) == (api_key, secret, None)

    # Never shown again: not in the form, the page or the browser's storage.
    expect(page.get_by_label("Testnet API key")).to_have_value("")
    expect(page.get_by_label("Testnet secret", exact=True)).to_have_value("")
    row = page.get_by_role("row").filter(has_text="Main")
    expect(row).to_contain_text(fingerprint)
    expect(row).to_contain_text("testnet")
    html = page.content()
    assert api_key not in html and secret not in html
    stored = page.evaluate("() => Object.keys(localStorage).concat(Object.keys(sessionStorage))")
    assert stored == ["plutarc.session"]
    check_page(page, "connections")
    # The API lists it, opened by the gateway (its fingerprint is of the key in the box).
    with scene.http(token) as http:
        listed = http.get(f"/v1/workspaces/{ws}/connections").json()["items"]
    assert [(c["label"], c["environments"], c["fingerprint"]) for c in listed] == [
        ("Main", ["testnet"], fingerprint)
    ]

    # Removing asks first; "Keep" changes nothing.
    page.get_by_role("button", name="Remove Main").click()
    page.get_by_role("button", name="Keep").click()
    expect(row).to_be_visible()
    page.get_by_role("button", name="Remove Main").click()
    check_page(page, "connections-remove")
    page.get_by_role("button", name="Confirm removing Main").click()
    expect(page.get_by_text("No venue connections in this workspace yet.")).to_be_visible()
    with scene.http(token) as http:
        assert http.get(f"/v1/workspaces/{ws}/connections").json()["items"] == []


def test_a_viewer_sees_connections_and_usage_without_a_write_control_and_the_api_refuses(
    live: LivePlatform, context: BrowserContext, scene: Scene
) -> None:
    owner, _, _ = scene.user("otto")
    ws = scene.organisation(owner, "Venue Desk")
    with scene.http(owner) as http:
        r = http.post(
            f"/v1/workspaces/{ws}/connections",
            json={
                "venue": "bybit",
                "label": "Desk keys",
                "credentials": {"testnet": {"api_key": "desk-key", "secret": "desk-secret"}},
            },
        )
        assert r.status_code == 201, r.text
        connection_id = r.json()["connection_id"]
    _, _, viewer_email = scene.member(owner, ws, "vic", "viewer")
    page = context.new_page()
    log_in(page, live.base_url, viewer_email)
    page.goto(f"{live.base_url}/w/{ws}/connections")
    row = page.get_by_role("row").filter(has_text="Desk keys")
    expect(row).to_contain_text(hashlib.sha256(b"desk-key").hexdigest()[:8])
    expect(page.get_by_text("A viewer sees the connections but cannot add")).to_be_visible()
    main = page.locator("main")
    assert main.locator(WRITE_CONTROLS + ", select").count() == 0
    expect(page.get_by_role("heading", name="Add a connection")).to_have_count(0)
    check_page(page, "connections-viewer")

    # The same writes from the page's own context, with the viewer's token: refused by the API.
    add = fetch(
        page,
        "POST",
        f"/v1/workspaces/{ws}/connections",
        {
            "venue": "binance",
            "label": "Mine",
            "credentials": {"testnet": {"api_key": "k", "secret": "s"}},
        },
    )
    remove = fetch(page, "DELETE", f"/v1/workspaces/{ws}/connections/{connection_id}")
    for answer in (add, remove):
        assert (answer["status"], answer["body"]["code"]) == (403, "access.forbidden")

    page.get_by_role("link", name="Usage").click()
    expect(page.get_by_role("heading", name="Sleep policy")).to_be_visible()
    expect(page.get_by_text("No bot was hosted in this period")).to_be_visible()
    expect(page.get_by_text("The default: never set.")).to_be_visible()
    assert main.locator(WRITE_CONTROLS).count() == 0  # the period select reads, it writes nothing
    check_page(page, "usage-viewer")
    policy = fetch(
        page, "PUT", f"/v1/workspaces/{ws}/compute/sleep-policy", {"drain_deadline_minutes": 30}
    )
    assert (policy["status"], policy["body"]["code"]) == (403, "access.forbidden")


TOTAL: dict[str, Any] = {
    "compute_hours": "60.00",
    "compute_cost": "1.2480",
    "address_hours": "720.00",
    "address_cost": "3.6000",
    "cost": "4.8480",
    "always_on_hours": "720.00",
    "always_on_cost": "18.5760",
    "saved_hours": "660.00",
    "saved_cost": "13.7280",
    "priced": True,
}


def statement(ws: str, bot_id: str) -> dict[str, Any]:
    """A usage statement of one bot, shaped as GET .../usage answers (UsageOut)."""
    return {
        "workspace_id": ws,
        "from": "2026-11-04T02:00:00Z",
        "to": "2026-12-04T02:00:00Z",
        "as_of": "2026-12-04T02:00:00Z",
        "currency": "USD",
        "total": TOTAL,
        "bots": [{**TOTAL, "bot_id": bot_id, "provider": "aws", "size": "t3.small"}],
    }


def test_usage_shows_the_empty_state_then_a_chart_and_table_and_the_sleep_policy(
    live: LivePlatform, context: BrowserContext, scene: Scene
) -> None:
    token, _, email = scene.user("uma")
    page = context.new_page()
    ws = signed_in(page, live.base_url, email)
    bot_id = make_bot(scene, token, ws, "Night owl")
    page.get_by_role("link", name="Usage").click()
    page.wait_for_url(f"**/w/{ws}/usage")
    # A fresh workspace: its bot never woke, so nothing was used.
    expect(page.get_by_text("No bot was hosted in this period")).to_be_visible()
    expect(page.get_by_text("The default: never set.")).to_be_visible()
    check_page(page, "usage-empty")
    # Bad input in the sleep policy form: the API's answer beside the field.
    page.get_by_label("Drain deadline (minutes, 0 for none)").fill("99999")
    page.get_by_role("button", name="Save sleep policy").click()
    expect(error_beside(page, "Drain deadline (minutes, 0 for none)")).to_contain_text("10080")
    check_page(page, "usage-policy-error")

    # A statement with a bot in it (the compute service, which would write one, is not part of
    # this platform): the page draws it as the API would answer it.
    def answer(route: Route) -> None:
        route.fulfill(
            status=200, content_type="application/json", body=json.dumps(statement(ws, bot_id))
        )

    page.route(re.compile(r".*/v1/workspaces/[^/]+/usage\?.*"), answer)
    page.get_by_label("Period").select_option("7")
    table = page.get_by_role("table", name="Usage per bot against an always-on host")
    night_owl = table.get_by_role("row").filter(has_text="Night owl")
    expect(night_owl).to_contain_text("60.00 h")
    expect(night_owl).to_contain_text("720.00 h")
    expect(night_owl).to_contain_text("$13.73")
    expect(night_owl).to_contain_text("aws t3.small")
    expect(table.get_by_role("row").filter(has_text="Total")).to_contain_text("660.00 h")
    expect(page.locator("p.summary")).to_contain_text("660.00 h and $13.73 saved")
    chart = page.get_by_role("img", name=re.compile("Bar chart of hours hosted"))
    expect(chart).to_have_attribute("aria-label", re.compile(r"\$13\.73 saved"))
    # Chart.js (a chunk of its own, loaded now) sized the canvas: it drew.
    expect(chart).to_have_attribute("style", re.compile("display: block"))
    check_page(page, "usage")
