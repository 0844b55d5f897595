"""``plutarc kafka ...``: start, stop, inspect or run the local Kafka broker.

A thin typer layer over :mod:`plutarc_localkafka.launcher`; everything it knows comes from there. ``--json``
exists so that scripts and other tools (CI, Procfile helpers) never scrape the human output.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Annotated, NoReturn

import typer
from plutarc_localkafka import launcher as kafka
from rich.console import Console
from rich.table import Table

kafka_app = typer.Typer(no_args_is_help=True, help="Run the local Apache Kafka broker (KRaft).")

PortOpt = Annotated[
    int | None,
    typer.Option(
        "--port", help="Client port (default $PLUTARC_KAFKA_PORT or 9092).", show_default=False
    ),
]
DataDirOpt = Annotated[
    Path | None,
    typer.Option(
        "--data-dir",
        help="Broker data dir (default $PLUTARC_DATA_DIR/kafka or <repo>/var/kafka).",
        show_default=False,
    ),
]
JsonOpt = Annotated[bool, typer.Option("--json", help="Machine-readable output.")]
TimeoutOpt = Annotated[float, typer.Option("--timeout", help="Seconds to wait.")]


def _config(port: int | None, data_dir: Path | None) -> kafka.KafkaConfig:
    try:
        return kafka.KafkaConfig.from_env(port=port, data_dir=data_dir)
    except (kafka.KafkaError, ValueError) as exc:
        _fail(str(exc), as_json=False)


def _fail(message: str, as_json: bool) -> NoReturn:
    """Errors are one clear line (plus log tail) and exit code 1, never a Python traceback."""
    if as_json:
        typer.echo(json.dumps({"error": message}))
    else:
        Console(stderr=True).print(
            f"[bold red]error:[/] {message}", highlight=False, soft_wrap=True
        )
    raise typer.Exit(1)


def _show(status: kafka.KafkaStatus, as_json: bool, headline: str | None = None) -> None:
    if as_json:
        typer.echo(json.dumps(status.to_dict()))
        return
    console = Console()
    if headline:
        console.print(headline)
    table = Table(show_header=False, box=None, pad_edge=False)
    state = "[green]running[/]" if status.running else "[yellow]stopped[/]"
    table.add_row("state", state)
    table.add_row("pid", str(status.pid or "-"))
    table.add_row("bootstrap", status.bootstrap)
    table.add_row("version", f"Apache Kafka {status.version} (KRaft)")
    table.add_row("data dir", str(status.data_dir))
    table.add_row("log", str(status.log_file))
    if status.note:
        table.add_row("note", f"[yellow]{status.note}[/]")
    console.print(table)


@kafka_app.command()
def start(
    port: PortOpt = None,
    data_dir: DataDirOpt = None,
    as_json: JsonOpt = False,
    timeout: TimeoutOpt = 60.0,
) -> None:
    """Start the broker in the background and wait until it answers (no-op if already running)."""
    cfg = _config(port, data_dir)
    try:
        if as_json:
            status = kafka.start(cfg, timeout=timeout)
        else:
            with Console().status(f"starting Kafka on {cfg.bootstrap} ..."):
                status = kafka.start(cfg, timeout=timeout)
    except kafka.KafkaError as exc:
        _fail(str(exc), as_json)
    _show(status, as_json, "[green]Kafka is up[/]")


@kafka_app.command()
def stop(
    port: PortOpt = None,
    data_dir: DataDirOpt = None,
    as_json: JsonOpt = False,
    timeout: TimeoutOpt = 30.0,
) -> None:
    """Stop the broker (SIGTERM, then SIGKILL after --timeout); no-op if it is not running."""
    cfg = _config(port, data_dir)
    try:
        status = kafka.stop(cfg, timeout=timeout)
    except kafka.KafkaError as exc:
        _fail(str(exc), as_json)
    _show(status, as_json, "Kafka is stopped")


@kafka_app.command("status")
def status_cmd(port: PortOpt = None, data_dir: DataDirOpt = None, as_json: JsonOpt = False) -> None:
    """Show whether the broker for this data dir runs; exit code 3 when it does not (like LSB)."""
    cfg = _config(port, data_dir)
    status = kafka.status(cfg)
    _show(status, as_json)
    if not status.running:
        raise typer.Exit(3)


@kafka_app.command()
def run(port: PortOpt = None, data_dir: DataDirOpt = None) -> None:
    """Run the broker in the foreground (for a Procfile); Ctrl-C stops it cleanly."""
    cfg = _config(port, data_dir)
    try:
        kafka.run_foreground(cfg)
    except kafka.KafkaError as exc:
        _fail(str(exc), as_json=False)


@kafka_app.command()
def install(as_json: JsonOpt = False) -> None:
    """Fetch the pinned Kafka jars from Maven Central into the user cache (no-op when complete)."""
    try:
        libs = kafka.ensure_jars()
    except kafka.KafkaError as exc:
        _fail(str(exc), as_json)
    if as_json:
        typer.echo(json.dumps({"version": kafka.kafka_version(), "libs": str(libs)}))
    else:
        Console().print(f"Kafka {kafka.kafka_version()} jars in {libs}", highlight=False)
