"""The compute service's own metrics, computed from the fleet at each scrape of ``/metrics``.

- ``plutarc_compute_hosts{provider,state}``: hosts by state (new, waking, running, draining,
  asleep, failed, released) and ``deferred``, those kept past their window for an exposure;
- ``plutarc_compute_lead_seconds{provider}``: how long before a window its host is woken;
- counters of the service's history: ``plutarc_compute_window_misses_total`` (a host not running
  at its window's start), ``..._provisioning_failures_total``, ``..._hosts_provisioned_total``,
  ``..._sleeps_deferred_total``, ``..._drain_deadlines_reached_total``,
  ``..._hosts_deprovisioned_total``.

The counters are folded from the service's own events, which the fleet reads from the start at
each start of the process: after a restart they carry on from the same totals.
"""

from __future__ import annotations

from collections.abc import Iterator

from prometheus_client.core import CounterMetricFamily, GaugeMetricFamily, Metric

from .views import COUNTED, Fleet

_HELP = {
    "window_misses": "Windows whose bot's host was not running at the window's start",
    "provisioning_failures": "Failed wake attempts (each retried, at the next size or given up)",
    "hosts_provisioned": "Hosts that came up",
    "sleeps_deferred": "Sleeps put off at a window's end for an open position or order",
    "drain_deadlines_reached": "Hosts released at the workspace's deadline while still exposed",
    "hosts_deprovisioned": "Hosts released",
}


class FleetMetrics:
    """A Prometheus collector over one `Fleet` (`ServiceSpec.collectors`)."""

    def __init__(self, fleet: Fleet) -> None:
        self.fleet = fleet

    def collect(self) -> Iterator[Metric]:
        fleet = self.fleet
        with fleet.lock:
            census = fleet.scheduler.census()
            counts = dict(fleet.counts)
            lead = fleet.scheduler.lead_times.lead(fleet.provider).total_seconds()
        provider = fleet.provider
        hosts = GaugeMetricFamily(
            "plutarc_compute_hosts",
            "Bots' hosts by state; deferred: kept past their window for an exposure",
            labels=["provider", "state"],
        )
        for state, n in census.items():
            hosts.add_metric([provider, state], n)
        yield hosts
        ahead = GaugeMetricFamily(
            "plutarc_compute_lead_seconds",
            "How long before a window its host is woken (from measured wake times)",
            labels=["provider"],
        )
        ahead.add_metric([provider], lead)
        yield ahead
        for name in COUNTED.values():
            counter = CounterMetricFamily(
                f"plutarc_compute_{name}", _HELP[name], labels=["provider"]
            )
            counter.add_metric([provider], counts[name])
            yield counter
