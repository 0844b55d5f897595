"""The child process of test_readmodels_catchup.py: `Counting` projections caught up in a process
of their own (`plutarc_runtime.readmodels.catchup.catch_up`), as an API's child would. Reads its
orders as JSON on stdin; `fail` makes it exit 3 after nothing was applied."""

from __future__ import annotations

import asyncio
import json
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).parent))

from plutarc_contracts import default_registry
from plutarc_runtime.readmodels import sqlite_engine
from plutarc_runtime.readmodels.catchup import catch_up
from test_readmodels import Counting


def main() -> int:
    orders = json.loads(sys.stdin.read())
    if orders["fail"]:
        return 3
    engine = sqlite_engine(Path(orders["database"]))
    projections = [Counting(name, orders["topic"]) for name in orders["names"]]
    asyncio.run(
        catch_up(engine, projections, bootstrap=orders["bootstrap"], registry=default_registry())
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
