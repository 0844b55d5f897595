"""The bots service's timers: trading windows for the compute service, and archived workspaces.

`schedule-trading-windows` computes the next (or current) window of each running bot whose
published window ended, or whose version changed or which just started (`Library.windows`), and
issues `ScheduleTradingWindows` to the service itself; each bot publishes
`bots.trading_window_scheduled` only when its window (or version) changed, so a pass repeated
after a crash publishes nothing twice. `stop-archived-bots` stops the running bots of a workspace
identity archived.
"""

from __future__ import annotations

from datetime import datetime, timedelta

from plutarc_contracts import Payload
from plutarc_contracts import bots as b
from plutarc_runtime.timers import ReadModels, Timer, by_batches

from .sessions import Calendar
from .views import Library, Workspaces

BATCH = 1000


def schedule_windows(calendar: Calendar, now: datetime, models: ReadModels) -> list[Payload]:
    library = models.get(Library)
    windows: list[b.ScheduledWindow] = []
    for bot_id in sorted(library.windows.due(now)):
        view = library.bots.get(bot_id)
        if view is None or not view.running:
            library.settle(bot_id)
            continue
        found = calendar.next_window(view.sessions, now)
        starts = found.starts_at if found is not None else None
        ends = found.ends_at if found is not None else None
        published = view.window
        if (starts is None and published is None) or (
            published is not None and published == (view.version, starts, ends)
        ):
            if published is None:
                library.settle(bot_id)  # nothing to publish, ever
            else:
                library.rearm(bot_id)  # published already: wait for its end again
            continue
        windows.append(
            b.ScheduledWindow(bot_id=bot_id, version=view.version, starts_at=starts, ends_at=ends)
        )
    return [b.ScheduleTradingWindows(windows=list(batch)) for batch in by_batches(windows, BATCH)]


def stop_archived(workspaces: Workspaces, models: ReadModels) -> list[Payload]:
    library = models.get(Library)
    commands: list[Payload] = []
    for workspace_id in workspaces.archived_ids():
        running = library.running_in(workspace_id)
        commands.extend(
            b.StopArchivedBots(workspace_id=workspace_id, bot_ids=list(batch))
            for batch in by_batches(running, BATCH)
        )
    return commands


def timers(workspaces: Workspaces, calendar: Calendar, every: timedelta) -> list[Timer]:
    return [
        Timer(
            "schedule-trading-windows",
            every,
            lambda now, models: schedule_windows(calendar, now, models),
        ),
        Timer("stop-archived-bots", every, lambda now, models: stop_archived(workspaces, models)),
    ]
