"""``plutarc up``: Kafka plus every service in deploy/Procfile, on the embedded defaults.

Kafka starts detached (and is left alone if it already runs); the services run under honcho in the
foreground with prefixed logs. Ctrl-C stops the services, then the broker if this command started it.
"""

from __future__ import annotations

import os
import re
import shlex
import sys
from pathlib import Path
from typing import Annotated

import typer
from honcho.manager import Manager
from honcho.printer import Printer
from plutarc_localkafka import launcher as kafka
from rich.console import Console
from rich.table import Table

PORT_RE = re.compile(r"PLUTARC_HTTP_PORT=(\d+)")
OPS_PORT_RE = re.compile(r"PLUTARC_OPS_PORT=(\d+)")


def procfile_entries(path: Path) -> list[tuple[str, str]]:
    entries = []
    for line in path.read_text().splitlines():
        line = line.strip()
        if not line or line.startswith("#"):
            continue
        name, _, command = line.partition(":")
        if not command.strip():
            raise typer.BadParameter(f"{path}: line without a command: {line!r}")
        entries.append((name.strip(), command.strip()))
    return entries


def listening(entries: list[tuple[str, str]]) -> list[tuple[str, str]]:
    """(what, where) for each service's HTTP port, and for the ops port of one that has its own."""
    rows = []
    for name, command in entries:
        found = PORT_RE.search(command)
        rows.append((name, f"http://127.0.0.1:{found.group(1)}" if found else "(no HTTP)"))
        ops = OPS_PORT_RE.search(command)
        if ops:
            rows.append((f"{name} ops", f"http://127.0.0.1:{ops.group(1)}/metrics"))
    return rows


def up(
    port: Annotated[
        int | None, typer.Option("--port", help="Kafka client port (default 9092).")
    ] = None,
    procfile: Annotated[Path | None, typer.Option("--procfile", help="Services to run.")] = None,
    keep_kafka: Annotated[
        bool, typer.Option("--keep-kafka", help="Leave Kafka running on exit.")
    ] = False,
) -> None:
    """Start Kafka and every service; print where each listens; Ctrl-C stops everything."""
    console = Console()
    root = kafka.repo_root()
    cfg = kafka.KafkaConfig.from_env(port=port)
    was_running = kafka.status(cfg).running
    with console.status(f"starting Kafka on {cfg.bootstrap} ..."):
        kafka.ensure_jars()
        kafka.start(cfg)
    entries = procfile_entries(procfile or root / "deploy" / "Procfile")
    env = {
        **os.environ,
        "PLUTARC_KAFKA_BOOTSTRAP": cfg.bootstrap,
        "PLUTARC_DATA_DIR": os.environ.get("PLUTARC_DATA_DIR", str(root / "var" / "data")),
        "PATH": f"{Path(sys.executable).parent}{os.pathsep}{os.environ.get('PATH', '')}",
    }
    table = Table("what", "where", title="plutarc is starting")
    table.add_row("kafka", cfg.bootstrap)
    for what, where in listening(entries):
        table.add_row(what, where)
    console.print(table)
    console.print("Ctrl-C stops everything.", style="dim")
    manager = Manager(Printer(sys.stdout))
    for name, command in entries:
        manager.add_process(name, shlex.join(shlex.split(command)), env=env, cwd=str(root))
    try:
        manager.loop()
    finally:
        if not was_running and not keep_kafka:
            kafka.stop(cfg)
            console.print("Kafka stopped.")
    raise typer.Exit(manager.returncode or 0)
