"""`plutarc support ...`: tickets, the operators' queue, notes and times through the gateway API
(`support_tickets_cmd`), and `plutarc support operators grant|revoke USER_ID` over Kafka.

Operators are a platform-level role, not a workspace role: nobody grants it through the API. These
commands run on a machine that reaches the platform's Kafka and send `support.grant_operator` /
`support.revoke_operator` with actor `system:cli` straight to `support.commands.v1`, then wait for
the support service's reply on `support.events.v1`. The grant is an event in support's store, its
audit log (`plutarc audit export --service support`).
"""

from __future__ import annotations

import asyncio
import time
from datetime import UTC, datetime
from typing import Annotated, NoReturn
from uuid import uuid4

import msgspec
import typer
from aiokafka import AIOKafkaConsumer, AIOKafkaProducer
from plutarc_contracts import (
    CommandAccepted,
    CommandEnvelope,
    CommandRejected,
    commands_topic,
    default_registry,
    events_topic,
)
from plutarc_contracts import support as s
from plutarc_runtime.bus import partitions_of
from plutarc_runtime.text import visible
from rich.console import Console
from rich.markup import escape

from .support_tickets_cmd import notes_app, notifications, queue, stats, tickets_app

support_app = typer.Typer(
    no_args_is_help=True,
    help="Support: tickets, the operators' queue, internal notes, response times, operators.",
)
support_app.add_typer(tickets_app, name="tickets")
support_app.add_typer(notes_app, name="notes")
support_app.command("queue")(queue)
support_app.command("stats")(stats)
support_app.command("notifications")(notifications)
operators_app = typer.Typer(
    no_args_is_help=True,
    help="Grant or revoke the support operator role (platform-level) through Kafka.",
)
support_app.add_typer(operators_app, name="operators")
err = Console(stderr=True)
ACTOR = "system:cli"

UserArg = Annotated[str, typer.Argument(help="The user's id (as identity knows it).")]
BootstrapOpt = Annotated[
    str,
    typer.Option(
        "--bootstrap",
        envvar="PLUTARC_KAFKA_BOOTSTRAP",
        help="Kafka bootstrap servers (default $PLUTARC_KAFKA_BOOTSTRAP or 127.0.0.1:9092).",
    ),
]
TimeoutOpt = Annotated[
    float, typer.Option("--timeout", min=1, help="Seconds to wait for the support service's reply.")
]
JsonOpt = Annotated[bool, typer.Option("--json", help="Machine-readable output.")]


def _fail(message: str, code: int = 1) -> NoReturn:
    err.print(f"[bold red]error:[/] {escape(visible(message))}", highlight=False, soft_wrap=True)
    raise typer.Exit(code)


async def send(
    bootstrap: str, payload: msgspec.Struct, timeout: float
) -> CommandAccepted | CommandRejected | None:
    """Send one command as `system:cli` and wait for its reply (None: none within `timeout`)."""
    registry = default_registry()
    name, version = registry.type_name_of(type(payload))
    command_id = str(uuid4())
    data = registry.encode_command(
        CommandEnvelope(
            command_id=command_id,
            type=name,
            schema_version=version,
            issued_at=datetime.now(UTC),
            actor=ACTOR,
            workspace_id=None,
            correlation_id=command_id,
            causation_id=None,
            payload=payload,
        )
    )
    deadline = time.monotonic() + timeout
    replies = events_topic(s.SUPPORT)
    consumer = AIOKafkaConsumer(
        bootstrap_servers=bootstrap, enable_auto_commit=False, request_timeout_ms=10_000
    )
    try:
        await consumer.start()
        try:  # every partition of the replies topic, once the cluster's metadata shows them
            tps = await asyncio.wait_for(
                partitions_of(consumer, [replies], asyncio.Event(), "cli"), min(timeout, 5)
            )
        except TimeoutError:
            return None  # the topic does not exist: the support service never started
        consumer.assign(tps)
        await consumer.seek_to_end(*tps)
        for tp in tps:
            await consumer.position(tp)  # resolved before sending, so the reply cannot be missed
        producer = AIOKafkaProducer(
            bootstrap_servers=bootstrap, enable_idempotence=True, acks="all"
        )
        await producer.start()
        try:
            key = getattr(payload, "user_id", command_id).encode()
            await producer.send_and_wait(commands_topic(s.SUPPORT), data, key=key)
        finally:
            await producer.stop()
        while (left := deadline - time.monotonic()) > 0:
            batches = await consumer.getmany(timeout_ms=int(min(left, 0.5) * 1000))
            for records in batches.values():
                for record in records:
                    env = registry.decode_event(record.value)
                    reply = env.payload
                    if env.correlation_id == command_id and isinstance(
                        reply, CommandAccepted | CommandRejected
                    ):
                        return reply
        return None
    finally:
        await consumer.stop()


def _run(payload: msgspec.Struct, done: str, bootstrap: str, timeout: float, as_json: bool) -> None:
    try:
        reply = asyncio.run(send(bootstrap, payload, timeout))
    except OSError as exc:
        _fail(f"cannot reach Kafka at {bootstrap}: {exc}", 2)
    except Exception as exc:
        if type(exc).__module__.startswith("aiokafka"):
            _fail(f"cannot reach Kafka at {bootstrap}: {exc!r}", 2)
        raise
    if reply is None:
        _fail(
            f"no reply within {timeout:g} s: is the support service (plutarc-support) running?", 2
        )
    if as_json:
        typer.echo(msgspec.json.encode(reply).decode())
        if isinstance(reply, CommandRejected):
            raise typer.Exit(1)
        return
    if isinstance(reply, CommandRejected):
        _fail(f"{reply.code}: {reply.detail}")
    typer.echo(done)


@operators_app.command("grant")
def grant(
    user_id: UserArg,
    bootstrap: BootstrapOpt = "127.0.0.1:9092",
    timeout: TimeoutOpt = 30.0,
    as_json: JsonOpt = False,
) -> None:
    """Make a user a support operator: they see every workspace's tickets and write notes."""
    done = f"{visible(user_id)} is a support operator"
    _run(s.GrantOperator(user_id=user_id), done, bootstrap, timeout, as_json)


@operators_app.command("revoke")
def revoke(
    user_id: UserArg,
    bootstrap: BootstrapOpt = "127.0.0.1:9092",
    timeout: TimeoutOpt = 30.0,
    as_json: JsonOpt = False,
) -> None:
    """Take the support operator role away from a user."""
    done = f"{visible(user_id)} is no longer a support operator"
    _run(s.RevokeOperator(user_id=user_id), done, bootstrap, timeout, as_json)
