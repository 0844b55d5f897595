"""Metrics are not for the public: the API's port has no /metrics (it is on the ops port, see
e2e/test_bad_input.py), while the probes stay where load balancers look for them."""

from __future__ import annotations

import httpx


async def test_the_public_port_serves_no_metrics_but_keeps_the_probes(
    http: httpx.AsyncClient,
) -> None:
    metrics = await http.get("/metrics")
    assert metrics.status_code == 404 and metrics.json()["code"] == "request.not_found"
    assert (await http.get("/health")).status_code == 200
    assert (await http.get("/ready")).status_code == 200
