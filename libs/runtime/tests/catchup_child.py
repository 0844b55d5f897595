"""The child process of test_readmodels_catchup.py: `Counting` projections caught up in a process
of their own (`plutarc_runtime.readmodels.catchup.catch_up_split`), as an API's child would. Reads
its orders as JSON on stdin: `processes` spreads them over that many processes; `fail` makes it
exit 3 after nothing was applied; `crash` names a projection whose process dies (exit 5) as it
applies its first batch; `url`, when set, names a PostgreSQL database to use instead of the SQLite
file `database`."""

from __future__ import annotations

import json
import os
import sys
from collections.abc import Sequence
from pathlib import Path

sys.path.insert(0, str(Path(__file__).parent))

from plutarc_contracts import Envelope, default_registry
from plutarc_runtime.readmodels import open_engine
from plutarc_runtime.readmodels.catchup import catch_up_split
from sqlalchemy.engine import Connection
from test_readmodels import Counting


class Crashing(Counting):
    def apply(self, conn: Connection, events: Sequence[Envelope]) -> None:
        os._exit(5)


def main() -> int:
    orders = json.loads(sys.stdin.read())
    if orders["fail"]:
        return 3
    projections = [
        (Crashing if name == orders.get("crash") else Counting)(name, orders["topic"])
        for name in orders["names"]
    ]
    catch_up_split(
        lambda: open_engine(orders.get("url"), Path(orders["database"])),
        projections,
        bootstrap=orders["bootstrap"],
        registry=default_registry(),
        processes=orders.get("processes", 1),
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
