"""The local provider's default host, `plutarc bot run ... --ready-file`, through Pulumi: a running
bot wakes on its address and is stopped by the sleep."""

from __future__ import annotations

import sys
from pathlib import Path

import pytest
from plutarc_compute.providers.base import HostSpec
from plutarc_compute.providers.local import LocalProvider, default_command
from plutarc_contracts import default_topics
from plutarc_runtime.bus import ensure_topics

from .conftest import bot_processes, settings_for

_ROOT = Path(__file__).resolve().parents[4]
if str(_ROOT) not in sys.path:
    sys.path.append(str(_ROOT))

from services.bots.tests.runtime.kafka_world import World  # noqa: E402


def cmdline(pid: int) -> list[str]:
    return Path(f"/proc/{pid}/cmdline").read_text().rstrip("\0").split("\0")


@pytest.mark.kafka
async def test_a_running_bot_is_woken_as_its_runtime_and_slept(
    kafka_bootstrap: str, tmp_path: Path, pulumi_bin: Path
) -> None:
    await ensure_topics(kafka_bootstrap, default_topics().all())
    world = World(kafka_bootstrap)
    await world.start()
    provider = LocalProvider(settings_for(tmp_path, pulumi_bin), ready_timeout=60, stop_grace=10)
    try:
        await world.bot_running()
        env = {"PLUTARC_KAFKA_BOOTSTRAP": kafka_bootstrap, "PLUTARC_DATA_DIR": str(tmp_path)}
        awake = await provider.wake(HostSpec(world.bot, world.ws, "default", env=env))
        (pid,) = bot_processes(world.bot)
        assert cmdline(pid)[-7:-1] == [
            "bot",
            "run",
            world.bot,
            "--egress-bind",
            awake.address,
            "--ready-file",
        ]
        assert default_command()[0].endswith("/plutarc")
        seen = await provider.observe(world.bot)
        assert seen.address_on_host
        await provider.sleep(world.bot)
        assert bot_processes(world.bot) == []
        log = (provider.run_dir(world.bot) / "host.log").read_text()
        assert f"bot {world.bot}: interrupted" in log, log[-2000:]
    finally:
        await provider.release(world.bot)
        provider.stacks.close()
        await world.close()
