"""``plutarc audit ...``: for auditors. Verify a store's hash chain, replay a workspace as of an
instant, export the audit log as JSON Lines. Reads the event stores directly and never writes."""

from __future__ import annotations

import json
import sys
from datetime import UTC, datetime
from pathlib import Path
from typing import Annotated, Any, NoReturn

import msgspec
import typer
from plutarc_contracts import default_registry
from plutarc_runtime.settings import RuntimeSettings
from plutarc_runtime.store import EventStore
from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn
from rich.table import Table

audit_app = typer.Typer(no_args_is_help=True, help="Verify, replay and export the audit log.")
err = Console(stderr=True)

ServiceOpt = Annotated[str, typer.Option("--service", help="Whose event store (identity, ...).")]
DataDirOpt = Annotated[
    Path | None,
    typer.Option(
        "--data-dir", help="Where SQLite stores live (default $PLUTARC_DATA_DIR or var/data)."
    ),
]
DbOpt = Annotated[
    str | None,
    typer.Option("--database-url", help="postgresql://... when the store is in PostgreSQL."),
]
JsonOpt = Annotated[bool, typer.Option("--json", help="Machine-readable output.")]


def _fail(message: str, code: int = 1) -> NoReturn:
    err.print(f"[bold red]error:[/] {message}", highlight=False, soft_wrap=True)
    raise typer.Exit(code)


def _instant(value: str | None, name: str) -> datetime | None:
    if value is None:
        return None
    try:
        instant = datetime.fromisoformat(value.replace("Z", "+00:00"))
    except ValueError:
        _fail(f"{name} must be an ISO 8601 instant such as 2026-11-25T10:00:00Z, not {value!r}", 2)
    if instant.tzinfo is None:
        _fail(f"{name} needs a time zone (for example a trailing Z for UTC): {value!r}", 2)
    return instant.astimezone(UTC)


def open_store(service: str, data_dir: Path | None, database_url: str | None) -> EventStore:
    settings = RuntimeSettings()
    url = database_url or settings.database_url
    path = None
    if not url:
        path = (data_dir or settings.data_dir) / f"{service}.sqlite"
        if not path.exists():
            _fail(f"no event store for {service!r} at {path} (use --data-dir or --database-url)")
    return EventStore(
        name=service,
        producer=service,
        registry=default_registry(),
        database_url=url,
        sqlite_path=path,
    )


def _progress(total: int, label: str) -> Progress:
    return Progress(
        TextColumn(f"[bold]{label}"),
        BarColumn(),
        MofNCompleteColumn(),
        TimeElapsedColumn(),
        console=err,
        transient=True,
        disable=not err.is_terminal or total < 50_000,
    )


@audit_app.command()
def verify(
    service: ServiceOpt = "identity",
    data_dir: DataDirOpt = None,
    database_url: DbOpt = None,
    as_json: JsonOpt = False,
) -> None:
    """Check the hash chain of a store; name the first position that does not match."""
    store = open_store(service, data_dir, database_url)
    try:
        total = store.max_notification_id()
        with _progress(total, "verify") as bar:
            task = bar.add_task("verify", total=total)
            result = store.verify(progress=lambda n: bar.update(task, completed=n))
    finally:
        store.close()
    doc = {
        "service": service,
        "ok": result.ok,
        "checked": result.checked,
        "head_position": result.head_id,
        "head_hash": result.head_hash,
        "broken_at": result.broken_at,
        "reason": result.reason,
    }
    if as_json:
        typer.echo(json.dumps(doc))
    elif result.ok:
        err.print(
            f"[green]ok[/]: {result.checked} events of {service} chained; head {result.head_id} {result.head_hash}"
        )
    else:
        err.print(
            f"[bold red]broken[/] at position {result.broken_at}: {result.reason} ({result.checked} events before it verified)"
        )
    if not result.ok:
        raise typer.Exit(3)


def _audit_log(
    service: str, data_dir: Path | None, database_url: str | None
) -> tuple[EventStore, Any]:
    from plutarc_identity.audit import AuditLog

    store = open_store(service, data_dir, database_url)
    return store, AuditLog(store.recorder, default_registry())


@audit_app.command()
def replay(
    workspace: Annotated[str, typer.Option("--workspace", help="Workspace id.")],
    as_of: Annotated[
        str, typer.Option("--as-of", help="ISO 8601 instant, e.g. 2026-11-25T10:00:00Z.")
    ],
    service: ServiceOpt = "identity",
    data_dir: DataDirOpt = None,
    database_url: DbOpt = None,
    as_json: JsonOpt = False,
) -> None:
    """Members, roles, pending invitations and tokens of a workspace as of an instant."""
    instant = _instant(as_of, "--as-of")
    assert instant is not None
    store, log = _audit_log(service, data_dir, database_url)
    try:
        total = store.max_notification_id()
        with _progress(total, "replay") as bar:
            task = bar.add_task("replay", total=total)
            state = log.as_of(workspace, instant, progress=lambda n: bar.update(task, completed=n))
    finally:
        store.close()
    if as_json:
        typer.echo(msgspec.json.encode(state).decode())
        return
    if not state.exists:
        _fail(f"workspace {workspace} did not exist as of {instant.isoformat()}", 4)
    out = Console()
    out.print(
        f"[bold]{state.name}[/] ({workspace}) as of {instant.isoformat()}"
        + (" [red]archived[/]" if state.archived else "")
    )
    members = Table("member", "email", "role", title="members")
    for m in state.members:
        members.add_row(m.user_id, m.email or "", m.role)
    out.print(members)
    invitations = Table("invitation", "email", "role", "expires", title="pending invitations")
    for i in state.pending_invitations:
        invitations.add_row(i.invitation_id, i.email, i.role, i.expires_at.isoformat())
    out.print(invitations)
    tokens = Table("token", "holder", "name", "permissions", "expires", title="active API tokens")
    for t in state.active_tokens:
        tokens.add_row(
            t.token_id, t.user_id, t.name, ", ".join(t.permissions), t.expires_at.isoformat()
        )
    out.print(tokens)


@audit_app.command()
def export(
    workspace: Annotated[
        str | None, typer.Option("--workspace", help="Only this workspace.")
    ] = None,
    since: Annotated[
        str | None, typer.Option("--since", help="Only entries at or after this instant.")
    ] = None,
    actor: Annotated[
        str | None, typer.Option("--actor", help="Only this actor, e.g. user:<id>.")
    ] = None,
    output: Annotated[
        Path | None, typer.Option("--output", "-o", help="Write here instead of stdout.")
    ] = None,
    service: ServiceOpt = "identity",
    data_dir: DataDirOpt = None,
    database_url: DbOpt = None,
) -> None:
    """The audit log as JSON Lines: one entry per line, stable field names."""
    start = _instant(since, "--since")
    store, log = _audit_log(service, data_dir, database_url)
    encoder = msgspec.json.Encoder()
    sink = output.open("wb") if output else sys.stdout.buffer
    count = 0
    try:
        total = store.max_notification_id()
        with _progress(total, "export") as bar:
            task = bar.add_task("export", total=total)
            for entry in log.entries(
                workspace_id=workspace,
                since=start,
                actor=actor,
                progress=lambda n: bar.update(task, completed=n),
            ):
                sink.write(encoder.encode(entry) + b"\n")
                count += 1
    finally:
        store.close()
        if output:
            sink.close()
        else:
            sink.flush()
    err.print(f"{count} entries exported", highlight=False)
