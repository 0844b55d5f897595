"""The plutarc command line."""

import typer

from plutarc_cli.kafka_cmd import kafka_app

app = typer.Typer(no_args_is_help=True, help="Operate the plutarc platform.")
app.add_typer(kafka_app, name="kafka")


@app.command()
def version() -> None:
    """Print the version."""
    typer.echo("plutarc 0.1.0")
