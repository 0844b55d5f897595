"""Intents recorded straight into a store and carried out by the real worker: support's
adapters tested against the fake Bot API and a real SMTP server, without the rest of the service."""

from __future__ import annotations

from pathlib import Path
from typing import Any
from uuid import uuid4

from plutarc_contracts import default_registry
from plutarc_runtime.handling import Intent
from plutarc_runtime.intents import Adapter, new_intents
from plutarc_runtime.service import ServiceSpec
from plutarc_runtime.store import Meta
from plutarc_testkit.harness import Harness

CHAT = -1001234
LINKS = "https://plutarc.example/support/tickets"


def intents_harness(tmp_path: Path, adapters: dict[str, Adapter]) -> Harness:
    spec = ServiceSpec(name="support", registry=default_registry(), adapters=adapters)
    return Harness(spec, sqlite_path=tmp_path / f"support-{uuid4().hex[:6]}.sqlite")


def record(h: Harness, *intents: Intent) -> None:
    streams = new_intents(h.store, intents, h.clock.now())
    if streams:
        h.store.save(*streams, meta=Meta(actor="system:support", correlation_id=str(uuid4())))


def opened(ticket_id: str | None = None, **over: Any) -> Intent:
    tid = ticket_id or str(uuid4())
    body = {
        "kind": "ticket_opened",
        "ticket_id": tid,
        "workspace_id": "ws-1",
        "subject": "Bot stopped trading",
        "category": "bots",
        "priority": "high",
        "author": "user-1",
        **over,
    }
    return Intent("telegram", key=f"ticket_opened:{tid}", body=body)
