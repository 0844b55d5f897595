"""Scratch folders for the test servers' data, outside pytest's basetemp, one per owner.

Why: pytest resets ``/tmp/pytest-of-<user>`` to mode 0700 whenever a session starts. As root the
test PostgreSQL runs as the ``postgres`` OS user, so a cluster kept below that folder was locked
out of its own data dir the moment a second session started on the machine (another checkout, a
helper), and could no longer be stopped. These folders are made with ``tempfile.mkdtemp`` in the
system temp dir, searchable but not listable by other users, and pytest never touches them.

Each folder holds a lock its owner keeps for as long as it lives, and the kernel drops it when the
owner dies. ``close()`` (also run at interpreter exit) removes the folder; a folder whose owner was
killed before that (SIGKILL, OOM, power cut) is swept by the next :func:`make_scratch_dir`, which
first stops any server still running from it.
"""

from __future__ import annotations

import atexit
import contextlib
import fcntl
import os
import shutil
import tempfile
import time
import warnings
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import IO

PREFIX = "plutarc-test-"
LOCK_NAME = ".owner.lock"
# A folder without an owner pid is normally an owner between mkdtemp and locking; after this long
# it is one that died right there.
_UNCLAIMED_GRACE = 3600.0


@dataclass(eq=False)
class ScratchDir:
    """A folder this process owns until :meth:`close`; ``path`` is absolute and resolved."""

    path: Path
    _lock: IO[str] = field(repr=False)
    _closed: bool = field(default=False, init=False, repr=False)

    def close(self) -> None:
        """Remove the folder and release the lock; calling it again is a no-op."""
        if self._closed:
            return
        self._closed = True
        atexit.unregister(self.close)
        shutil.rmtree(self.path, ignore_errors=True)
        self._lock.close()

    def __enter__(self) -> ScratchDir:
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.close()


def scratch_root() -> Path:
    """Where scratch folders go: the system temp dir (``$TMPDIR``, else ``/tmp``)."""
    return Path(tempfile.gettempdir()).resolve()


def make_scratch_dir(label: str = "session") -> ScratchDir:
    """Sweep abandoned folders, then create and lock a fresh one (mode 0711) for this process."""
    sweep_abandoned()
    path = Path(tempfile.mkdtemp(prefix=f"{PREFIX}{label}-", dir=scratch_root())).resolve()
    path.chmod(0o711)  # other users (the postgres account) may pass through, not list
    lock = (path / LOCK_NAME).open("w")
    fcntl.flock(lock, fcntl.LOCK_EX)
    lock.write(f"{os.getpid()}\n")
    lock.flush()
    scratch = ScratchDir(path, lock)
    atexit.register(scratch.close)
    return scratch


def sweep_abandoned(root: Path | None = None) -> list[Path]:
    """Stop the servers in, and remove, every scratch folder whose owner is gone; return them."""
    swept = []
    for path in sorted((root or scratch_root()).glob(f"{PREFIX}*")):
        try:
            with _claim(path) as abandoned:
                if not abandoned:
                    continue
                _stop_leftover_servers(path)
                shutil.rmtree(path)
        except (OSError, RuntimeError) as exc:  # best effort: never fail a session over it
            warnings.warn(f"could not sweep abandoned test folder {path}: {exc}", stacklevel=2)
            continue
        swept.append(path)
    return swept


@contextlib.contextmanager
def _claim(path: Path) -> Iterator[bool]:
    """Yield True, holding the folder's lock, when its owner is dead; False when it lives."""
    if not path.is_dir() or path.is_symlink():
        yield False
        return
    try:
        lock = (path / LOCK_NAME).open()
    except FileNotFoundError:
        yield _age(path) > _UNCLAIMED_GRACE
        return
    with lock:
        try:
            fcntl.flock(lock, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            yield False  # the owner holds it: alive
            return
        # The owner writes its pid while holding the lock, so a pid here and the lock free means
        # the owner died (or closed it while removing the folder, which is just as final).
        yield bool(lock.read().strip()) or _age(path) > _UNCLAIMED_GRACE


def _age(path: Path) -> float:
    return time.time() - path.stat().st_mtime


def _stop_leftover_servers(path: Path) -> None:
    """Servers start detached, so they outlive a killed session: stop them before removing data."""
    from plutarc_localkafka import launcher

    from .postgres import stop_abandoned_cluster

    for pid_file in path.glob("**/postmaster.pid"):
        stop_abandoned_cluster(pid_file.parent)
    for pid_file in path.glob("**/kafka.pid"):
        launcher.stop(launcher.KafkaConfig(data_dir=pid_file.parent))
