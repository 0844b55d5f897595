"""The dashboard in a real browser: Debian's Chromium driven by Playwright (which downloads no
browser of its own here), axe-core injected into a page, screenshots kept as test artifacts, and
the few API calls a journey needs to set the scene."""

from __future__ import annotations

import asyncio
import os
import re
import subprocess
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any
from uuid import uuid4

import httpx
import pytest
from playwright.sync_api import Browser, BrowserContext, Page, sync_playwright

from .conftest import SERVICES, fresh_identity_topics
from .live import LivePlatform
from .live_compute import ComputeOption

ROOT = Path(__file__).resolve().parents[1]
CHROMIUM = Path("/usr/bin/chromium")
CHROMIUM_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]
AXE = ROOT / "web" / "node_modules" / "axe-core" / "axe.min.js"
SCREENSHOTS = ROOT / "var" / "test-artifacts" / "dashboard"
"""Where each page's screenshot is kept (var/ is git-ignored)."""
PASSWORD = "correct horse battery"


def need_chromium() -> None:
    if not os.access(CHROMIUM, os.X_OK):
        pytest.skip(
            "Debian's chromium is not installed at /usr/bin/chromium, so the dashboard's browser "
            "tests cannot run: `make test` installs it when run as root; otherwise run "
            "`sudo apt-get install chromium`",
            allow_module_level=True,
        )


def build_dashboard() -> Path:
    """The dashboard as `make web` builds it (nothing to do when its inputs are unchanged)."""
    subprocess.run(["make", "-s", "web"], cwd=ROOT, check=True)
    return ROOT / "web" / "dist"


@contextmanager
def dashboard_platform(
    kafka_bootstrap: str, data_dir: Path, compute: ComputeOption | None = None
) -> Iterator[LivePlatform]:
    """The platform serving a fresh build of the dashboard, on fresh identity topics; with
    `compute`, the compute service too (on fresh topics of its own) and the option's clock."""
    dist = build_dashboard()
    contexts = (*SERVICES, "compute") if compute else SERVICES
    asyncio.run(fresh_identity_topics(kafka_bootstrap, contexts))
    platform = LivePlatform(kafka_bootstrap, data_dir, compute=compute, web_dir=dist).start()
    try:
        yield platform
    finally:
        platform.stop()


@contextmanager
def chromium() -> Iterator[Browser]:
    """Debian's Chromium under Playwright, with the flags this machine needs."""
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS)
        try:
            yield browser
        finally:
            browser.close()


VIEWPORT = {"width": 1280, "height": 900}


def open_context(browser: Browser, zone: str | None = None) -> BrowserContext:
    """A browser context of the usual size (and in time zone `zone`), 15 s per action."""
    options: dict[str, Any] = {"viewport": VIEWPORT}
    if zone is not None:
        options["timezone_id"] = zone
    context = browser.new_context(**options)
    context.set_default_timeout(15_000)
    return context


def accessibility_violations(page: Page) -> list[dict[str, Any]]:
    """axe-core's serious and critical violations on the page as it is now. Evaluated through
    the DevTools protocol, which the page's Content-Security-Policy does not govern."""
    if not page.evaluate("() => typeof window.axe !== 'undefined'"):
        page.evaluate(AXE.read_text(encoding="utf-8"))
    found: list[dict[str, Any]] = page.evaluate(
        """async () => {
            const r = await window.axe.run(document, {resultTypes: ['violations']});
            return r.violations.map(v => ({
                id: v.id, impact: v.impact, help: v.help,
                nodes: v.nodes.map(n => n.target.join(' ')),
            }));
        }"""
    )
    return [v for v in found if v["impact"] in ("serious", "critical")]


def check_page(page: Page, name: str) -> None:
    """Screenshot the page as a test artifact, then hold it to axe-core."""
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(SCREENSHOTS / f"{name}.png"), full_page=True)
    violations = accessibility_violations(page)
    assert not violations, f"{name}: accessibility violations {violations}"


class Scene:
    """Users and workspaces made over the API, for journeys that start past them."""

    def __init__(self, base_url: str) -> None:
        self.base_url = base_url

    def http(self, token: str | None = None) -> httpx.Client:
        headers = {"Authorization": f"Bearer {token}"} if token else {}
        return httpx.Client(base_url=self.base_url, headers=headers, timeout=30)

    def user(self, name: str) -> tuple[str, str, str]:
        """Register and log in: (token, user_id, email)."""
        email = f"{name}-{uuid4().hex[:8]}@example.com"
        with self.http() as http:
            r = http.post(
                "/v1/auth/register",
                json={"email": email, "password": PASSWORD, "display_name": name.title()},
            )
            assert r.status_code == 201, r.text
            token = http.post("/v1/auth/login", json={"email": email, "password": PASSWORD})
            assert token.status_code == 200, token.text
            return token.json()["token"], r.json()["user_id"], email

    def organisation(self, token: str, name: str) -> str:
        with self.http(token) as http:
            r = http.post("/v1/organisations", json={"name": name})
            assert r.status_code == 201, r.text
            return str(r.json()["workspace_id"])

    def member(self, owner: str, ws: str, name: str, role: str) -> tuple[str, str, str]:
        """A new user invited with `role`, who accepted."""
        user = self.user(name)
        with self.http(owner) as http:
            r = http.post(f"/v1/workspaces/{ws}/invitations", json={"email": user[2], "role": role})
            assert r.status_code == 201, r.text
            invitation = r.json()["token"]
        with self.http(user[0]) as http:
            r = http.post("/v1/invitations/accept", json={"token": invitation})
            assert r.status_code == 200, r.text
        return user


STRATEGY = {
    "timeframe": "1h",
    "components": [
        {"component": "ma_crossover", "params": {"fast": 9, "slow": 21}},
        {"component": "fixed_fraction", "params": {"fraction": 0.02}},
    ],
}


def make_bot(
    scene: Scene, token: str, ws: str, name: str, spec: dict[str, Any] = STRATEGY, **config: Any
) -> str:
    """A strategy (`spec`) and a paper bot pinning it (stopped), with a venue connection id for
    testnet: its bot_id."""
    with scene.http(token) as http:
        strategy = http.post(f"/v1/workspaces/{ws}/strategies", json={"name": name, "spec": spec})
        assert strategy.status_code == 201, strategy.text
        body = {
            "name": name,
            "strategy": {"strategy_id": strategy.json()["strategy_id"], "version": 1},
            "market": {"venue": "binance", "symbol": "BTC/USDT"},
            "connection_id": "conn-1",
            **config,
        }
        bot = http.post(f"/v1/workspaces/{ws}/bots", json={"config": body})
        assert bot.status_code == 201, bot.text
        return str(bot.json()["bot_id"])


def log_in(page: Page, base_url: str, email: str) -> None:
    """Through the login form, as a person would."""
    page.goto(f"{base_url}/login")
    page.get_by_label("Email").fill(email)
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Log in").click()
    page.wait_for_url(re.compile(r"/w/[0-9a-f-]+$"))
