"""Checkpoints of replayed projections: their state and the offsets it reflects, in one file.

A replay consumer that has a checkpoint resumes from it instead of reading its topics from offset 0.
The state and the offsets are written together, atomically (a temporary file renamed over the
old one), so a restart neither loses nor double-applies an event: this is the projection's
tracking record. A checkpoint is only a cache of what the log holds. Whenever it cannot be trusted,
it is ignored and the consumer replays from the beginning: unreadable, from other code (the
fingerprint of the projections' modules differs), for other topics, or with offsets the topics do
not have (a topic deleted and created again).
"""

from __future__ import annotations

import contextlib
import hashlib
import inspect
import logging
import os
from collections.abc import Sequence
from pathlib import Path
from typing import Protocol, runtime_checkable

import msgspec

from .private import private_dir

log = logging.getLogger(__name__)

FORMAT = 1


@runtime_checkable
class Checkpointable(Protocol):
    def export_state(self) -> bytes:
        """Everything the projection knows, encoded; `restore_state` must accept it."""
        ...

    def restore_state(self, raw: bytes) -> None:
        """Replace the (empty) state with an exported one; raise if it cannot be read."""
        ...


class Checkpoint(msgspec.Struct, kw_only=True):
    format: int
    fingerprint: str
    topics: list[str]
    offsets: dict[str, int]
    """`<topic>:<partition>` -> the next offset to read."""
    consumer: bytes
    """The replay consumer's own dedupe state (see projection.py)."""
    projections: list[bytes]


def fingerprint(projections: Sequence[object]) -> str:
    """Changes when the code that builds a projection's state changes, so old state is not trusted."""
    digest = hashlib.sha256(str(FORMAT).encode())
    for kind in (type(p) for p in projections):
        source = Path(inspect.getfile(kind)).read_bytes()
        digest.update(kind.__qualname__.encode() + b"\0" + source)
    return digest.hexdigest()


class CheckpointFile:
    def __init__(self, path: Path) -> None:
        self.path = path

    def load(self, expected_fingerprint: str, topics: Sequence[str]) -> Checkpoint | None:
        try:
            raw = self.path.read_bytes()
        except FileNotFoundError:
            return None
        except OSError as exc:
            log.warning("checkpoint unreadable, replaying", extra={"error": repr(exc)})
            return None
        try:
            cp = msgspec.msgpack.decode(raw, type=Checkpoint)
        except (msgspec.DecodeError, msgspec.ValidationError) as exc:
            log.warning("checkpoint corrupt, replaying", extra={"error": repr(exc)})
            return None
        if cp.format != FORMAT or cp.fingerprint != expected_fingerprint:
            log.info("checkpoint from other code, replaying", extra={"path": str(self.path)})
            return None
        if sorted(cp.topics) != sorted(topics):
            log.info("checkpoint for other topics, replaying", extra={"topics": cp.topics})
            return None
        return cp

    def save(self, cp: Checkpoint) -> None:
        """Write atomically: the old checkpoint stays whole until the new one is on disk.

        Readable by its owner only (0600, in a 0700 directory): a projection may hold credential
        hashes.
        """
        private_dir(self.path.parent)
        tmp = self.path.with_name(f".{self.path.name}.{os.getpid()}.tmp")
        try:
            fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
            with open(fd, "wb") as f:
                f.write(msgspec.msgpack.encode(cp))
                f.flush()
                os.fsync(f.fileno())
            os.replace(tmp, self.path)
        finally:
            with contextlib.suppress(FileNotFoundError):
                tmp.unlink()


def offset_key(topic: str, partition: int) -> str:
    return f"{topic}:{partition}"
