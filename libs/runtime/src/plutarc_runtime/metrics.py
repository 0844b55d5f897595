"""Prometheus metrics of one service, on a registry of its own (no process-global collectors)."""

from __future__ import annotations

from prometheus_client import CollectorRegistry, Counter, Gauge, Histogram, generate_latest


class Metrics:
    def __init__(self, service: str) -> None:
        self.registry = CollectorRegistry(auto_describe=True)
        labels = {"service": service}
        self.relay_lag = Gauge(
            "plutarc_relay_lag_events",
            "Stored events not yet published to Kafka by the outbox relay",
            registry=self.registry,
        )
        self.relay_published = Counter(
            "plutarc_relay_published_events",
            "Events published by the outbox relay",
            registry=self.registry,
        )
        self.consumer_lag = Gauge(
            "plutarc_consumer_lag_messages",
            "Messages on a partition not yet applied by a consumer",
            ["consumer", "topic", "partition"],
            registry=self.registry,
        )
        self.consumed = Counter(
            "plutarc_consumer_messages",
            "Messages a consumer handled, by outcome (applied, refused, duplicate, dead_lettered, accepted, rejected, replayed, failed); "
            "retried counts attempts put off because a dependency was down",
            ["consumer", "outcome"],
            registry=self.registry,
        )
        self.commands_handled = Counter(
            "plutarc_commands_handled",
            "Commands handled, by type and outcome (accepted, rejected, replayed)",
            ["type", "outcome"],
            registry=self.registry,
        )
        self.commands_failed = Counter(
            "plutarc_commands_failed",
            "Commands whose handler crashed (replied command.failed) or that were dead-lettered unreadable",
            ["type"],
            registry=self.registry,
        )
        self.handling_latency = Histogram(
            "plutarc_command_handling_seconds",
            "Time from a message's arrival to its outcome being stored, by message type",
            ["type"],
            buckets=(0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5),
            registry=self.registry,
        )
        self.intents = Counter(
            "plutarc_intents",
            "Intents carried out by adapters: completed, retried (one failed attempt) or failed "
            "(a permanent refusal, or given up)",
            ["adapter", "outcome"],
            registry=self.registry,
        )
        self.intent_latency = Histogram(
            "plutarc_intent_latency_seconds",
            "Time from an intent being recorded to its adapter's first call",
            ["adapter"],
            buckets=(0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 5),
            registry=self.registry,
        )
        self.timer_runs = Counter(
            "plutarc_timer_runs",
            "Timer passes, and the commands they issued",
            ["timer", "what"],
            registry=self.registry,
        )
        self.info = Gauge(
            "plutarc_service_info", "Service identity", list(labels), registry=self.registry
        )
        self.info.labels(**labels).set(1)

    def render(self) -> bytes:
        return generate_latest(self.registry)
