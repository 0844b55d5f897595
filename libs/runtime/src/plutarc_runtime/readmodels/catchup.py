"""Catching up a long way in a child process, so the writer's memory stays that of live work.

A writer that starts far behind its topics (a new database, a rebuilt projection, a long outage)
decodes and applies every event in between. The heap that takes is freed afterwards, but not all
of it goes back to the system: a process that built a million events stays larger than one that
resumed. So when `ReadModels` starts writing more than a threshold behind, it runs the same
projections in a child process (`catch_up_command`) that applies everything up to the end offsets
it sees, commits them with the rows as always, and exits; its memory goes with it. The writer then
resumes from the committed offsets, like a restart. A child that fails changes nothing the writer
relies on (each batch commits its rows with its offsets): the writer goes on in-process from
whatever the child committed.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Sequence

from plutarc_contracts import Registry
from sqlalchemy import Engine

from .projector import Key, Projector, SqlProjection

log = logging.getLogger(__name__)


def lag(projector: Projector, targets: dict[Key, int]) -> int:
    """Events between each projection's offsets and `targets`, summed over the projections."""
    return sum(
        max(0, end - m.offsets.get(key, 0))
        for m in projector.members
        for key, end in targets.items()
        if key[0] in m.topics
    )


async def catch_up(
    engine: Engine, projections: Sequence[SqlProjection], *, bootstrap: str, registry: Registry
) -> int:
    """What the child runs: the projections brought to the end offsets seen as it starts, then it
    returns the number of events applied. The caller exits the process."""
    projector = Projector(projections, engine, bootstrap=bootstrap, registry=registry)
    await asyncio.to_thread(projector.prepare)
    stop = asyncio.Event()
    task = asyncio.create_task(projector.run(stop))
    waiter = asyncio.create_task(projector.caught_up.wait())
    await asyncio.wait([task, waiter], return_when=asyncio.FIRST_COMPLETED)
    stop.set()
    waiter.cancel()
    await task  # the last batch written, or the projector's error raised
    if not projector.caught_up.is_set():
        raise RuntimeError("the projector stopped before it caught up")
    log.info("caught up in a child process", extra={"applied": projector.applied})
    return projector.applied


async def run_child(command: Sequence[str], stdin: bytes, stop: asyncio.Event) -> int | None:
    """Run `command` with `stdin` until it exits (its code) or `stop` is set (None: terminated)."""
    proc = await asyncio.create_subprocess_exec(*command, stdin=asyncio.subprocess.PIPE)
    assert proc.stdin is not None
    proc.stdin.write(stdin)
    with contextlib.suppress(ConnectionError):
        await proc.stdin.drain()
    proc.stdin.close()
    exited = asyncio.create_task(proc.wait())
    stopped = asyncio.create_task(stop.wait())
    await asyncio.wait([exited, stopped], return_when=asyncio.FIRST_COMPLETED)
    stopped.cancel()
    if exited.done():
        return exited.result()
    proc.terminate()
    try:
        await asyncio.wait_for(exited, 10)
    except TimeoutError:
        proc.kill()
        await exited
    return None
