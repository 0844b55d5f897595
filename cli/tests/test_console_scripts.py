"""Every command plutarc installs resolves to a function, and every command the Procfile (`make up`)
and the images run is one of them: a console script naming a module that does not exist installs
without complaint and fails only when run (the exchange gateway's did, until its images ran it)."""

from __future__ import annotations

import shlex
from importlib.metadata import distributions
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]


def _plutarc_scripts() -> dict[str, object]:
    found = {}
    for dist in distributions():
        if not (dist.metadata["Name"] or "").startswith("plutarc"):
            continue
        for ep in dist.entry_points.select(group="console_scripts"):
            found[ep.name] = ep
    return found


def test_every_console_script_loads() -> None:
    scripts = _plutarc_scripts()
    assert "plutarc-exchange-gateway" in scripts
    for name, ep in scripts.items():
        assert callable(ep.load()), name  # type: ignore[attr-defined]


def test_the_procfile_and_the_images_run_installed_commands() -> None:
    scripts = _plutarc_scripts()
    commands = []
    for line in (ROOT / "deploy" / "Procfile").read_text().splitlines():
        if line.strip() and not line.startswith("#"):
            words = [w for w in shlex.split(line.split(":", 1)[1]) if w != "env" and "=" not in w]
            commands.append(words[0])
    images = (ROOT / "scripts" / "build-images").read_text()
    block = images.split("declare -A IMAGE_COMMAND=(", 1)[1].split(")", 1)[0]
    commands += [shlex.split(part.split("=", 1)[1])[0] for part in shlex.split(block)]
    assert len(commands) >= 14
    for command in commands:
        assert command in scripts or command == "plutarc", command
    assert "plutarc" in scripts
