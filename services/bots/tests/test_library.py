"""The strategy library through the service: versions, copies between workspaces, deletion."""

from __future__ import annotations

from uuid import uuid4

import msgspec
from plutarc_contracts import bots as b

from .conftest import ALICE, BOB, CAROL, CROSSOVER, TINA, Bots

FASTER = b.StrategySpec(
    timeframe="1h",
    components=[
        b.ComponentRef(component="ma_crossover", params={"fast": 5, "slow": 21}),
        CROSSOVER.components[1],
    ],
)


def test_each_change_publishes_the_next_immutable_version(bots: Bots) -> None:
    sid = bots.strategy(TINA)
    reply = bots.ok(
        TINA, b.PublishStrategyVersion(workspace_id=bots.ws, strategy_id=sid, spec=FASTER)
    )
    assert reply.result == {"strategy_id": sid, "version": 2}
    published = [e.payload for e in bots.events("bots.strategy_")]
    assert [type(p).__name__ for p in published] == ["StrategyCreated", "StrategyVersionPublished"]
    assert published[0].spec == CROSSOVER and published[1].spec == FASTER
    # the same spec again, or a stale expected version, changes nothing
    again = b.PublishStrategyVersion(workspace_id=bots.ws, strategy_id=sid, spec=FASTER)
    bots.rejected(TINA, again, "bots.strategy_unchanged")
    stale = b.PublishStrategyVersion(
        workspace_id=bots.ws, strategy_id=sid, spec=CROSSOVER, expected_version=1
    )
    assert bots.rejected(TINA, stale, "bots.version_mismatch").field == "expected_version"


def test_a_viewer_may_not_write_the_library(bots: Bots) -> None:
    spec = b.CreateStrategy(
        workspace_id=bots.ws, strategy_id=str(uuid4()), name="x", spec=CROSSOVER
    )
    bots.rejected(BOB, spec, "access.forbidden")


def test_bad_specs_are_refused_with_the_field_to_blame(bots: Bots) -> None:
    unknown = b.StrategySpec(
        timeframe="1h",
        components=[b.ComponentRef(component="martingale"), CROSSOVER.components[1]],
    )
    wrong_type = b.StrategySpec(
        timeframe="1h",
        components=[
            b.ComponentRef(component="ma_crossover", params={"fast": "nine", "slow": 21}),
            CROSSOVER.components[1],
        ],
    )
    for spec, code, field in [
        (unknown, "bots.unknown_component", "spec.components[0].component"),
        (wrong_type, "bots.invalid_component_config", "spec.components[0].params.fast"),
    ]:
        command = b.CreateStrategy(
            workspace_id=bots.ws, strategy_id=str(uuid4()), name="x", spec=spec
        )
        assert bots.rejected(ALICE, command, code).field == field


def test_a_strategy_is_copied_only_by_someone_allowed_in_both_workspaces(bots: Bots) -> None:
    theirs = bots.strategy(CAROL, ws=bots.other)
    copy_id = str(uuid4())
    command = b.CopyStrategy(
        workspace_id=bots.ws,
        strategy_id=copy_id,
        source_workspace_id=bots.other,
        source_strategy_id=theirs,
    )
    # carol owns the source but is not in ws; tina is a trader in ws but not in the source
    bots.rejected(CAROL, command, "workspace.not_found")
    bots.rejected(TINA, command, "workspace.not_found")
    bots.ok(ALICE, command)  # a viewer there, an owner here
    created = bots.events("bots.strategy_created")[-1].payload
    assert created.workspace_id == bots.ws and created.spec == CROSSOVER
    assert created.copied_from == b.StrategyOrigin(
        workspace_id=bots.other, strategy_id=theirs, version=1
    )
    # copying the other way needs strategies:create there, which a viewer lacks
    back = b.CopyStrategy(
        workspace_id=bots.other,
        strategy_id=str(uuid4()),
        source_workspace_id=bots.ws,
        source_strategy_id=copy_id,
    )
    bots.rejected(ALICE, back, "access.forbidden")


def test_a_bot_cannot_pin_another_workspaces_strategy(bots: Bots) -> None:
    theirs = bots.strategy(CAROL, ws=bots.other)
    command = b.CreateBot(workspace_id=bots.ws, bot_id=str(uuid4()), config=bots.config(theirs))
    rejected = bots.rejected(ALICE, command, "bots.strategy_not_found")
    assert rejected.field == "config.strategy.strategy_id"
    mine = bots.strategy()
    unknown_version = bots.config(mine, strategy=b.PinnedStrategy(strategy_id=mine, version=2))
    command = b.CreateBot(workspace_id=bots.ws, bot_id=str(uuid4()), config=unknown_version)
    rejected = bots.rejected(ALICE, command, "bots.strategy_version_not_found")
    assert rejected.field == "config.strategy.version"


def test_a_pinned_strategy_is_not_deleted_until_no_bot_pins_it(bots: Bots) -> None:
    sid = bots.strategy()
    bot_id = bots.bot(sid)
    delete = b.DeleteStrategy(workspace_id=bots.ws, strategy_id=sid)
    bots.rejected(ALICE, delete, "bots.strategy_in_use")
    bots.ok(ALICE, b.DeleteBot(workspace_id=bots.ws, bot_id=bot_id))
    bots.ok(ALICE, delete)
    # deleted: no new version, no new bot, versions still readable in the events
    publish = b.PublishStrategyVersion(workspace_id=bots.ws, strategy_id=sid, spec=FASTER)
    bots.rejected(ALICE, publish, "bots.strategy_deleted")
    create = b.CreateBot(workspace_id=bots.ws, bot_id=str(uuid4()), config=bots.config(sid))
    bots.rejected(ALICE, create, "bots.strategy_deleted")


def test_spec_bytes_survive_the_round_trip(bots: Bots) -> None:
    sid = bots.strategy()
    stored = bots.events("bots.strategy_created")[-1].payload
    assert stored.strategy_id == sid
    assert msgspec.json.encode(stored.spec) == msgspec.json.encode(CROSSOVER)
