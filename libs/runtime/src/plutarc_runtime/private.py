"""Files that hold events, credential hashes or projections are their owner's alone: files 0600
in directories 0700, set where they are created, and group and other access taken away from files
an older version left readable. Not a process-wide umask: only these paths are concerned."""

from __future__ import annotations

import contextlib
import os
import stat
from pathlib import Path

FILE_MODE = 0o600
DIR_MODE = 0o700


def private_dir(path: Path) -> None:
    """Create `path` (its missing parents as usual) with mode 0700; an existing one is left alone,
    since it may be a folder the operator chose for more than this."""
    path.mkdir(mode=DIR_MODE, parents=True, exist_ok=True)


def private_file(path: Path) -> None:
    """Create `path` empty with mode 0600, or tighten it if it exists."""
    try:
        os.close(os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, FILE_MODE))
    except FileExistsError:
        tighten(path)


def tighten(path: Path) -> None:
    """Take group and other access away from a file we own; others' files are not ours to change
    (an auditor may read a store it cannot chmod)."""
    with contextlib.suppress(FileNotFoundError, PermissionError):
        st = path.stat()
        if st.st_mode & 0o077 and st.st_uid == os.getuid():
            os.chmod(path, stat.S_IMODE(st.st_mode) & ~0o077)
