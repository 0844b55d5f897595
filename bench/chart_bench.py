"""A bot page with 10,000 fills on its chart (issue 13: a live update drawn within 100 ms).

The real page of a real paper bot (the build, the API of e2e/live.py, Debian's Chromium through
Playwright), with the chart's two reads answered by Playwright from memory: 500 one-minute candles
and 10,000 fills spread over them (the API pages fills 200 at a time; the page reads 50 pages).
Then real paper market orders, placed from inside the page: each fill reaches the page on the live
stream (`exchange.order_filled`, the fill in its data, its side known from the order's
`exchange.order_accepted` before it), is added to the 10,000 markers, and the page waits for the
frame after the one it was drawn in. Measured:
- in the page, from the event to that frame (`data-draw-ms`, what the user waits for);
- from the order sent to that frame (the API, the gateway, Kafka and the live stream included);
- the chart's first load with the 10,000 fills (`data-load-ms`: the 51 reads and the first draw).
Playwright answers a read only while this process is inside a Playwright call: each order is
placed and waited for in one `page.evaluate`, so a read the page makes then (the newest fills,
when a fill's side is not known) never waits on Python.
"""

from __future__ import annotations

import json
import re
import statistics
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from typing import Any
from urllib.parse import parse_qs, urlparse

from plutarc_testkit.waiting import wait_until

from e2e.browser import Scene, make_bot

FILLS = 10_000
CANDLES = 500
UPDATES = 10
GOAL_MS = 100.0

PLACE_AND_WAIT = """async ([url, token, expected]) => {
  const figure = document.querySelector("figure.chart");
  const t0 = performance.now();
  const r = await fetch(url, {
    method: "POST",
    headers: {"Authorization": `Bearer ${token}`, "Content-Type": "application/json"},
    body: JSON.stringify({side: "buy", type: "market", quantity: "0.1"}),
  });
  if (r.status !== 201) return {status: r.status, body: await r.text()};
  const deadline = t0 + 10000;
  while (Number(figure.getAttribute("data-fills")) < expected) {
    if (performance.now() > deadline) return {status: "timeout", fills: figure.getAttribute("data-fills")};
    await new Promise((resolve) => requestAnimationFrame(resolve));
  }
  return {status: 201, total: performance.now() - t0,
          draw: Number(figure.getAttribute("data-draw-ms"))};
}"""


def _market(now: datetime) -> tuple[list[dict[str, Any]], list[dict[str, Any]]]:
    start = now.replace(second=0, microsecond=0) - timedelta(minutes=CANDLES)
    candles = []
    for i in range(CANDLES):
        price = 100 + (i % 40) / 4
        candles.append(
            {
                "opens_at": (start + timedelta(minutes=i)).isoformat(),
                "open": str(price),
                "high": str(price + 1),
                "low": str(price - 1),
                "close": str(price + 0.5),
                "volume": "5",
                "trades": 9,
            }
        )
    step = CANDLES * 60 / FILLS
    fills = [
        _fill(f"bench-{i}", start + timedelta(seconds=i * step), i % 2 == 0) for i in range(FILLS)
    ]
    return candles, fills


def _fill(fill_id: str, at: datetime, buy: bool) -> dict[str, Any]:
    return {
        "fill_id": fill_id,
        "order_id": "bench-order",
        "side": "buy" if buy else "sell",
        "quantity": "0.01",
        "price": "100",
        "fee": "0.001",
        "fee_currency": "USDT",
        "liquidity": "taker",
        "at": at.isoformat(),
    }


def measure(page: Any, scene: Scene, token: str, base_url: str) -> Iterator[str]:
    ws = scene.organisation(token, "Chart Bench")
    bot_id = make_bot(scene, token, ws, "Chart bench")
    base = f"/v1/workspaces/{ws}/bots/{bot_id}"
    with scene.http(token) as http:
        r = http.post(f"{base}/start")
        assert r.status_code == 200, r.text
    candles, fills = _market(datetime.now(UTC))
    meta = {"bot_id": bot_id, "venue": "binance", "symbol": "BTC/USDT", "interval": "1m"}

    def answer(route: Any) -> None:
        url = urlparse(route.request.url)
        query = {k: v[0] for k, v in parse_qs(url.query).items()}
        limit = int(query.get("limit", "50"))
        if url.path.endswith("/candles"):
            body: dict[str, Any] = {**meta, "items": candles[-limit:]}
        else:
            offset = int(query.get("cursor", "0"))
            newest = fills[::-1]
            items = newest[offset : offset + limit]
            more = offset + limit < len(newest)
            body = {"items": items, "next_cursor": str(offset + limit) if more else None}
        route.fulfill(status=200, content_type="application/json", body=json.dumps(body))

    page.route(re.compile(r"/bots/[^/]+/(fills|candles)(\?|$)"), answer)
    page.goto(f"{base_url}/w/{ws}/bots/{bot_id}")
    chart = page.locator("figure.chart")
    chart.and_(page.locator(f'[data-fills="{FILLS}"]')).wait_for(timeout=60_000)
    load_ms = float(chart.get_attribute("data-load-ms") or "nan")
    markers = chart.get_attribute("data-markers")
    yield (
        f"dashboard chart: first load with {FILLS:,} fills ({markers} markers, one per bar and "
        f"side) and {CANDLES} candles: {load_ms:.0f} ms"
    )

    def gateway_knows_bot() -> bool:
        with scene.http(token) as http:
            r = http.delete(f"{base}/orders")
            return r.status_code == 200

    wait_until(gateway_knows_bot, what="the gateway knows the bench bot")
    draws, totals = [], []
    for n in range(UPDATES):
        got = page.evaluate(PLACE_AND_WAIT, [f"{base_url}{base}/orders", token, FILLS + n + 1])
        assert got["status"] == 201, got
        draws.append(got["draw"])
        totals.append(got["total"])
    draws.sort()
    totals.sort()
    verdict = "within" if draws[-1] <= GOAL_MS else "OVER"
    yield (
        f"dashboard chart: live fill with {FILLS:,} on the chart, event to drawn: "
        f"p50 {statistics.median(draws):.0f} ms, max {draws[-1]:.0f} ms ({UPDATES} updates; "
        f"{verdict} the {GOAL_MS:.0f} ms goal)"
    )
    yield (
        f"dashboard chart: live fill, order sent to drawn (API, gateway, Kafka, stream): "
        f"p50 {statistics.median(totals):.0f} ms, max {totals[-1]:.0f} ms"
    )
