"""Checkpoint files: written whole or not at all, and trusted only for the same code and topics."""

from __future__ import annotations

import os
from pathlib import Path

import pytest
from plutarc_runtime.checkpoint import FORMAT, Checkpoint, CheckpointFile, fingerprint
from plutarc_runtime.projection import ReplayConsumer


class Model:
    def export_state(self) -> bytes:
        return b"state"

    def restore_state(self, raw: bytes) -> None:
        pass


def checkpoint(print_: str, topics: list[str]) -> Checkpoint:
    return Checkpoint(
        format=FORMAT,
        fingerprint=print_,
        topics=topics,
        offsets={"t:0": 7},
        consumer=b"c",
        projections=[b"p"],
    )


def test_a_saved_checkpoint_loads_for_the_same_code_and_topics_only(tmp_path: Path) -> None:
    file = CheckpointFile(tmp_path / "sub" / "p.checkpoint")
    assert file.load("f", ["t"]) is None
    file.save(checkpoint("f", ["t"]))
    assert file.load("f", ["t"]) == checkpoint("f", ["t"])
    assert file.load("other code", ["t"]) is None
    assert file.load("f", ["t", "u"]) is None
    assert [p.name for p in (tmp_path / "sub").iterdir()] == ["p.checkpoint"]  # no temp files
    assert (tmp_path / "sub" / "p.checkpoint").stat().st_mode & 0o777 == 0o600


def test_the_folder_a_checkpoint_creates_is_its_owners_alone(tmp_path: Path) -> None:
    """The API's data dir: its checkpoint holds credential hashes (sessions, API tokens)."""
    previous = os.umask(0o022)
    try:
        CheckpointFile(tmp_path / "api" / "api-projections.checkpoint").save(checkpoint("f", ["t"]))
    finally:
        os.umask(previous)
    assert (tmp_path / "api").stat().st_mode & 0o777 == 0o700
    assert (tmp_path / "api" / "api-projections.checkpoint").stat().st_mode & 0o777 == 0o600


def test_a_corrupt_checkpoint_is_ignored(tmp_path: Path) -> None:
    file = CheckpointFile(tmp_path / "p.checkpoint")
    file.save(checkpoint("f", ["t"]))
    data = (tmp_path / "p.checkpoint").read_bytes()
    (tmp_path / "p.checkpoint").write_bytes(data[: len(data) // 2])
    assert file.load("f", ["t"]) is None


def test_the_fingerprint_follows_the_projection_types() -> None:
    assert fingerprint([Model()]) == fingerprint([Model()])
    assert fingerprint([Model()]) != fingerprint([Model(), Model()])
    assert fingerprint([Model()]) != fingerprint([CheckpointFile(Path("x"))])


def test_a_projection_that_cannot_export_is_refused_a_checkpoint(tmp_path: Path) -> None:
    class Plain:
        def apply(self, env: object) -> bool:
            return True

    kwargs = {"name": "p", "bootstrap": "127.0.0.1:1", "topics": ["t"], "registry": None}
    ReplayConsumer(**kwargs, projections=[Model()], checkpoint=CheckpointFile(tmp_path / "c"))
    with pytest.raises(ValueError, match="cannot be checkpointed"):
        ReplayConsumer(**kwargs, projections=[Plain()], checkpoint=CheckpointFile(tmp_path / "c"))
