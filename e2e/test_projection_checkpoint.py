"""The gateway resumes its projections from a checkpoint: after a restart nothing is lost or doubled.

The state a resumed gateway ends with must equal a replay of the whole log from offset 0, and the
events written after the checkpoint must be applied exactly once. A checkpoint that cannot be
trusted is ignored, and the gateway replays from the beginning.
"""

from __future__ import annotations

import asyncio
import shutil
from collections import Counter
from pathlib import Path

import pytest
from plutarc_access import Memberships, RegoEngine
from plutarc_api.views import IdentityView
from plutarc_contracts import default_registry, events_topic
from plutarc_contracts import identity as c
from plutarc_runtime.projection import ReplayConsumer
from plutarc_testkit.waiting import until

from .conftest import running_platform

pytestmark = pytest.mark.kafka
CHECKPOINT = "api/api-projections.checkpoint"


async def full_replay(kafka_bootstrap: str) -> tuple[ReplayConsumer, IdentityView, Memberships]:
    view, memberships = IdentityView(), Memberships(RegoEngine())
    replay = ReplayConsumer(
        name="api.verify",  # the credentials topic is private to the gateway (`api`)
        bootstrap=kafka_bootstrap,
        topics=[events_topic(c.IDENTITY), c.CREDENTIALS_TOPIC],
        registry=default_registry(),
        projections=[view, memberships],
    )
    stop = asyncio.Event()
    task = asyncio.create_task(replay.run(stop))
    await until(replay.caught_up.is_set, what="the verifying replay")
    stop.set()
    await asyncio.wait_for(task, 30)
    return replay, view, memberships


def history(view: IdentityView) -> dict[str, Counter[str]]:
    """Each workspace's event ids with their counts (the order across streams is not fixed)."""
    return {ws: Counter(e.event_id for e in events) for ws, events in view.history.items()}


async def test_a_restart_resumes_from_the_checkpoint_and_applies_later_events_once(
    kafka_bootstrap: str, tmp_path: Path
) -> None:
    async with running_platform(kafka_bootstrap, tmp_path, checkpoint_interval=3600) as first:
        olivia, _, _ = await first.user("olivia")
        async with first.client(olivia) as http:
            ws = (await http.post("/v1/organisations", json={"name": "Desk"})).json()[
                "workspace_id"
            ]
            assert first.api.replay is not None
            # Read before saving: the state is encoded before the first await, but events may
            # be applied while the file is written.
            at_checkpoint = first.api.replay.applied
            await first.api.replay.save_checkpoint()
            shutil.copy(tmp_path / CHECKPOINT, tmp_path / "early.checkpoint")
            # Written after the checkpoint that the next start will find:
            r = await http.patch(f"/v1/workspaces/{ws}", json={"name": "Prop desk"})
            assert r.status_code == 200, r.text
        late, _, _ = await first.user("late")
    shutil.copy(tmp_path / "early.checkpoint", tmp_path / CHECKPOINT)

    async with running_platform(kafka_bootstrap, tmp_path, checkpoint_interval=3600) as second:
        replay = second.api.replay
        assert replay is not None and replay.resumed_from == at_checkpoint
        async with second.client(olivia) as http:
            r = await http.get(f"/v1/workspaces/{ws}")
            assert r.status_code == 200 and r.json()["name"] == "Prop desk"
            audit = (await http.get(f"/v1/workspaces/{ws}/audit")).json()["entries"]
            ids = [e["event_id"] for e in audit]
            assert len(ids) == len(set(ids))
            assert [e["action"] for e in audit][-1] == "identity.workspace_renamed"
        async with second.client(late) as http:  # a session started after the checkpoint
            assert (await http.get("/v1/me")).status_code == 200

        fresh, view, memberships = await full_replay(kafka_bootstrap)
        assert replay.applied == fresh.applied
        assert history(second.api.view) == history(view)
        assert second.api.view.users == view.users
        assert second.api.view.workspaces == view.workspaces
        assert second.api.view.sessions == view.sessions
        assert second.api.memberships.by_user == memberships.by_user


@pytest.mark.parametrize("content", [b"not a checkpoint", b""])
async def test_an_untrustworthy_checkpoint_is_ignored_and_the_log_replayed(
    kafka_bootstrap: str, tmp_path: Path, content: bytes
) -> None:
    async with running_platform(kafka_bootstrap, tmp_path, checkpoint_interval=3600) as first:
        olivia, _, _ = await first.user("olivia")
    (tmp_path / CHECKPOINT).write_bytes(content)
    async with running_platform(kafka_bootstrap, tmp_path, checkpoint_interval=3600) as second:
        assert second.api.replay is not None and second.api.replay.resumed_from is None
        async with second.client(olivia) as http:
            assert (await http.get("/v1/me")).status_code == 200
