"""The shape's moving parts: reaction latency (event stored -> adapter called) and a timer pass.

Both run on identity as it is built (bootstrap.build), on a SQLite store in a temporary folder:
- reactions: an invitation with an accept link records an email intent with the invitation; the
  adapter worker (woken by the save) calls a fake mailer. Latency is from the save's return to the
  adapter's call.
- timer: `due` invitations (in 1,000 workspaces) and `live` sessions past nothing; one pass of the
  expire-invitations timer: deciding (the read model's due heap) and the whole pass (commands in
  batches of 500 through the idempotent command path, every expiry stored as an event).
"""

from __future__ import annotations

import asyncio
import hashlib
import time
from collections.abc import Iterator
from datetime import timedelta
from pathlib import Path
from typing import Any
from uuid import uuid4

from plutarc_access import RegoEngine
from plutarc_contracts import identity as c
from plutarc_contracts.system import IntentRecorded
from plutarc_identity.bootstrap import build
from plutarc_identity.domain import Workspace
from plutarc_identity.settings import IdentitySettings
from plutarc_identity.timers import Expiries, expire_invitations
from plutarc_runtime.store import Meta
from plutarc_testkit.harness import Harness

from .common import percentiles

HASH = "$argon2id$v=19$m=65536,t=3,p=4$c2FsdHNhbHRzYWx0$aGFzaGhhc2hoYXNoaGFzaGhhc2hoYXNo"


def token(secret: str) -> str:
    return hashlib.sha256(secret.encode()).hexdigest()


class StampingMailer:
    def __init__(self) -> None:
        self.called: dict[str, float] = {}
        self.event = asyncio.Event()

    async def __call__(self, intent: IntentRecorded) -> dict[str, Any]:
        self.called[intent.key] = time.perf_counter()
        self.event.set()
        return {"sent": True}


async def _reactions(base: Path, samples: int) -> list[float]:
    mailer = StampingMailer()
    spec = build(IdentitySettings(), adapters={"email": mailer}, policy=RegoEngine())
    h = Harness(spec, sqlite_path=base / f"reactions-{uuid4().hex[:6]}.sqlite")
    owner_id = str(uuid4())
    owner = f"user:{owner_id}"
    h.ok(
        "anonymous",
        c.RegisterUser(
            user_id=owner_id,
            personal_workspace_id=str(uuid4()),
            email="owner@example.com",
            display_name="Owner",
            password_hash=HASH,
        ),
    )
    ws = str(uuid4())
    h.ok(owner, c.CreateOrganisation(workspace_id=ws, name="Desk"))
    worker = h.worker(poll_interval=1.0)
    stop = asyncio.Event()
    task = asyncio.create_task(worker.run(stop))
    latencies: list[float] = []
    try:
        await asyncio.sleep(0.2)
        for i in range(samples):
            mailer.event.clear()
            secret = uuid4().hex
            await asyncio.to_thread(
                h.ok,
                owner,
                c.InviteMember(
                    workspace_id=ws,
                    invitation_id=str(uuid4()),
                    email=f"u{i}@example.com",
                    role="viewer",
                    token_hash=token(secret),
                    accept_url=f"https://plutarc.example/i#{secret}",
                ),
            )
            stored = time.perf_counter()
            await asyncio.wait_for(mailer.event.wait(), 5)
            assert len(mailer.called) == i + 1
            called = max(mailer.called.values())
            latencies.append((called - stored) * 1000)
    finally:
        stop.set()
        await task
        h.close()
    return latencies


def _seed(h: Harness, due: int, per_workspace: int = 100) -> None:
    """`due` invitations expiring in a day, stored directly (100 per workspace, one save each)."""
    owner = "00000000-0000-7000-8000-000000000001"
    now = h.clock.now()
    for _ in range(due // per_workspace):
        ws = Workspace.create(str(uuid4()), "organisation", "Desk", owner, now)
        for i in range(per_workspace):
            ws.invite(
                owner,
                str(uuid4()),
                f"u{i}@example.com",
                "viewer",
                token(str(i)),
                timedelta(days=1),
                now,
            )
        h.store.save(ws, meta=Meta("user:" + owner, "bench-seed"))


def run(base: Path, quick: bool = False, samples: int = 300, due: int = 100_000) -> Iterator[str]:
    if quick:
        samples, due = 50, 5_000
    latencies = asyncio.run(_reactions(base, samples))
    yield (
        f"reaction latency, event stored -> adapter called ({samples} invitations): "
        + percentiles(latencies)
    )

    spec = build(IdentitySettings(), adapters={}, policy=RegoEngine())
    h = Harness(spec, sqlite_path=base / f"timer-{uuid4().hex[:6]}.sqlite")
    t0 = time.perf_counter()
    _seed(h, due)
    yield f"timer: seeded {due:,} pending invitations in {time.perf_counter() - t0:.1f} s"
    h.clock.advance(timedelta(days=2))
    models = h.models
    t0 = time.perf_counter()
    with models.lock:
        commands = expire_invitations(h.clock.now(), models)
    decide = time.perf_counter() - t0
    yield (
        f"timer decide: {due:,} due invitations found and batched into {len(commands)} commands "
        f"in {decide * 1000:.0f} ms"
    )
    t0 = time.perf_counter()
    issued = h.timers.run_due()
    whole = time.perf_counter() - t0
    expired = len(models.get(Expiries).invitations.deadline)
    yield (
        f"timer pass: {issued} commands, {due:,} invitations expired and stored as events in "
        f"{whole:.2f} s ({due / whole:,.0f} expiries/s); still pending after: {expired}"
    )
    h.close()
