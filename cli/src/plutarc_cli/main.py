"""The plutarc command line."""

import typer

from plutarc_cli.audit_cmd import audit_app
from plutarc_cli.bot_cmd import bot_app
from plutarc_cli.bots_cmd import bots_app, strategies_app
from plutarc_cli.client_cmd import (
    accept,
    invite,
    login,
    logout,
    members,
    org_app,
    register,
    role,
    switch,
    workspaces,
)
from plutarc_cli.compute_cmd import host, hosts, sleep_policy_app, usage, wake
from plutarc_cli.exchange_cmd import connections_app, fills, orders_app, pnl, positions
from plutarc_cli.kafka_cmd import kafka_app
from plutarc_cli.log_cmd import log
from plutarc_cli.support_cmd import support_app
from plutarc_cli.up import up

app = typer.Typer(no_args_is_help=True, help="Operate the plutarc platform.")
app.add_typer(kafka_app, name="kafka")
audit_app.command("log")(log)
app.add_typer(audit_app, name="audit")
app.command()(up)
app.command()(login)
app.command()(logout)
app.command()(register)
app.command()(workspaces)
app.command()(switch)
app.command()(members)
app.command()(invite)
app.command()(accept)
app.command()(role)
app.add_typer(org_app, name="org")
app.add_typer(support_app, name="support")
app.add_typer(strategies_app, name="strategies")
app.add_typer(bots_app, name="bots")
app.add_typer(bot_app, name="bot")
app.add_typer(connections_app, name="connections")
app.add_typer(orders_app, name="orders")
app.command()(fills)
app.command()(positions)
app.command()(pnl)
app.command()(hosts)
app.command()(host)
app.command()(wake)
app.command()(usage)
app.add_typer(sleep_policy_app, name="sleep-policy")


@app.command()
def version() -> None:
    """Print the version."""
    typer.echo("plutarc 0.1.0")
