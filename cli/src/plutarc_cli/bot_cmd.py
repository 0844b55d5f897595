"""`plutarc bot run BOT_ID`: run one bot's runtime on this machine, by hand (docs/bot-runtime.md).

It reads the platform's Kafka directly (``--kafka``, default ``$PLUTARC_KAFKA_BOOTSTRAP``) and
runs until the bot is stopped or deleted, or until Ctrl-C. While the bot is in testnet or live
mode it keeps the bot's venue egress proxy running beside it (`plutarc_bots.egress`, where
installed), bound to ``--egress-bind``, and tells the gateway where it is; on a host that runs
the proxy itself (an AWS host), ``--egress-url`` names it instead. Exit status: 0 when the bot
was stopped or deleted (or on Ctrl-C), 1 for a bot that does not exist or is not running, 2 for
a malformed id or egress URL or an unreachable Kafka.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import os
import signal
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any, NoReturn

import typer
from plutarc_runtime.logs import configure_logging
from plutarc_runtime.text import visible
from rich.console import Console
from rich.markup import escape

if TYPE_CHECKING:
    from plutarc_bots.runtime import BotRuntime

bot_app = typer.Typer(no_args_is_help=True, help="Run one bot on this machine.")
err = Console(stderr=True)

BotArg = Annotated[str, typer.Argument(metavar="BOT_ID", help="The bot's id.")]
KafkaOpt = Annotated[
    str | None,
    typer.Option(
        "--kafka",
        help="Kafka bootstrap servers (default: the settings', $PLUTARC_KAFKA_BOOTSTRAP or "
        "127.0.0.1:9092).",
    ),
]
BindOpt = Annotated[
    str,
    typer.Option(
        "--egress-bind",
        help="The bot's own address: its venue traffic (testnet, live) leaves from it.",
    ),
]
UrlOpt = Annotated[
    str | None,
    typer.Option(
        "--egress-url",
        help="The host already runs the bot's egress proxy here (http://HOST:PORT, reachable by "
        "the gateway): announce it rather than start one.",
    ),
]
ReadyOpt = Annotated[
    Path | None,
    typer.Option(
        "--ready-file",
        help="Written once the bot has caught up and its egress follows its mode (a host's "
        "readiness, docs/compute-providers.md).",
    ),
]


def _fail(message: str, code: int) -> NoReturn:
    err.print(f"[bold red]error:[/] {escape(visible(message))}", highlight=False, soft_wrap=True)
    raise typer.Exit(code)


def default_egress(bind: str, runtime_dir: Path, connect_ports: tuple[int, ...] = (443,)) -> Any:
    """The bots service's egress for the bot (imported here, when a bot runs: the CLI's other
    commands import no service package)."""
    from plutarc_bots.runtime import default_egress as make

    return make(bind, runtime_dir, connect_ports)


async def _run(runtime: BotRuntime) -> str:
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGINT, signal.SIGTERM):
        with contextlib.suppress(NotImplementedError, RuntimeError, ValueError):
            loop.add_signal_handler(sig, stop.set)
    try:
        return str(await runtime.run(stop))
    finally:
        for sig in (signal.SIGINT, signal.SIGTERM):
            with contextlib.suppress(NotImplementedError, RuntimeError, ValueError):
                loop.remove_signal_handler(sig)


def _write_ready(path: Path) -> None:
    tmp = path.with_name(path.name + ".tmp")
    tmp.write_text(f"{os.getpid()}\n")
    tmp.replace(path)


@bot_app.command("run")
def run(
    bot_id: BotArg,
    kafka: KafkaOpt = None,
    egress_bind: BindOpt = "127.0.0.1",
    egress_url: UrlOpt = None,
    ready_file: ReadyOpt = None,
) -> None:
    """Run one bot until it is stopped or deleted.

    It follows the bot's configuration, evaluates its strategy on each closed candle and sends
    its orders to the exchange gateway as the bot.
    """
    from plutarc_bots.runtime import (
        BotRuntime,
        EgressSwitch,
        InvalidBotId,
        InvalidEgressUrl,
        KafkaUnreachable,
        RuntimeFailure,
        RuntimeSettings,
        check_bot_id,
        host_egress,
    )

    try:
        bot_id = check_bot_id(bot_id)
        own = None if egress_url is None else host_egress(egress_url)
    except (InvalidBotId, InvalidEgressUrl) as exc:
        _fail(f"{exc.code}: {exc}", 2)
    settings = RuntimeSettings()
    if kafka:
        settings = settings.model_copy(update={"kafka_bootstrap": kafka})
    if not logging.getLogger().handlers:  # a host process (a test) keeps its own
        configure_logging("bot-runtime", settings.log_level, settings.log_json)
    where = settings.data_dir / "egress" / bot_id
    ports = settings.egress_connect_ports()
    factory = own if own is not None else default_egress(egress_bind, where, ports)
    egress = EgressSwitch(factory, address=egress_bind)
    ready = None if ready_file is None else (lambda: _write_ready(ready_file))
    runtime = BotRuntime(settings, bot_id, egress=egress, on_ready=ready)
    try:
        outcome = asyncio.run(_run(runtime))
    except KafkaUnreachable as exc:
        _fail(f"{exc.code}: {exc}", 2)
    except RuntimeFailure as exc:
        _fail(f"{exc.code}: {exc}", 1)
    except OSError as exc:
        _fail(f"cannot reach Kafka at {settings.kafka_bootstrap}: {exc}", 2)
    typer.echo(f"bot {bot_id}: {outcome}; {runtime.sent} commands sent")
