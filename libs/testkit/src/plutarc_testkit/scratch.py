"""Scratch folders for the test servers' data, outside pytest's basetemp, one per owner.

Why: pytest resets ``/tmp/pytest-of-<user>`` to mode 0700 whenever a session starts. As root the
test PostgreSQL runs as the ``postgres`` OS user, so a cluster kept below that folder was locked
out of its own data dir the moment a second session started on the machine (another checkout, a
helper), and could no longer be stopped. These folders are made with ``tempfile.mkdtemp`` in the
system temp dir, searchable but not listable by other users, and pytest never touches them.
``close()`` (also run at interpreter exit) removes the folder.
"""

from __future__ import annotations

import atexit
import shutil
import tempfile
from dataclasses import dataclass, field
from pathlib import Path

PREFIX = "plutarc-test-"


@dataclass(eq=False)
class ScratchDir:
    """A folder this process owns until :meth:`close`; ``path`` is absolute and resolved."""

    path: Path
    _closed: bool = field(default=False, init=False, repr=False)

    def close(self) -> None:
        """Remove the folder; calling it again is a no-op."""
        if self._closed:
            return
        self._closed = True
        atexit.unregister(self.close)
        shutil.rmtree(self.path, ignore_errors=True)

    def __enter__(self) -> ScratchDir:
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.close()


def scratch_root() -> Path:
    """Where scratch folders go: the system temp dir (``$TMPDIR``, else ``/tmp``)."""
    return Path(tempfile.gettempdir()).resolve()


def make_scratch_dir(label: str = "session") -> ScratchDir:
    """Create a fresh folder (mode 0711) for this process."""
    path = Path(tempfile.mkdtemp(prefix=f"{PREFIX}{label}-", dir=scratch_root())).resolve()
    path.chmod(0o711)  # other users (the postgres account) may pass through, not list
    scratch = ScratchDir(path)
    atexit.register(scratch.close)
    return scratch
