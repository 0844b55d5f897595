"""``plutarc audit ...``: for auditors, of any service. Verify a store's hash chain, replay a
workspace as of an instant, export the audit log as JSON Lines. Reads the event stores directly and
never writes. What a service's events mean (secret fields, the as-of fold) comes from the contracts
(`plutarc_runtime.audit`); no service package is imported."""

from __future__ import annotations

import json
import re
import sys
from datetime import UTC, datetime
from pathlib import Path
from typing import Annotated, Any, NoReturn
from urllib.parse import urlparse

import msgspec
import typer
from plutarc_contracts import ContractError, Registry, default_registry
from plutarc_runtime.audit import AuditReader, NoAsOfFold
from plutarc_runtime.settings import RuntimeSettings
from plutarc_runtime.store import EventStore
from plutarc_runtime.text import json_visible, visible
from rich.console import Console
from rich.markup import escape
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn
from rich.table import Table

audit_app = typer.Typer(
    no_args_is_help=True,
    help="The audit log: verify, replay and export a service's store on this machine; "
    "`log` reads (and follows) a workspace's from the API.",
)
err = Console(stderr=True)

ServiceOpt = Annotated[
    str, typer.Option("--service", help="Whose event store: a service's name (identity, ...).")
]
ContextOpt = Annotated[
    str | None,
    typer.Option(
        "--context",
        help="The bounded context of the service's events, when it is not the service's name "
        "(default: the name, with - read as _).",
    ),
]
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


def _shown(value: object) -> str:
    """Text from a store (names, emails, details people typed), safe to print: control and format
    characters escaped visibly (`\\x1b`), rich markup in it printed as it is."""
    return escape(visible(str(value)))


def _fail(message: str, code: int = 1) -> NoReturn:
    err.print(f"[bold red]error:[/] {_shown(message)}", highlight=False, soft_wrap=True)
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


SERVICE_RE = re.compile(r"[a-z][a-z0-9]*(?:[_-][a-z0-9]+)*")


def _where(url: str) -> str:
    """Where a database is, without the credentials in its URL."""
    parts = urlparse(url)
    return f"{parts.hostname or '127.0.0.1'}:{parts.port or 5432}{parts.path}"


def open_store(service: str, data_dir: Path | None, database_url: str | None) -> EventStore:
    """Open a service's existing store, creating nothing; exit 2 if there is none."""
    if not SERVICE_RE.fullmatch(service):
        _fail(
            f"--service must be a service name such as identity (lower-case words joined by _ or "
            f"-), not {service!r}",
            2,
        )
    settings = RuntimeSettings()
    url = database_url or settings.database_url
    path = None
    if not url:
        path = (data_dir or settings.data_dir) / f"{service}.sqlite"
        if not path.exists():
            _fail(f"no event store for {service!r} at {path} (use --data-dir or --database-url)", 2)
    try:
        store = EventStore(
            name=service,
            producer=service,
            registry=default_registry(),
            database_url=url,
            sqlite_path=path,
            create_tables=False,
        )
    except ValueError as exc:  # a URL that is not postgresql://
        _fail(str(exc), 2)
    try:
        store.max_notification_id()
    except Exception as exc:
        store.close()
        where = _where(url) if url else str(path)
        _fail(f"no readable event store for {service!r} at {where}: {exc}".strip(), 2)
    return store


def _reader(store: EventStore, service: str, context: str | None) -> AuditReader:
    """A reader of the service's events, if the contracts know its context (else exit 2)."""
    ctx = context or service.replace("-", "_")
    registry: Registry = store.registry
    if not any(registry.context_of(name) == ctx for name in registry.event_names()):
        store.close()
        _fail(
            f"the contracts declare no `{ctx}` events, so the store of {service!r} cannot be "
            "read (is --context right?)",
            2,
        )
    return AuditReader(store, context=ctx)


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
            f"[bold red]broken[/] at position {result.broken_at}: {_shown(result.reason)} ({result.checked} events before it verified)"
        )
    if not result.ok:
        raise typer.Exit(3)


@audit_app.command()
def replay(
    workspace: Annotated[str, typer.Option("--workspace", help="Workspace id.")],
    as_of: Annotated[
        str, typer.Option("--as-of", help="ISO 8601 instant, e.g. 2026-11-25T10:00:00Z.")
    ],
    service: ServiceOpt = "identity",
    context: ContextOpt = None,
    data_dir: DataDirOpt = None,
    database_url: DbOpt = None,
    as_json: JsonOpt = False,
) -> None:
    """A workspace's state as of an instant, from the fold its service's contracts register
    (identity: members and roles, pending invitations, live API tokens)."""
    instant = _instant(as_of, "--as-of")
    assert instant is not None
    store = open_store(service, data_dir, database_url)
    reader = _reader(store, service, context)
    try:
        total = store.max_notification_id()
        with _progress(total, "replay") as bar:
            task = bar.add_task("replay", total=total)
            state = reader.as_of(
                workspace, instant, progress=lambda n: bar.update(task, completed=n)
            )
    except NoAsOfFold as exc:
        _fail(str(exc), 2)
    except ContractError as exc:
        _fail(f"{exc} (run `plutarc audit verify`)")
    finally:
        store.close()
    if as_json:
        typer.echo(json_visible(msgspec.json.encode(state).decode()))
        return
    if getattr(state, "exists", True) is False:
        _fail(f"workspace {workspace} did not exist as of {instant.isoformat()}", 4)
    _print_state(state)


def _cell(value: Any) -> str:
    if isinstance(value, list):
        return ", ".join(_cell(v) for v in value)
    return "" if value is None else _shown(value)


def _print_state(state: msgspec.Struct) -> None:
    """Any fold's result: its plain fields, then one table per list of records."""
    out = Console()
    info = msgspec.inspect.type_info(type(state))
    assert isinstance(info, msgspec.inspect.StructType)
    data = msgspec.to_builtins(state)
    plain = Table.grid(padding=(0, 2))
    tables = []
    for field in info.fields:
        kind = field.type
        if isinstance(kind, msgspec.inspect.ListType) and isinstance(
            kind.item_type, msgspec.inspect.StructType
        ):
            columns = [f.encode_name for f in kind.item_type.fields]
            table = Table(*columns, title=field.encode_name.replace("_", " "))
            for row in data[field.encode_name]:
                table.add_row(*(_cell(row[c]) for c in columns))
            tables.append(table)
        else:
            plain.add_row(f"[bold]{field.encode_name}[/]", _cell(data[field.encode_name]))
    out.print(plain)
    for table in tables:
        out.print(table)


@audit_app.command()
def export(
    workspace: Annotated[
        str | None, typer.Option("--workspace", help="Only this workspace.")
    ] = None,
    since: Annotated[
        str | None, typer.Option("--since", help="Only entries at or after this instant.")
    ] = None,
    until: Annotated[
        str | None, typer.Option("--until", help="Only entries at or before this instant.")
    ] = None,
    actor: Annotated[
        str | None, typer.Option("--actor", help="Only this actor, e.g. user:<id>.")
    ] = None,
    output: Annotated[
        Path | None, typer.Option("--output", "-o", help="Write here instead of stdout.")
    ] = None,
    service: ServiceOpt = "identity",
    context: ContextOpt = None,
    data_dir: DataDirOpt = None,
    database_url: DbOpt = None,
) -> None:
    """The audit log as JSON Lines: one entry per line, stable field names, secrets redacted."""
    start = _instant(since, "--since")
    end = _instant(until, "--until")
    if start is not None and end is not None and start > end:
        _fail(f"--since ({since}) is after --until ({until})", 2)
    store = open_store(service, data_dir, database_url)
    reader = _reader(store, service, context)
    encoder = msgspec.json.Encoder()
    count = 0
    try:
        sink = output.open("wb") if output else sys.stdout.buffer
    except OSError as exc:
        store.close()
        _fail(f"cannot write {output}: {exc.strerror}", 2)
    try:
        total = store.max_notification_id()
        with _progress(total, "export") as bar:
            task = bar.add_task("export", total=total)
            for entry in reader.entries(
                workspace_id=workspace,
                actor=actor,
                since=start,
                until=end,
                progress=lambda n: bar.update(task, completed=n),
            ):
                line = encoder.encode(entry)
                if not line.isascii() or b"\x7f" in line:  # may hold what a terminal acts on
                    line = json_visible(line.decode()).encode()
                sink.write(line + b"\n")
                count += 1
    except ContractError as exc:
        _fail(f"{exc}; {count} entries exported before it (run `plutarc audit verify`)")
    finally:
        store.close()
        if output:
            sink.close()
        else:
            sink.flush()
    err.print(f"{count} entries exported", highlight=False)
