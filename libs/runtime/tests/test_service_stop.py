"""A service stops in bounded time even when one of its parts ignores the stop and then its
cancellation (a test run once hung for good in a fixture's teardown): the part is cancelled after
the grace period, logged when it ignores that too, and left behind."""

from __future__ import annotations

import asyncio
import dataclasses
import logging
from pathlib import Path

import pytest
from plutarc_access import Memberships
from plutarc_runtime import service as service_module
from plutarc_runtime.clock import FakeClock
from plutarc_runtime.service import Execute, Service
from plutarc_runtime.settings import RuntimeSettings
from plutarc_testkit.waiting import until

from .conftest import FAST_GROUPS
from .reminders.bootstrap import build
from .test_service_shape import ENGINE, Pager

pytestmark = pytest.mark.kafka


class Stubborn:
    """An inbound source that ignores `stop` and swallows cancellation until released."""

    name = "stubborn"

    def __init__(self) -> None:
        self.release = asyncio.Event()
        self.cancellations = 0

    async def run(self, execute: Execute, stop: asyncio.Event) -> None:
        while not self.release.is_set():
            try:
                await self.release.wait()
            except asyncio.CancelledError:
                self.cancellations += 1


@pytest.mark.timeout(120)  # before the fix the stop waited for the stubborn part forever
async def test_a_part_that_ignores_stop_and_cancellation_does_not_hold_the_stop(
    kafka_bootstrap: str,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    caplog: pytest.LogCaptureFixture,
) -> None:
    monkeypatch.setattr(service_module, "STOP_GRACE_SECONDS", 0.5)
    stubborn = Stubborn()
    spec = dataclasses.replace(build(Memberships(ENGINE), {"pager": Pager()}), inbound=[stubborn])
    settings = RuntimeSettings(kafka_bootstrap=kafka_bootstrap, data_dir=tmp_path / "svc")
    service = Service(spec, settings, clock=FakeClock(), consumer_overrides=FAST_GROUPS)
    stop = asyncio.Event()
    running = asyncio.create_task(service.run(stop))
    await until(lambda: service.started.is_set() or running.done(), what="service start")
    [part] = [t for t in asyncio.all_tasks() if t.get_name() == "inbound.stubborn"]
    try:
        with caplog.at_level(logging.ERROR, logger="plutarc_runtime.service"):
            stop.set()
            await asyncio.wait_for(asyncio.shield(running), 30)
        assert stubborn.cancellations >= 1
        assert not part.done(), "it ignored its cancellation: left behind, not waited for"
        assert "ignored its cancellation" in caplog.text
    finally:
        stubborn.release.set()  # else the test's event loop could never close
        await asyncio.wait_for(part, 5)
        await asyncio.wait_for(running, 60)
