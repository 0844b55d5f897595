"""The dashboard's first load on loopback (issue 13: under 1 s to interactive; its JavaScript under
300 KB gzipped).

The build as `make web` makes it, served by the API of the real platform (e2e/live.py: Kafka, the
services, the API). In Debian's Chromium through Playwright, each load in a fresh browser context
(nothing cached): from the navigation until the page can be used, that is
- the login page, signed out: its Log in button on screen;
- the members page, signed in (the session token put in place before the app starts): the
  caller's own row of the members table on screen, after /v1/me, /v1/me/workspaces, /access and
  /members answered.
Then the same members page reloaded in a warm context (the hashed assets cached). Then a bot page
with 10,000 fills on its chart and live fills drawn in (bench/chart_bench.py).
"""

from __future__ import annotations

import asyncio
import gzip
import json
import os
import statistics
import time
from collections.abc import Iterator
from pathlib import Path

from e2e.browser import CHROMIUM, CHROMIUM_ARGS, Scene, build_dashboard
from e2e.conftest import fresh_identity_topics
from e2e.live import LivePlatform

from . import chart_bench


def _sizes(dist: Path) -> Iterator[str]:
    """What the first load fetches (the files index.html names) and what is fetched on demand
    (the chart library, when a bot page first shows its chart)."""
    html = (dist / "index.html").read_text()
    for kind in ("js", "css"):
        files = sorted((dist / "assets").glob(f"*.{kind}"))
        first = [f for f in files if f"/assets/{f.name}" in html]
        later = [f for f in files if f not in first]
        for what, group in (("first load", first), ("on demand", later)):
            if not group:
                continue
            raw = sum(f.stat().st_size for f in group)
            packed = sum(len(gzip.compress(f.read_bytes(), 9)) for f in group)
            yield (
                f"dashboard: {kind}, {what}: {len(group)} file(s), {raw / 1024:.0f} KB, "
                f"{packed / 1024:.1f} KB gzipped"
            )


def _line(what: str, seconds: list[float]) -> str:
    ms = sorted(s * 1000 for s in seconds)
    return (
        f"dashboard: {what}: p50 {statistics.median(ms):.0f} ms, max {ms[-1]:.0f} ms "
        f"({len(ms)} loads)"
    )


def run(
    base: Path, quick: bool = False, bootstrap: str | None = None, loads: int = 10
) -> Iterator[str]:
    dist = build_dashboard()
    yield from _sizes(dist)
    if not os.access(CHROMIUM, os.X_OK):
        yield "dashboard: first load skipped (no /usr/bin/chromium: apt-get install chromium)"
        return
    assert bootstrap is not None
    from playwright.sync_api import sync_playwright

    loads = 3 if quick else loads
    asyncio.run(fresh_identity_topics(bootstrap))
    live = LivePlatform(bootstrap, base / "dashboard", web_dir=dist).start()
    try:
        scene = Scene(live.base_url)
        token, _user_id, _email = scene.user("bench")
        ws = scene.organisation(token, "Bench Desk")
        members = f"{live.base_url}/w/{ws}/members"
        with sync_playwright() as p:
            browser = p.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS)
            try:
                login, cold, warm = [], [], []
                for _ in range(loads):
                    context = browser.new_context()
                    page = context.new_page()
                    t0 = time.perf_counter()
                    page.goto(f"{live.base_url}/login")
                    page.get_by_role("button", name="Log in").wait_for()
                    login.append(time.perf_counter() - t0)
                    context.close()

                    context = browser.new_context()
                    context.add_init_script(
                        f"localStorage.setItem('plutarc.session', {json.dumps(token)})"
                    )
                    page = context.new_page()
                    t0 = time.perf_counter()
                    page.goto(members)
                    page.get_by_role("cell", name="Bench (you)", exact=True).wait_for()
                    cold.append(time.perf_counter() - t0)
                    t0 = time.perf_counter()
                    page.reload()
                    page.get_by_role("cell", name="Bench (you)", exact=True).wait_for()
                    warm.append(time.perf_counter() - t0)
                    context.close()
                yield _line("login page, cold, to interactive", login)
                yield _line("members page signed in, cold, to its data on screen", cold)
                yield _line("members page signed in, reloaded warm", warm)
                context = browser.new_context(viewport={"width": 1280, "height": 900})
                context.add_init_script(
                    f"localStorage.setItem('plutarc.session', {json.dumps(token)})"
                )
                try:
                    yield from chart_bench.measure(context.new_page(), scene, token, live.base_url)
                finally:
                    context.close()
            finally:
                browser.close()
    finally:
        live.stop()
