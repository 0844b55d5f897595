"""A terminal for the CLI tests (cli/tests) against the running platform: logged in with a
token, in a workspace, running `plutarc` in-process (no traceback may escape)."""

from __future__ import annotations

import asyncio
import json
from pathlib import Path
from typing import Any

from click.testing import Result
from plutarc_cli.client import Credentials
from plutarc_cli.main import app
from typer.testing import CliRunner


class Term:
    """One terminal; `prefix` is put before every command (`support` for `plutarc support ...`)."""

    def __init__(
        self, home: Path, base_url: str, token: str, workspace_id: str, *prefix: str
    ) -> None:
        self.home, self.prefix = home, list(prefix)
        self.env = {"XDG_CONFIG_HOME": str(home / "config"), "PLUTARC_API_URL": base_url}
        path = home / "config" / "plutarc" / "credentials.json"
        Credentials(api_url=base_url, token=token, workspace_id=workspace_id).save(path)

    def file(self, name: str, value: Any) -> str:
        """A file in this terminal's home holding `value` (a string as it is, else JSON)."""
        path = self.home / name
        path.write_text(value if isinstance(value, str) else json.dumps(value))
        return str(path)

    async def __call__(self, *args: str, input: str | None = None) -> Result:
        result = await asyncio.to_thread(
            CliRunner().invoke, app, [*self.prefix, *args], input=input, env=self.env
        )
        assert result.exception is None or isinstance(result.exception, SystemExit), (
            f"a traceback escaped: {result.exception!r}\n{result.output}"
        )
        assert "Traceback" not in result.output
        return result

    async def ok(self, *args: str, input: str | None = None) -> Result:
        result = await self(*args, input=input)
        assert result.exit_code == 0, f"{args}: exit {result.exit_code}\n{result.output}"
        return result

    async def json(self, *args: str, input: str | None = None) -> Any:
        return json.loads((await self.ok(*args, "--json", input=input)).stdout)
