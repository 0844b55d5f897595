"""Scratch folders: private, outside pytest's basetemp, removed by their owner."""

from __future__ import annotations

import stat

from plutarc_testkit.scratch import make_scratch_dir, scratch_root


def test_folder_is_private_outside_basetemp_and_removed_on_close() -> None:
    scratch = make_scratch_dir("unit")
    path = scratch.path

    assert path.parent == scratch_root()
    assert not any(part.startswith("pytest-of-") for part in path.parts)
    assert stat.S_IMODE(path.stat().st_mode) == 0o711

    scratch.close()
    scratch.close()  # idempotent
    assert not path.exists()
