"""The plutarc command line."""

import typer

app = typer.Typer(no_args_is_help=True, help="Operate the plutarc platform.")


@app.command()
def version() -> None:
    """Print the version."""
    typer.echo("plutarc 0.1.0")
