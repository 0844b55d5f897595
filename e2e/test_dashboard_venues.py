"""The dashboard's venue connections and usage pages in Debian's Chromium against the real platform
(Kafka, identity, bots, the exchange gateway, the API serving the built app at /): a connection
added through the page with its keys sealed in the browser (the request carries only the sealed
box, which plutarc_exchange.sealing opens to the keys typed; the gateway's fingerprint comes back),
the keys never shown again, then removed after a confirmation; bad input answered beside its
field; a viewer who sees no write control and whose write the API refuses; the usage page's empty
state, its chart and table, and the sleep policy. axe-core over every page, a screenshot of each
kept in var/test-artifacts/dashboard/."""

from __future__ import annotations

import asyncio
import contextlib
import hashlib
import json
import re
import threading
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any
from uuid import uuid4

import pytest
from playwright.sync_api import BrowserContext, Page, expect
from plutarc_contracts import compute as c
from plutarc_testkit.waiting import wait_until

from .browser import (
    Scene,
    check_page,
    dashboard_platform,
    log_in,
    make_bot,
    need_chromium,
)
from .exchange_gateway import sealing_key
from .fake_compute import FakeCompute, fake_compute
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


def signed_in(page: Page, base_url: str, email: str) -> str:
    """Log in: the personal workspace's id."""
    log_in(page, base_url, email)
    return WS_URL.search(page.url).group(1)  # type: ignore[union-attr]


def error_beside(page: Page, label: str) -> Any:
    field = page.get_by_label(label, exact=True)
    return page.locator(f"#{field.get_attribute('id')}-error")


def at_200_percent(page: Page, name: str) -> None:
    """The page as a 1280-pixel window shows it at 200% zoom (640 CSS pixels): once laid out
    again (the chart redraws for its new width), nothing pushes it sideways (a wide table scrolls
    in its own region), and axe-core still passes; then back to the usual size."""
    page.set_viewport_size({"width": 640, "height": 450})
    try:
        page.wait_for_function(
            "() => document.documentElement.scrollWidth <= document.documentElement.clientWidth",
            timeout=5_000,
        )
        check_page(page, name)
    finally:
        page.set_viewport_size({"width": 1280, "height": 900})


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
    at_200_percent(page, "connections-200")
    # The API lists it, opened by the gateway (its fingerprint is of the key in the box).
    with scene.http(token) as http:
        listed = http.get(f"/v1/workspaces/{ws}/connections").json()["items"]
    assert [(c["label"], c["environments"], c["fingerprint"]) for c in listed] == [
        ("Main", ["testnet"], fingerprint)
    ]

    # Removing asks first; "Keep" changes nothing.
    page.get_by_role("button", name="Remove Main").click()
    expect(page.get_by_role("button", name="Keep")).to_be_focused()  # the safe answer
    page.keyboard.press("Enter")
    expect(row).to_be_visible()
    page.get_by_role("button", name="Remove Main").click()
    check_page(page, "connections-remove")
    page.get_by_role("button", name="Confirm removing Main").click()
    expect(page.get_by_text("No venue connections in this workspace yet.")).to_be_visible()
    with scene.http(token) as http:
        assert http.get(f"/v1/workspaces/{ws}/connections").json()["items"] == []
        # One added elsewhere (the CLI, another member) appears live, without a reload.
        r = http.post(
            f"/v1/workspaces/{ws}/connections",
            json={
                "venue": "okx",
                "label": "From the CLI",
                "credentials": {
                    "live": {"api_key": "cli-key", "secret": "cli-secret", "password": "pass"}
                },
            },
        )
        assert r.status_code == 201, r.text
    expect(page.get_by_role("row").filter(has_text="From the CLI")).to_contain_text("okx")


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


@pytest.fixture(scope="module")
def compute(kafka_bootstrap: str, live: LivePlatform) -> Iterator[Compute]:
    with Compute.running(kafka_bootstrap) as running:
        yield running


class Compute:
    """The stand-in compute service (e2e/fake_compute.py) on a loop of its own: it publishes the
    events a test gives it on compute.events.v1 and answers the API's compute commands."""

    def __init__(self, loop: asyncio.AbstractEventLoop, fake: FakeCompute) -> None:
        self.loop, self.fake = loop, fake

    @classmethod
    @contextlib.contextmanager
    def running(cls, bootstrap: str) -> Iterator[Compute]:
        loop = asyncio.new_event_loop()
        thread = threading.Thread(target=loop.run_forever, name="fake-compute", daemon=True)
        thread.start()
        context = fake_compute(bootstrap)
        try:
            fake = asyncio.run_coroutine_threadsafe(context.__aenter__(), loop).result(60)
            yield cls(loop, fake)
            asyncio.run_coroutine_threadsafe(context.__aexit__(None, None, None), loop).result(60)
        finally:
            loop.call_soon_threadsafe(loop.stop)
            thread.join(30)

    def publish(self, payload: Any, at: datetime) -> None:
        asyncio.run_coroutine_threadsafe(self.fake.publish(payload, at), self.loop).result(30)


def hosted_two_hours(compute: Compute, ws: str, bot_id: str) -> None:
    """The bot's host woke 4 h ago on an aws t3.small and went to sleep 2 h ago, keeping its
    address: 2 hours hosted, against 4 always on."""
    now = datetime.now(UTC).replace(microsecond=0)
    ids: dict[str, Any] = {"workspace_id": ws, "bot_id": bot_id}
    address = "203.0.113.9"
    for payload, at in [
        (
            c.ProvisioningRequested(
                **ids, provider="aws", attempt=1, size="t3.small", reason="window"
            ),
            now - timedelta(hours=4),
        ),
        (
            c.HostProvisioned(
                **ids, provider="aws", address=address, host_id="i-9", size="t3.small", took_ms=1
            ),
            now - timedelta(hours=4),
        ),
        (c.BotStartedOnHost(**ids, address=address), now - timedelta(hours=4)),
        (c.HostDrained(**ids, reason="flat"), now - timedelta(hours=2)),
        (c.HostDeprovisioned(**ids, address=address, address_kept=True), now - timedelta(hours=2)),
    ]:
        compute.publish(payload, at)


def test_usage_shows_the_empty_state_then_a_chart_and_table_and_the_sleep_policy(
    live: LivePlatform, compute: Compute, context: BrowserContext, scene: Scene
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
    # Bad input in the sleep policy form: the API's answer beside the field; then a good one.
    deadline = page.get_by_label("Drain deadline (minutes, 0 for none)")
    deadline.fill("99999")
    page.get_by_role("button", name="Save sleep policy").click()
    expect(error_beside(page, "Drain deadline (minutes, 0 for none)")).to_contain_text("10080")
    check_page(page, "usage-policy-error")
    deadline.fill("45")
    page.get_by_role("button", name="Save sleep policy").click()
    expect(page.get_by_text("waits at most 45 minutes")).to_be_visible()

    # The bot's host was up two hours.
    hosted_two_hours(compute, ws, bot_id)

    def statement_has_the_bot_asleep() -> bool:
        now = datetime.now(UTC)
        period = {"from": (now - timedelta(days=1)).isoformat(), "to": now.isoformat()}
        with scene.http(token) as http:
            usage = http.get(f"/v1/workspaces/{ws}/usage", params=period)
            host = http.get(f"/v1/workspaces/{ws}/bots/{bot_id}/host")
        assert usage.status_code == 200, usage.text
        return bool(usage.json()["bots"]) and host.json().get("state") == "asleep"

    # Live, the page reads again at each compute event; whichever event the stream brought
    # last, once the API's read models hold all five, another period shows them.
    wait_until(statement_has_the_bot_asleep, timeout=30, what="the bot's usage in the read model")
    page.get_by_label("Period").select_option("7")
    table = page.get_by_role("table", name="Usage per bot against an always-on host")
    night_owl = table.get_by_role("row").filter(has_text="Night owl")
    expect(night_owl).to_contain_text("aws t3.small")
    expect(night_owl).to_contain_text("asleep")
    cells = night_owl.get_by_role("cell")
    # host now, hours hosted, always-on, saved, cost, always-on cost, saved (USD); aws t3.small
    # at 0.0208 USD/h and its address at 0.005 USD/h (plutarc_compute.pricing).
    expect(cells.nth(1)).to_have_text("2.00 h")
    expect(cells.nth(2)).to_have_text("4.00 h")
    expect(cells.nth(3)).to_have_text("2.00 h")
    expect(table.get_by_role("row").filter(has_text="Total")).to_contain_text("2.00 h")
    expect(page.locator("p.summary")).to_contain_text("2.00 h hosted of 4.00 h always-on")
    chart = page.get_by_role("img", name=re.compile("Bar chart of hours hosted"))
    expect(chart).to_have_attribute("aria-label", re.compile("2.00 h hosted of 4.00 h"))
    # Chart.js (a chunk of its own, loaded now) sized the canvas: it drew.
    expect(chart).to_have_attribute("style", re.compile("display: block"))
    check_page(page, "usage")
    at_200_percent(page, "usage-200")
