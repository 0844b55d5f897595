"""Support's auto-close timer over 100,000 open tickets (goal: a pass under 1 s, issue 9).

On the support service as it is built (bootstrap.build), on a SQLite store in a temporary folder:
`tickets` tickets waiting on their users, their last public message spread evenly over the 6 days
before now, are stored directly (saves of 500 tickets). Then:
- rebuild: a restarted service's `Inactivity` read model caught up from the store;
- a steady pass: the clock moves one timer interval (a minute), the few tickets whose 6 days of
  silence ended in it are warned: deciding, and the whole pass through the command path;
- catch-up: the clock moves 6 days at once (after an outage, say), every ticket falls due: the
  decision, and the whole pass storing every warning (commands in batches of 500).
"""

from __future__ import annotations

import time
from collections.abc import Iterator
from datetime import timedelta
from pathlib import Path
from typing import Any
from uuid import uuid4

from plutarc_access import Memberships, RegoEngine
from plutarc_contracts import support as s
from plutarc_runtime.store import Meta
from plutarc_support.bootstrap import build
from plutarc_support.domain import Ticket
from plutarc_support.settings import SupportSettings
from plutarc_support.timers import Inactivity, close_inactive, warn_inactive
from plutarc_testkit.harness import Harness

SPREAD = timedelta(days=6)


def _seed(h: Harness, tickets: int, per_save: int = 500) -> None:
    now = h.clock.now()
    ws = str(uuid4())
    step = SPREAD / tickets
    for start in range(0, tickets, per_save):
        batch = []
        for i in range(start, min(start + per_save, tickets)):
            at = now - SPREAD + step * (i + 1)  # the oldest falls due one step after `now`
            t = Ticket.open(
                workspace_id=ws,
                ticket_id=uuid4(),
                opened_by="u1",
                subject="Bot stopped",
                body="It stopped.",
                category="bots",
                priority="normal",
                links=s.TicketLinks(),
                at=at,
            )
            t.change_status("waiting_on_user", at)
            batch.append(t)
        h.store.save(*batch, meta=Meta("user:u1", "bench-seed", workspace_id=ws))


def _harness(path: Path, clock: Any = None) -> Harness:
    spec = build(SupportSettings(), adapters={}, memberships=Memberships(RegoEngine()))
    return Harness(spec, sqlite_path=path, clock=clock)


def _decide(h: Harness) -> tuple[float, int]:
    t0 = time.perf_counter()
    with h.models.lock:
        now = h.clock.now()
        commands = [*warn_inactive(now, h.models), *close_inactive(now, h.models)]
    return time.perf_counter() - t0, sum(len(c.tickets) for c in commands)


def run(base: Path, quick: bool = False, tickets: int = 100_000) -> Iterator[str]:
    if quick:
        tickets = 10_000
    path = base / f"support-{uuid4().hex[:6]}.sqlite"
    h = _harness(path)
    t0 = time.perf_counter()
    _seed(h, tickets)
    yield f"seeded {tickets:,} tickets waiting on their users in {time.perf_counter() - t0:.1f} s"
    clock = h.clock
    h.close()

    t0 = time.perf_counter()
    h = _harness(path, clock)
    model = h.models.get(Inactivity)
    yield (
        f"rebuild: a restarted service's read model of {len(model.tickets):,} tickets "
        f"({h.models.position:,} events) in {time.perf_counter() - t0:.2f} s"
    )

    h.clock.advance(timedelta(minutes=1))
    decide, due = _decide(h)
    t0 = time.perf_counter()
    issued = h.timers.run_due()
    whole = time.perf_counter() - t0
    yield (
        f"steady pass over {tickets:,} open tickets: {due} due in the minute, decided in "
        f"{decide * 1000:.2f} ms; the whole pass ({issued} command(s), warnings stored) in "
        f"{whole * 1000:.1f} ms (goal: under 1 s)"
    )
    assert len(h.events("support.auto_close_warning_sent")) == due

    h.clock.advance(SPREAD)
    decide, due = _decide(h)
    t0 = time.perf_counter()
    issued = h.timers.run_due()
    whole = time.perf_counter() - t0
    warned = len(model.close)
    yield (
        f"catch-up pass: all {due:,} due at once, decided in {decide * 1000:.0f} ms; the whole "
        f"pass ({issued} commands of up to 500) in {whole:.2f} s ({due / whole:,.0f} warnings/s); "
        f"{warned:,} now wait to close"
    )
    h.close()
